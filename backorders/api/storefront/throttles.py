"""The storefront API's per-IP request limit.

DRF's ``SimpleRateThrottle`` on Django's default cache: with Redis as that cache every gunicorn
process and every machine counts against the same number; with the local-memory cache (the demo)
each process counts for itself. The client's address is DRF's ``get_ident``: REMOTE_ADDR, or the
address ``REST_FRAMEWORK["NUM_PROXIES"]`` trusted proxies put in X-Forwarded-For (the project
sets it from the environment; left unset, DRF would trust the whole header, which a client writes
itself).
"""

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from backorders.conf import get_setting


class StorefrontRateThrottle(SimpleRateThrottle):
    """At most ``STOREFRONT_RATE`` requests per client IP; over it, 429 with ``Retry-After``."""

    scope = "storefront"

    def get_rate(self) -> str | None:
        # The app's own setting, read live (override_settings works), not DRF's THROTTLE_RATES:
        # a host project need not configure DRF for the app's API to be limited.
        return get_setting("STOREFRONT_RATE")

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
