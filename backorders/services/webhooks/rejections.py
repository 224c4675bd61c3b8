"""Counting refused webhook requests (read by ``selectors.webhooks.webhook_rejection_counts``).

Every platform's endpoint records its refusals here, in the cache, never as rows (see the
selector's module docstring for why).
"""

import logging

from django.core.cache import cache

from backorders.selectors.webhooks import REJECTION_REASONS, rejection_cache_key

logger = logging.getLogger(__name__)


def webhook_rejection_record(*, reason: str, shop_domain: str = "", topic: str = "") -> None:
    """Count and log one refused webhook request; ``reason`` is one of ``REJECTION_REASONS``
    (another raises ``ValueError``: a counter nobody reads is a bug). A cache outage is logged and
    never fails the request the refusal is about."""
    if reason not in REJECTION_REASONS:
        raise ValueError(f"Unknown webhook rejection reason {reason!r}: add it to REJECTION_REASONS.")
    logger.warning("webhook refused: %s (shop %.100r, topic %.100r)", reason, shop_domain, topic)
    key = rejection_cache_key(reason)
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key)
    except Exception:  # a cache outage must not turn a 401 into a 500
        logger.exception("could not count a refused webhook request")
