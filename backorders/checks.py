"""System checks for the app's settings and for how the project runs it."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from backorders.conf import DEFAULTS


@register(Tags.compatibility)
def check_backorders_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """Refuse unknown keys in ``settings.BACKORDERS``: a typo must not silently mean the default."""
    configured = getattr(settings, "BACKORDERS", {})
    if not isinstance(configured, dict):
        return [Error("settings.BACKORDERS must be a dict.", id="backorders.E001")]
    return [
        Error(
            f"settings.BACKORDERS has an unknown key {key!r}.",
            hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
            id="backorders.E002",
        )
        for key in sorted(set(configured) - set(DEFAULTS))
    ]


@register(Tags.compatibility)
def check_celery_broker(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when tasks run in-process outside DEBUG: fine for the demo, wrong in production."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) and not settings.DEBUG:
        return [
            Warning(
                "Celery tasks run in-process because CELERY_BROKER_URL is not set.",
                hint="Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) and run a worker and beat.",
                id="backorders.W001",
            )
        ]
    return []
