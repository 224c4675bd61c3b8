"""The owner's side of the outbox: resending, fresh self-service links, the daily digest."""

from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from backorders.models import Backorder, Notification, Order, Shop, WebhookDelivery
from backorders.selectors.suppressions import address_suppressed
from backorders.services.audit import Actor
from backorders.services.notifications.batch import Batch
from backorders.services.notifications.planning import iso_date, notification_language

Kind = Notification.Kind


# --- Owner actions and periodic planning -----------------------------------------------------


@transaction.atomic
def notification_resend(*, notification: Notification, actor: Actor) -> Notification:
    """Send a failed, unknown or suppressed email again (the owner decided to): the row goes back
    to pending with its attempts reset, and is enqueued after commit.

    An ``unknown`` row may already have reached the customer: resending it is the owner's call.
    A suppression still in place suppresses it again; remove the suppression first.
    """
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    if notification.status not in Notification.Status.resendable():
        return notification
    now = timezone.now()
    notification.status = Notification.Status.PENDING
    notification.attempts = 0
    notification.due_at = min(notification.due_at, now)
    notification.claimed_at = None
    notification.last_error = f"Resend requested by {actor.kind} {actor.name}".strip()
    notification.save(
        update_fields=["status", "attempts", "due_at", "claimed_at", "last_error", "updated_at"]
    )
    batch = Batch.current()
    batch.add({(None, f"resend-{notification.pk}"): notification})
    return notification


@transaction.atomic
def order_link_send(*, order: Order) -> Notification | None:
    """Email a fresh self-service link to the order's own address (at most one a day per order):
    whoever asks, the link only ever goes to the customer who placed the order."""
    if not order.email:
        return None
    shop = order.shop
    suppressed = address_suppressed(shop_id=shop.pk, email=order.email, kind=Kind.LINK)
    row = Notification(
        shop=shop,
        kind=Kind.LINK,
        recipient=order.email,
        order=order,
        language=notification_language(order=order, shop=shop),
        context={"order_number": str(order), "customer_name": order.customer_name, "items": []},
        dedupe_key=f"order {order.pk} · {timezone.localdate(timezone=shop.zoneinfo).isoformat()}",
        status=Notification.Status.SUPPRESSED if suppressed else Notification.Status.PENDING,
        due_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return None
    Batch.current().add({(order.pk, Kind.LINK): row})
    return row


def _digest_lines(queryset: Any, limit: int = 20) -> list[dict[str, Any]]:
    return [
        {
            "order": str(bo.order),
            "title": str(bo.variant),
            "quantity": bo.quantity,
            "eta": iso_date(bo.eta),
            "reason": bo.flag_reason,
        }
        for bo in queryset.select_related("order", "variant__product")[:limit]
    ]


def _digest_context(shop: Shop, since: datetime, today: date) -> dict[str, Any]:
    backorders = Backorder.objects.filter(shop=shop)
    new = backorders.filter(created_at__gte=since).order_by("created_at", "pk")
    overdue = backorders.filter(status=Backorder.Status.WAITING, eta__lt=today).order_by("eta", "pk")
    flagged = backorders.filter(status__in=Backorder.Status.open(), flagged=True).order_by("queued_at", "pk")
    failed_emails = Notification.objects.filter(shop=shop).filter(
        Q(status__in=[Notification.Status.FAILED, Notification.Status.UNKNOWN], updated_at__gte=since)
        | Q(delivery_status__in=["bounced", "rejected", "failed", "complained"], delivery_at__gte=since)
    )
    counts = {
        "new": new.count(),
        "overdue": overdue.count(),
        "flagged": flagged.count(),
        "failed_emails": failed_emails.count(),
        "failed_webhooks": _failed_webhooks(shop, since),
    }
    return {
        "shop_name": shop.name,
        "date": today.isoformat(),
        "counts": counts,
        "new": _digest_lines(new),
        "overdue": _digest_lines(overdue),
        "flagged": _digest_lines(flagged),
        "failed_emails": [
            {"kind": row.get_kind_display(), "recipient": row.recipient, "status": row.status}
            for row in failed_emails.order_by("-updated_at")[:20]
        ],
        "items": [],
    }


def _failed_webhooks(shop: Shop, since: datetime) -> int:
    """Webhook deliveries that failed or were rejected since ``since``."""
    statuses = [WebhookDelivery.Status.FAILED, WebhookDelivery.Status.REJECTED]
    return (
        WebhookDelivery.objects.filter(shop=shop, status__in=statuses)
        .filter(received_at__gte=since)
        .aggregate(n=Count("pk"))["n"]
    )


@transaction.atomic
def owner_digests_plan(*, now: datetime | None = None) -> list[Notification]:
    """Plan today's digest for every active shop that has something to report (new backorders
    in the last 24 hours, overdue ETAs, flagged lines, failed emails or webhooks), to its owner.
    Unique per shop and day: running it twice plans nothing more."""
    now = now or timezone.now()
    since = now - timedelta(days=1)
    planned = []
    for shop in Shop.objects.filter(is_active=True).order_by("pk"):
        today = timezone.localdate(now, timezone=shop.zoneinfo)
        context = _digest_context(shop, since, today)
        if not any(context["counts"].values()) or not shop.owner_email:
            continue
        suppressed = address_suppressed(shop_id=shop.pk, email=shop.owner_email, kind=Kind.DIGEST)
        row = Notification(
            shop=shop,
            kind=Kind.DIGEST,
            recipient=shop.owner_email,
            language=notification_language(order=None, shop=shop),
            context=context,
            dedupe_key=f"digest {today.isoformat()}",
            status=Notification.Status.SUPPRESSED if suppressed else Notification.Status.PENDING,
            due_at=now,
        )
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            continue
        Batch.current().add({(None, f"digest-{shop.pk}"): row})
        planned.append(row)
    return planned
