from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackordersConfig(AppConfig):
    name = "backorders"
    label = "backorders"
    verbose_name = _("Backorders")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks, and connects anymail's tracking signal to the outbox.
        from backorders import checks, receivers  # noqa: F401
