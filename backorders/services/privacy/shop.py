"""A whole shop's erasure (the platform's shop redact, 48 h after an uninstall)."""

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from backorders.models import Shop

logger = logging.getLogger(__name__)


class ShopRedactRefused(Exception):
    """A shop redact that must not be obeyed (the shop is connected, or the request is older than
    its uninstall): nothing was deleted. The message says why, for the owner."""


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@transaction.atomic
def shop_redact(*, shop: Shop, requested_at: datetime | None = None) -> int:
    """Delete all of the shop's data, the Shop row itself included (no tombstone: the owner's
    address and the shop's settings are its data too). Sent by the platform 48 h after the app
    was uninstalled; ``requested_at`` is the platform's time of the request (None: now).
    Afterwards the shop's webhooks are refused as from an unknown shop (its privacy webhooks are
    answered 200: nothing is left to erase), and a reinstall starts from nothing
    (``backorders_add_shop``). Returns the number of rows deleted (0: already erased).

    Obeyed only for a shop that is still uninstalled, and only if the request came after that
    uninstall: a shop redact's body is the same every time, so a late or replayed one from before
    a reconnection would otherwise erase a shop in use. Such a request deletes nothing and raises
    ``ShopRedactRefused``. The shop's row is locked first, so that a reconnection
    (``shops.shop_connect``) and an erasure cannot interleave."""
    requested_at = requested_at or timezone.now()
    locked = Shop.objects.select_for_update().filter(pk=shop.pk).first()
    if locked is None:
        return 0
    if locked.is_active:
        raise ShopRedactRefused(
            f"Nothing deleted: the shop is connected (since {_when(locked.connected_at)}), and only "
            f"an uninstalled shop is erased. This request of {_when(requested_at)} is a late or "
            "replayed one from an earlier uninstall, or the uninstall notice has not arrived yet."
        )
    if locked.uninstalled_at is None:
        raise ShopRedactRefused(
            "Nothing deleted: the shop was made inactive by hand, and the platform's notice of the "
            "uninstall has not arrived. Once it is processed, process this request again."
        )
    if requested_at <= locked.uninstalled_at or requested_at <= locked.connected_at:
        raise ShopRedactRefused(
            f"Nothing deleted, a late or replayed shop redact: requested at {_when(requested_at)}, "
            f"before the shop's latest uninstall ({_when(locked.uninstalled_at)}). The platform "
            "sends a new one 48 h after the latest uninstall."
        )
    domain = locked.domain
    deleted, _ = Shop.objects.filter(pk=locked.pk).delete()
    logger.info("shop %s redacted: %d rows deleted", domain, deleted)
    return deleted
