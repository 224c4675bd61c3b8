"""Webhook signatures, and the tally of refused webhook requests.

The platform signs the raw body bytes: base64 of HMAC-SHA256 keyed with the app's client secret
(or a custom app's own secret). The signature is checked on exactly the bytes received, never on
re-serialised JSON, and compared in constant time.

Refused requests are counted per reason in Django's cache (shared by every process when the
cache is shared, e.g. Redis; per process with the default local-memory cache) and logged. They are
never rows: a flood of forged requests must not be able to fill the database.
"""

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

REJECTION_REASONS = (
    "missing_header",  # a required header is absent
    "too_large",  # body over WEBHOOK_MAX_BODY_BYTES
    "unknown_shop",  # no shop with that domain
    "no_secret",  # neither the shop nor the app has a secret configured
    "bad_signature",  # the HMAC does not match any accepted secret
    "inactive_shop",  # the shop uninstalled the app (privacy topics are still accepted)
    "not_json_object",  # signed, but the body is not a JSON object (recorded as a rejected delivery)
    "too_deep",  # signed, but nested deeper than bodies.MAX_NESTING (recorded as a rejected delivery)
)
_CACHE_PREFIX = "backorders:webhooks:rejected:"


def webhook_signature(*, secret: str, body: bytes) -> str:
    """The platform's signature of ``body``: base64 of HMAC-SHA256 keyed with ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def app_secrets() -> tuple[str, str]:
    """The app's current and previous client secret (``SHOPIFY_API_SECRET``,
    ``SHOPIFY_API_SECRET_PREVIOUS``), each ``""`` when the host project does not set it: the only
    reader of these settings, so that a project without them gets a clear refusal, never a 500."""
    return (
        getattr(settings, "SHOPIFY_API_SECRET", "") or "",
        getattr(settings, "SHOPIFY_API_SECRET_PREVIOUS", "") or "",
    )


def webhook_secrets(*, shop_secret: str = "") -> list[str]:
    """The secrets that may have signed a shop's webhooks: the shop's own when it has one (a custom
    app), else the app's current and previous secret (the platform keeps signing with the old one
    for a while after a rotation). Empty secrets never count: a signature keyed with "" proves
    nothing."""
    if shop_secret:
        return [shop_secret]
    return [secret for secret in app_secrets() if secret]


def webhook_signature_valid(*, body: bytes, signature: str, secrets: Iterable[str]) -> bool:
    """Whether ``signature`` is the signature of ``body`` under one of ``secrets``."""
    given = signature.strip().encode("utf-8")
    # No early exit: every secret is tried, so timing does not tell which one matched.
    matched = False
    for secret in secrets:
        if secret and hmac.compare_digest(webhook_signature(secret=secret, body=body).encode("ascii"), given):
            matched = True
    return matched


def rejection_record(*, reason: str, shop_domain: str = "", topic: str = "") -> None:
    """Count and log one refused webhook request (never fails the request it is about)."""
    logger.warning("webhook refused: %s (shop %.100r, topic %.100r)", reason, shop_domain, topic)
    key = _CACHE_PREFIX + reason
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key)
    except Exception:  # a cache outage must not turn a 401 into a 500
        logger.exception("could not count a refused webhook request")


def rejection_counts() -> dict[str, int]:
    """Refused webhook requests per reason since the cache was last cleared."""
    try:
        found = cache.get_many([_CACHE_PREFIX + reason for reason in REJECTION_REASONS])
    except Exception:
        logger.exception("could not read the refused-webhook counters")
        found = {}
    return {reason: int(found.get(_CACHE_PREFIX + reason) or 0) for reason in REJECTION_REASONS}
