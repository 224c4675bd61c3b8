"""Sending the outbox: each planned email exactly once, or marked for a person to decide.

``notification_send`` is what the send task runs (``notifications_send`` the same for a batch of
rows: a transaction's, or the sweeper's backlog). It first claims the row (pending → sending,
``attempts + 1``) in one conditional UPDATE committed on its own, so that of two workers given
the same row (a redelivered task, the sweeper's copy, a retry) only one goes on; then it renders
and sends through ``backorders.mail`` and records the outcome. Three statements per email (two
in a batch, which reads its rows at once), whatever the kind:

=====================  ==========================================================================
provider outcome       row
=====================  ==========================================================================
accepted               ``sent`` with the provider's message id
not reached (retry)    back to ``pending``; the task retries with backoff and jitter, up to
                       ``EMAIL_MAX_ATTEMPTS`` attempts, then ``failed``
recipient refused      ``failed``, and the address is suppressed for the shop
failed for good        ``failed`` (fix and resend from the admin)
may have been sent     ``unknown``: shown to the owner, never resent automatically
=====================  ==========================================================================

A worker that dies after claiming leaves the row ``sending``; ``notifications_sweep`` turns rows
stuck there past ``EMAIL_SENDING_TIMEOUT`` into ``unknown`` (they may have gone out), and
enqueues pending rows that are due and waited longer than ``EMAIL_SWEEP_AFTER`` (the broker was
down at commit, the task was lost, or a follow-up just became due).

What happens to a message after it left (the provider's tracking events, suppressions) is
``services.notifications.tracking``.
"""

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode

from backorders import mail
from backorders.conf import get_setting
from backorders.models import Backorder, Notification, NotificationItem, Shop, Suppression
from backorders.selectors.suppressions import address_suppressed, suppression_exists
from backorders.services.notifications import links
from backorders.services.notifications.batch import notifications_enqueue
from backorders.services.notifications.planning import eta_summary_apply, iso_date
from backorders.services.notifications.tracking import suppression_add

logger = logging.getLogger(__name__)

Status = Notification.Status


def _finish(notification_id: int, status: str, **fields: Any) -> int:
    """Record the outcome of a claimed send (also over a sweeper's ``unknown``: we know better)."""
    return Notification.objects.filter(
        pk=notification_id, status__in=[Status.SENDING, Status.UNKNOWN]
    ).update(status=status, updated_at=timezone.now(), **fields)


def _blocked(notification: Notification) -> bool:
    """Whether a suppression of the row's address stops this kind (an unsubscribe stops only
    optional kinds). Read only for the rare address that has a suppression."""
    return address_suppressed(
        shop_id=notification.shop_id, email=notification.recipient, kind=notification.kind
    )


def _from_address(shop: Shop) -> str:
    return formataddr((shop.name, shop.from_email or settings.DEFAULT_FROM_EMAIL))


def _parse_dates(item: dict[str, Any]) -> dict[str, Any]:
    return {
        key: date.fromisoformat(value) if key in ("eta", "old_eta", "date") and value else value
        for key, value in item.items()
    }


def _admin_url(name: str = "admin:index", query: str = "") -> str:
    try:
        return links.site_url() + reverse(name) + query
    except NoReverseMatch:
        return ""


def notification_context(notification: Notification) -> dict[str, Any]:
    """What the templates of ``notification`` get: its frozen content, dates as dates, the shop,
    and fresh links (the self-service link is signed now, so a late follow-up carries a valid one)."""
    context = dict(notification.context)
    context["items"] = [_parse_dates(item) for item in context.get("items", [])]
    for section in ("new", "overdue", "flagged"):
        if section in context:
            context[section] = [_parse_dates(line) for line in context[section]]
    if isinstance(context.get("date"), str):
        context["date"] = date.fromisoformat(context["date"])
    context["shop"] = notification.shop
    context["kind"] = notification.kind
    if notification.kind in Notification.Kind.to_owner():  # this order's cancellations to settle
        query = "?" + urlencode({"settled": "no", "q": context.get("order_number", "")})
        context["admin_url"] = _admin_url("admin:backorders_cancellation_changelist", query)
        amounts = [item.get("amount") for item in context["items"]]
        if amounts and None not in amounts:
            context["total"] = sum(Decimal(amount) for amount in amounts)
            context["currency"] = context["items"][0].get("currency", "")
    elif notification.order_id is not None:  # the customer's own key: never in an owner's email
        context["self_service_url"] = links.order_url_for(
            shop_id=notification.shop_id, order_id=notification.order_id
        )
    if notification.kind in Notification.Kind.optional():
        context["unsubscribe_url"] = links.unsubscribe_url(notification.shop, notification.recipient)
    if notification.kind == Notification.Kind.DIGEST:
        context["admin_url"] = _admin_url()
    if notification.kind == Notification.Kind.ALERT_CONFIRM and not isinstance(
        context.get("expiry_days"), int
    ):
        context["expiry_days"] = get_setting("ALERT_CONFIRM_EXPIRY_DAYS")  # the link's validity, in days
    if notification.alert_id is not None and notification.alert is not None:
        if notification.kind == Notification.Kind.ALERT_CONFIRM:
            context["confirm_url"] = links.alert_confirm_url(notification.alert)
        context["unsubscribe_url"] = links.alert_unsubscribe_url(notification.alert)
    return context


def notification_render(notification: Notification) -> mail.Rendered:
    """The message ``notification`` sends (for sending and for the admin's preview)."""
    return mail.render(
        kind=notification.kind, context=notification_context(notification), language=notification.language
    )


def _claim(notification_id: int) -> bool:
    """pending → sending (attempts + 1), in its own statement and commit: of two runs given the
    same row, only one gets True."""
    now = timezone.now()
    return bool(
        Notification.objects.filter(pk=notification_id, status=Status.PENDING, due_at__lte=now).update(
            status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now, updated_at=now
        )
    )


def _with_shop_and_suppression(queryset: QuerySet[Notification]) -> QuerySet[Notification]:
    """Rows with their shop, and whether their address has any suppression at all."""
    return queryset.select_related("shop", "alert").annotate(
        suppressed=suppression_exists(shop="shop", email="recipient")
    )


# The status a backorder must still have for an item of each kind to be true when it leaves.
_STILL_TRUE: dict[str, str] = {
    Notification.Kind.CONFIRMATION: Backorder.Status.WAITING,
    Notification.Kind.READY: Backorder.Status.ALLOCATED,
    Notification.Kind.ETA_CHANGED: Backorder.Status.WAITING,
}


def notification_refresh(notification: Notification) -> str:
    """Plan a claimed message again with the facts of now, just before it is sent.

    A customer must never read what stopped being true before the message left: an item whose
    backorder moved on since it was planned (a "ready" for a line cancelled since, a
    confirmation for a line allocated or cancelled during the grace period, a "delayed" whose
    ETA moved again) is dropped, and a confirmation tells the current quantity and ETA (the ETA
    told is recorded on its item). Returns why the whole message is superseded ("" when
    something true is left to send). A few statements at most: the read, and when something
    changed, the update and the removal of the dropped items.
    """
    wanted = _STILL_TRUE[notification.kind]
    backorders = {
        bo.pk: bo
        for bo in Backorder.objects.filter(notifications=notification).only(
            "status", "quantity", "eta", "eta_source"
        )
    }
    kept: list[dict[str, Any]] = []
    gone: list[str] = []
    dropped: list[int] = []
    new_etas: dict[int, date | None] = {}
    for item in notification.context.get("items", []):
        backorder = backorders.get(item["id"])
        if backorder is None or backorder.status != wanted:
            status = backorder.get_status_display().lower() if backorder else "gone"
            gone.append(f"{item.get('title') or item['id']}: now {status}")
            dropped.append(item["id"])
            continue
        told = iso_date(backorder.eta)
        if notification.kind == Notification.Kind.ETA_CHANGED and told != item.get("eta"):
            gone.append(f"{item.get('title') or item['id']}: the ETA moved again since")
            dropped.append(item["id"])
            continue
        if notification.kind == Notification.Kind.CONFIRMATION and (
            told != item.get("eta") or backorder.quantity != item.get("quantity")
        ):
            item = {**item, "quantity": backorder.quantity, "eta": told, "eta_source": backorder.eta_source}
            new_etas[backorder.pk] = backorder.eta
        kept.append(item)
    if not kept:
        return "Superseded before it was sent: " + "; ".join(gone) + "."
    if gone or new_etas:
        # What was dropped was never told: its item must not count as the ETA the customer knows.
        NotificationItem.objects.filter(notification=notification, backorder_id__in=dropped).delete()
        notification.context = {**notification.context, "items": kept}
        if notification.kind == Notification.Kind.ETA_CHANGED:
            eta_summary_apply(notification, notification.shop)
        Notification.objects.filter(pk=notification.pk).update(context=notification.context)
        for backorder_id, new_eta in new_etas.items():  # rare: the ETA moved during the grace period
            NotificationItem.objects.filter(notification=notification, backorder_id=backorder_id).update(
                eta=new_eta
            )
    return ""


def notification_send(*, notification_id: int) -> str:
    """Send one outbox row at most once; returns the row's status afterwards ("skipped" when
    another run has it or it is not due). Call it outside any transaction: the claim must commit
    before the provider is called. Raises ``mail.ProviderNotReached`` when the task should retry.
    Three statements: claim, read, record the outcome.
    """
    if not _claim(notification_id):
        return "skipped"
    notification = _with_shop_and_suppression(Notification.objects.all()).get(pk=notification_id)
    return _deliver(notification)


def notifications_send(*, notification_ids: list[int]) -> dict[str, int]:
    """Send several rows in turn, each at most once (claimed alone, just before its provider call);
    returns the count per outcome. A row the provider did not take (unreachable, 429, 5xx) is back
    to ``pending`` (counted as "retry"): the periodic sweeper sends it again once it has waited
    ``EMAIL_SWEEP_AFTER``, until ``EMAIL_MAX_ATTEMPTS`` — the row decides, nothing is re-enqueued
    here. One read for all the rows, then two statements per email: claim, record the outcome. A
    row's content never changes once committed, and a suppression added meanwhile is seen by the
    next email to that address."""
    rows = list(
        _with_shop_and_suppression(
            Notification.objects.filter(pk__in=notification_ids, status=Status.PENDING)
        ).order_by("pk")
    )
    outcomes: dict[str, int] = {}
    if skipped := len(set(notification_ids)) - len(rows):  # sent, claimed or gone already
        outcomes["skipped"] = skipped
    for notification in rows:
        if not _claim(notification.pk):
            outcome = "skipped"
        else:
            notification.attempts += 1
            try:
                outcome = _deliver(notification)
            except mail.ProviderNotReached:
                outcome = "retry"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _deliver(notification: Notification) -> str:
    """Render and send a claimed row, and record the outcome (see the module docstring)."""
    notification_id = notification.pk
    if notification.suppressed and _blocked(notification):  # type: ignore[attr-defined]
        _finish(notification_id, Status.SUPPRESSED, last_error="The address is suppressed for this shop.")
        return Status.SUPPRESSED
    if notification.kind in Notification.Kind.about_alerts():
        from backorders.services.alerts import alert_notification_refresh  # alerts plan through here

        stale = alert_notification_refresh(notification)
        if stale:
            _finish(notification_id, Status.SUPERSEDED, last_error=stale)
            return Status.SUPERSEDED
    elif notification.kind in Notification.Kind.checked_before_sending():
        stale = notification_refresh(notification)
        if stale:
            _finish(notification_id, Status.SUPERSEDED, last_error=stale)
            return Status.SUPERSEDED
    try:
        rendered = notification_render(notification)
    except Exception as exc:
        logger.exception("email %s could not be rendered", notification_id)
        _finish(notification_id, Status.FAILED, last_error=f"Rendering failed: {exc!r}"[:2000])
        return Status.FAILED
    headers = {}
    if notification.kind == Notification.Kind.RESTOCK_ALERT and notification.alert_id is not None:
        headers = {  # RFC 8058 one-click: a POST to this URL stops the alert
            "List-Unsubscribe": f"<{links.alert_unsubscribe_url(notification.alert)}>",  # type: ignore[arg-type]
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    elif notification.kind in Notification.Kind.optional():
        headers = {
            "List-Unsubscribe": f"<{links.unsubscribe_url(notification.shop, notification.recipient)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    if notification.kind in Notification.Kind.to_owner():  # the owner's reply goes to the customer
        customer = notification.context.get("customer_email", "")
        reply_to = [customer] if customer else []
    else:
        owner = notification.shop.owner_email
        reply_to = [owner] if notification.order_id and owner else []
    try:
        message_id = mail.send(
            rendered,
            to=notification.recipient,
            from_email=_from_address(notification.shop),
            reply_to=reply_to,
            headers=headers,
            tags=[f"backorders-{notification.kind}"],  # one tag: some providers (Postmark) take no more
            metadata={"notification": str(notification.pk), "shop": notification.shop.domain},
        )
    except mail.ProviderNotReached as exc:
        if notification.attempts >= get_setting("EMAIL_MAX_ATTEMPTS"):
            _finish(
                notification_id,
                Status.FAILED,
                last_error=f"Gave up after {notification.attempts} attempts: {exc}",
            )
            return Status.FAILED
        _finish(notification_id, Status.PENDING, claimed_at=None, last_error=str(exc))
        raise
    except mail.RecipientRefused as exc:
        _finish(notification_id, Status.FAILED, last_error=str(exc))
        suppression_add(
            shop=notification.shop,
            email=notification.recipient,
            reason=Suppression.Reason.REFUSED,
            detail=str(exc),
            notification=notification,
        )
        return Status.FAILED
    except mail.SendFailed as exc:
        _finish(notification_id, Status.FAILED, last_error=str(exc))
        return Status.FAILED
    except mail.DeliveryUnknown as exc:
        _finish(notification_id, Status.UNKNOWN, last_error=str(exc))
        return Status.UNKNOWN
    _finish(notification_id, Status.SENT, sent_at=timezone.now(), message_id=message_id, last_error="")
    return Status.SENT


def notifications_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic safety net (beat, every minute): mark rows stuck in ``sending`` past the
    timeout ``unknown``, and enqueue pending rows that are due and have waited past
    ``EMAIL_SWEEP_AFTER`` (touching them, so the next run does not enqueue them again at once).
    Returns how many rows it marked and enqueued."""
    now = now or timezone.now()
    stuck = Notification.objects.filter(
        status=Status.SENDING, claimed_at__lt=now - timedelta(seconds=get_setting("EMAIL_SENDING_TIMEOUT"))
    ).update(
        status=Status.UNKNOWN,
        updated_at=now,
        last_error="Still sending after the timeout (the worker may have died): it may or may not have "
        "been sent. Check with the customer or the provider before resending.",
    )
    waited = now - timedelta(seconds=get_setting("EMAIL_SWEEP_AFTER"))
    ids = list(
        Notification.objects.filter(status=Status.PENDING, due_at__lte=now, updated_at__lte=waited)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[: get_setting("EMAIL_SWEEP_BATCH")]
    )
    if ids:
        Notification.objects.filter(pk__in=ids, status=Status.PENDING).update(updated_at=now)
    enqueued = notifications_enqueue(ids)
    if stuck or ids:
        logger.info("email sweep: %d marked unknown, %d of %d pending enqueued", stuck, enqueued, len(ids))
    return {"unknown": stuck, "enqueued": enqueued, "pending": len(ids)}


__all__ = [
    "notification_context",
    "notification_refresh",
    "notification_render",
    "notification_send",
    "notifications_send",
    "notifications_sweep",
]
