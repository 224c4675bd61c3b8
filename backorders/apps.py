from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackordersConfig(AppConfig):
    name = "backorders"
    label = "backorders"
    verbose_name = _("Backorders")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks, connects anymail's tracking signal to the outbox, and
        # registers the platform adapters with the core's webhook registry.
        from backorders import checks, receivers  # noqa: F401
        from backorders.platforms import shopify

        shopify.register()
