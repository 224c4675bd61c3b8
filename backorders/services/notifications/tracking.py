"""After a message left: the provider's tracking events, and the addresses a shop must not email.

``email_delivery_record`` applies the provider's tracking events (anymail's ``tracking`` signal,
see ``backorders.receivers``); hard bounces and complaints suppress the address, so later emails
to it are recorded as ``suppressed`` and not sent. ``suppression_add`` and ``suppression_remove``
are also what the owner's admin and the unsubscribe page call.
"""

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backorders.models import Notification, Shop, Suppression


def suppression_add(
    *,
    shop: Shop,
    email: str,
    reason: str,
    detail: str = "",
    notification: Notification | None = None,
) -> Suppression:
    """Stop emailing ``email`` for ``shop`` (every kind, or optional kinds for an unsubscribe).
    Adding the same suppression twice keeps the first."""
    email = email.strip().lower()
    existing = Suppression.objects.filter(shop=shop, email=email, reason=reason).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Suppression.objects.create(
                shop=shop, email=email, reason=reason, detail=detail[:500], notification=notification
            )
    except IntegrityError:  # a concurrent identical suppression won
        return Suppression.objects.get(shop=shop, email=email, reason=reason)


@transaction.atomic
def suppression_remove(*, suppression: Suppression) -> None:
    """Email the address again (the customer fixed their mailbox, or asked to be mailed again);
    their failed emails can then be resent from the outbox."""
    Suppression.objects.filter(pk=suppression.pk).delete()


# Later tracking events never overwrite a more telling one (an "opened" after "bounced" is noise).
_DELIVERY_RANK = {
    "queued": 1,
    "sent": 1,
    "deferred": 2,
    "delivered": 3,
    "autoresponded": 3,
    "opened": 4,
    "clicked": 5,
    "unsubscribed": 6,
    "failed": 7,
    "rejected": 7,
    "bounced": 8,
    "complained": 9,
}
_SUPPRESS_ALL = {"bounced": Suppression.Reason.BOUNCED, "complained": Suppression.Reason.COMPLAINED}
_SUPPRESSING_REJECTS = {"invalid", "bounced", "spam", "timed_out"}


def email_delivery_record(
    *,
    event_type: str,
    recipient: str = "",
    message_id: str = "",
    metadata: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
    reject_reason: str = "",
    description: str = "",
) -> Notification | None:
    """Apply one provider tracking event (anymail's normalised fields) to the row it is about,
    found by our metadata (``notification``) or else by the provider's message id. A hard bounce,
    a complaint or a rejection for a bad address suppresses the address for the row's shop; an
    unsubscribe at the provider suppresses optional emails. Events for messages that are not
    ours are ignored (None)."""
    metadata = metadata or {}
    notification = None
    pk = str(metadata.get("notification", ""))
    if pk.isdigit():
        notification = Notification.objects.select_related("shop").filter(pk=int(pk)).first()
    if notification is None and message_id:
        notification = Notification.objects.select_related("shop").filter(message_id=str(message_id)).first()
    if notification is None:
        return None
    rank = _DELIVERY_RANK.get(event_type, 0)
    if rank and rank >= _DELIVERY_RANK.get(notification.delivery_status, 0):
        notification.delivery_status = event_type
        notification.delivery_at = timestamp or timezone.now()
        notification.delivery_detail = (description or reject_reason or "")[:500]
        Notification.objects.filter(pk=notification.pk).update(
            delivery_status=notification.delivery_status,
            delivery_at=notification.delivery_at,
            delivery_detail=notification.delivery_detail,
            updated_at=timezone.now(),
        )
    address = recipient or notification.recipient
    reason = _SUPPRESS_ALL.get(event_type)
    if event_type == "rejected" and reject_reason in _SUPPRESSING_REJECTS:
        reason = Suppression.Reason.BOUNCED
    if event_type == "unsubscribed":
        reason = Suppression.Reason.UNSUBSCRIBED
    if reason:
        suppression_add(
            shop=notification.shop,
            email=address,
            reason=reason,
            detail=(description or reject_reason or event_type)[:500],
            notification=notification,
        )
    return notification


__all__ = ["email_delivery_record", "suppression_add", "suppression_remove"]
