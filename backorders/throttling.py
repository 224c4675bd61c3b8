"""Request throttles of the app's public endpoints, on Django's cache.

``AlertSignupIPThrottle`` limits restock-alert sign-ups per client IP (``ALERT_SIGNUPS_PER_IP``,
DRF's rate syntax such as ``"20/hour"``). A DRF view lists it in ``throttle_classes`` (DRF then
answers 429 with ``Retry-After``); a plain Django view calls ``throttle_check`` and answers 429
itself. The count lives in Django's default cache: with several web processes that must be a
shared cache (Redis), or each process counts alone. The client IP is DRF's
(``REMOTE_ADDR``, or the ``X-Forwarded-For`` entry ``NUM_PROXIES`` from the right).
"""

from typing import Any

from rest_framework.throttling import SimpleRateThrottle

from backorders.conf import get_setting


class AlertSignupIPThrottle(SimpleRateThrottle):
    """Restock-alert sign-ups per client IP, at the rate ``ALERT_SIGNUPS_PER_IP`` (None: none)."""

    scope = "backorders_alert_signup"

    def get_rate(self) -> str | None:
        return get_setting("ALERT_SIGNUPS_PER_IP")

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def throttle_check(request: Any) -> int | None:
    """Count this request against the per-IP sign-up rate: None when it may go on, else the
    seconds to wait (for ``Retry-After``; at least 1). For views that are not DRF's."""
    throttle = AlertSignupIPThrottle()
    if throttle.allow_request(request, None):
        return None
    wait = throttle.wait()
    return max(1, int(wait + 0.999)) if wait is not None else 1
