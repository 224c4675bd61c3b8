"""System checks for the app's settings and for how the project runs it."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import transaction

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


def _shops_have_own_secrets() -> bool | None:
    """Whether any shop has its own webhook secret; None when the shops cannot be read (checks
    also run before the first ``migrate``, when the table does not exist yet)."""
    from backorders.models import Shop

    try:
        with transaction.atomic():  # a savepoint: a failed query must not doom a caller's transaction
            return Shop.objects.exclude(webhook_secret="").exists()
    except Exception:  # no table yet, no database reachable, or database access not allowed here
        return None


# A deployment check (``manage.py check --deploy``): development commands (makemigrations, the
# test suite) need no secret, a server that receives webhooks does.
@register(Tags.security, deploy=True)
def check_webhook_secret(app_configs: Any = None, **kwargs: Any) -> list:
    """Refuse to deploy without any webhook secret: every platform webhook would be refused."""
    from backorders.platforms.shopify.verification import app_secrets

    if any(app_secrets()) or _shops_have_own_secrets():
        return []
    return [
        Error(
            "No webhook secret is configured: every platform webhook would be refused (401 no_secret).",
            hint="Set SHOPIFY_API_SECRET to the platform app's client secret, or give every shop its own "
            "webhook secret (manage.py backorders_add_shop DOMAIN --secret ...; this check can read "
            "the shops only once the database is migrated).",
            id="backorders.E003",
        )
    ]


def _configured_beat_tasks() -> set[str]:
    """The task names in beat's schedule: the CELERY_BEAT_SCHEDULE setting and the Celery app's."""
    from celery import current_app

    entries: list[Any] = []
    for schedule in (getattr(settings, "CELERY_BEAT_SCHEDULE", None), current_app.conf.beat_schedule):
        if isinstance(schedule, dict):
            entries.extend(schedule.values())
    return {entry.get("task", "") for entry in entries if isinstance(entry, dict)}


@register(Tags.compatibility)
def check_beat_schedule(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when beat would not run the app's periodic tasks: without the sweepers, a task whose
    broker publish was lost is never retried."""
    from backorders.beat import periodic_task_names

    missing = sorted(periodic_task_names() - _configured_beat_tasks())
    if not missing:
        return []
    return [
        Warning(
            f"Celery beat's schedule lacks the app's periodic task(s): {', '.join(missing)}.",
            hint="Merge the app's schedule into yours: "
            "CELERY_BEAT_SCHEDULE = {**backorders.beat.beat_schedule(), ...} (see backorders/beat.py). "
            "With a database scheduler (django-celery-beat), add these tasks there and silence "
            "backorders.W002.",
            id="backorders.W002",
        )
    ]
