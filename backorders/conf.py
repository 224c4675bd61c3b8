"""The app's settings: ``settings.BACKORDERS`` is a dict; this module is its only reader.

Every name the app understands is in ``DEFAULTS`` with its meaning. ``get_setting`` reads
``settings.BACKORDERS`` live, so ``override_settings`` works in tests; an unknown name is an error
(a typo would otherwise silently fall back to the default). Per-shop values (handling days,
thresholds, from address) live on the Shop row and use these as their defaults.
"""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Days from stock arrival to shipping, when neither variant nor product nor shop says otherwise.
    "DEFAULT_HANDLING_DAYS": 1,
    # Days a restock takes when no manual ETA is set; None = unknown (no estimate shown).
    "DEFAULT_RESTOCK_LEAD_DAYS": None,
    # A variant with this many units or fewer available shows "only N left".
    "DEFAULT_LOW_STOCK_THRESHOLD": 3,
    # How many times a transaction that hit a deadlock or serialization failure is retried.
    "TRANSACTION_RETRIES": 5,
    # Domain suffix a shop's platform domain must end with; "" accepts any valid host name.
    "SHOP_DOMAIN_SUFFIX": "",
}


class UnknownSetting(KeyError):
    """A name that is not in DEFAULTS was asked for."""


def get_setting(name: str) -> Any:
    """Return ``settings.BACKORDERS[name]`` if set, else its documented default."""
    if name not in DEFAULTS:
        raise UnknownSetting(f"BACKORDERS has no setting named {name!r}; known: {', '.join(sorted(DEFAULTS))}.")
    return getattr(settings, "BACKORDERS", {}).get(name, DEFAULTS[name])
