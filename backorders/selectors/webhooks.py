"""Webhook reads for the owner: the tally of refused webhook requests.

Refused requests are counted per reason in Django's cache (``services.webhooks.rejections``
records them): shared by every process when the cache is shared (e.g. Redis), per process with
the default local-memory cache. They are never rows: a flood of forged requests must not be able
to fill the database. The reasons and the counters' keys are defined here, where they are read.
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

REJECTION_REASONS = (
    "missing_header",  # a required header is absent
    "too_large",  # body over WEBHOOK_MAX_BODY_BYTES
    "unknown_shop",  # no shop with that domain
    "no_secret",  # neither the shop nor the app has a secret configured
    "bad_signature",  # the signature does not match any accepted secret
    "inactive_shop",  # the shop uninstalled the app (privacy topics are still accepted)
    "not_json_object",  # signed, but the body is not a JSON object (recorded as a rejected delivery)
    "too_deep",  # signed, but nested deeper than bodies.MAX_NESTING (recorded as a rejected delivery)
)
"""Why a webhook request was refused; each is counted (an endpoint may refuse for no other)."""


def rejection_cache_key(reason: str) -> str:
    """The cache key of the counter for ``reason``."""
    return f"backorders:webhooks:rejected:{reason}"


def webhook_rejection_counts() -> dict[str, int]:
    """Refused webhook requests per reason (every one of ``REJECTION_REASONS``, 0 when none) since
    the cache was last cleared. A cache outage reads as no refusals (logged), never an error."""
    try:
        found = cache.get_many([rejection_cache_key(reason) for reason in REJECTION_REASONS])
    except Exception:
        logger.exception("could not read the refused-webhook counters")
        found = {}
    return {reason: int(found.get(rejection_cache_key(reason)) or 0) for reason in REJECTION_REASONS}
