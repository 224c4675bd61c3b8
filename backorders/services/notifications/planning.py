"""Planning outbox rows: what each order's message says, grouped per transaction (``batch``),
written in a constant number of statements, and enqueued after commit (see the package docstring)."""

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import get_supported_language_variant

from backorders.conf import get_setting
from backorders.models import Backorder, Event, Notification, NotificationItem, Order, Shop, Suppression
from backorders.selectors.suppressions import suppression_exists
from backorders.services.notifications.batch import Batch

logger = logging.getLogger(__name__)

Kind = Notification.Kind


# --- Settings per shop ----------------------------------------------------------------------


def shop_setting(shop: Shop, field: str, setting: str) -> int:
    """A per-shop number, or the BACKORDERS setting when the shop leaves it empty."""
    value = getattr(shop, field)
    return get_setting(setting) if value is None else value


def notification_language(*, order: Order | None, shop: Shop) -> str:
    """The customer's locale, else the shop's language, else English (the first one supported)."""
    for code in (order.customer_locale if order else "", shop.language):
        code = (code or "").strip().replace("_", "-")
        if not code:
            continue
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return "en"


# --- Planning --------------------------------------------------------------------------------
#
# One planning call costs three statements whatever the number of backorders and orders: one read
# (the backorders with their order, shop, variant, latest audit event, suppression and, for ETA
# changes, the ETA last told), one insert of the new rows and one insert of their items (plus one
# update when rows of this transaction absorb the new lines).


def _dedupe_key(order_id: int | None, event_ids: Iterable[int]) -> str:
    events = ",".join(str(pk) for pk in sorted(set(event_ids)))
    key = f"order {order_id} · events {events}"
    if len(key) > 255:
        key = f"order {order_id} · sha256 {hashlib.sha256(events.encode()).hexdigest()}"
    return key


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _item(backorder: Backorder) -> dict[str, Any]:
    variant = backorder.variant
    title = str(variant) if variant.product_id else ""
    return {
        "id": backorder.pk,
        "title": title or backorder.line.title or backorder.line.sku,
        "sku": variant.sku or backorder.line.sku,
        "quantity": backorder.quantity,
        "eta": iso_date(backorder.eta),
        "eta_source": backorder.eta_source,
    }


# What a message needs of each backorder, its order, line, shop and variant: loading only these
# fields keeps a fan-out of thousands of emails from parsing every timestamp of every row.
_BACKORDER_FIELDS = (
    "shop_id",
    "order_id",
    "line_id",
    "variant_id",
    "quantity",
    "promised_eta",
    "eta",
    "eta_source",
    "tracking_company",
    "tracking_number",
    "tracking_url",
    "cancel_reason",
    "status",
    "order__platform_id",
    "order__number",
    "order__email",
    "order__customer_name",
    "order__customer_locale",
    "line__title",
    "line__sku",
    "shop__language",
    "shop__cancellation_payment_texts",
    "shop__owner_email",
    "shop__currency",
    "order__currency",
    "line__unit_price",
    "shop__apology_incentive",
    "shop__eta_change_threshold_days",
    "shop__apology_threshold_days",
    "shop__followup_days",
    "variant__title",
    "variant__sku",
    "variant__product__title",
)


def _load(kind: str, backorder_ids: Sequence[int]) -> list[Backorder]:
    """The backorders with what the message needs, in one query: order, line, shop, variant and
    product; the latest audit event (the change's identity) and whether a row of ``kind``
    already covers it; whether the address is suppressed; for ETA changes, the ETA the customer
    was last told."""
    latest_event = Event.objects.filter(backorder=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    covered = NotificationItem.objects.filter(
        backorder=OuterRef("pk"), event=OuterRef("event_id"), notification__kind=kind
    )
    unsubscribed = [Suppression.Reason.UNSUBSCRIBED]
    blocking = [reason for reason in Suppression.Reason.values if reason not in unsubscribed]
    queryset = (
        Backorder.objects.filter(pk__in=backorder_ids)
        .select_related("order", "shop", "line", "variant__product")
        .only(*_BACKORDER_FIELDS)
        .annotate(event_id=Subquery(latest_event))
        .annotate(
            covered=Exists(covered),
            suppressed=suppression_exists(shop="shop", email="order__email", reasons=blocking),
            unsubscribed=suppression_exists(shop="shop", email="order__email", reasons=unsubscribed),
        )
        .order_by("order_id", "line_id", "pk")
    )
    if kind == Kind.ETA_CHANGED:
        # What the customer was told is what may have reached them: a message still pending is
        # planned again or superseded when it is sent (services.notifications.outbox), so it does not count.
        dates_told = NotificationItem.objects.filter(
            backorder=OuterRef("pk"), notification__kind__in=[Kind.CONFIRMATION, Kind.ETA_CHANGED]
        )
        told = dates_told.filter(notification__status__in=Notification.Status.may_have_left()).order_by(
            "-notification_id"
        )
        queryset = queryset.annotate(
            told=Exists(told),
            told_eta=Subquery(told.values("eta")[:1]),
            # A confirmation not sent yet tells the ETA current when it leaves: no ETA email.
            confirmation_pending=Exists(
                dates_told.filter(
                    notification__kind=Kind.CONFIRMATION, notification__status=Notification.Status.PENDING
                )
            ),
        )
    return list(queryset)


def _eta_item(backorder: Backorder, old_eta: date | None) -> dict[str, Any] | None:
    """The ETA-changed item for ``backorder``, or None when the move is not worth an email."""
    if backorder.confirmation_pending:  # type: ignore[attr-defined]
        return None
    told = backorder.told_eta if backorder.told else old_eta  # type: ignore[attr-defined]
    new = backorder.eta
    if new is None:
        return None  # no date to tell: the customer keeps the last one they were told
    if told is None:  # they were told "not known yet, we will email you": now we know
        return {**_item(backorder), "old_eta": None, "direction": "known", "days": 0, "apology": False}
    shift = (new - told).days
    if abs(shift) <= shop_setting(backorder.shop, "eta_change_threshold_days", "ETA_CHANGE_THRESHOLD_DAYS"):
        return None
    promised = backorder.promised_eta or told
    late = (new - promised).days
    apology = shop_setting(backorder.shop, "apology_threshold_days", "APOLOGY_THRESHOLD_DAYS")
    return {
        **_item(backorder),
        "old_eta": iso_date(told),
        "direction": "delayed" if shift > 0 else "earlier",
        "days": abs(shift),
        "apology": shift > 0 and late > apology,
    }


def eta_changes_emailed(
    *, new_etas: Mapping[int, date | None], old_etas: Mapping[int, date | None]
) -> set[int]:
    """The orders whose customer would be emailed (an outbox row that is sent, not suppressed)
    if the backorders ``new_etas`` names moved now from ``old_etas`` to those dates: the very
    rules ``notifications_plan`` applies to an ``eta_changed`` change (threshold against the
    date last told, a pending confirmation, no address, suppressions), read in one query and
    nothing written. A preview of a change asks here (``services.restock``)."""
    emailed: set[int] = set()
    for backorder in _load(Kind.ETA_CHANGED, list(new_etas)):
        # The change would be a new audit event, so no existing row covers it yet.
        backorder.eta = new_etas[backorder.pk]
        if not _recipient(Kind.ETA_CHANGED, backorder) or _suppressed(Kind.ETA_CHANGED, backorder):
            continue
        if _eta_item(backorder, old_etas.get(backorder.pk)) is not None:
            emailed.add(backorder.order_id)
    return emailed


def eta_rows_queued(order_ids: Iterable[int]) -> int:
    """How many ``eta_changed`` rows the current transaction wrote for ``order_ids`` that will be
    sent (pending, not suppressed): what a change just queued, for the owner's message."""
    wanted = set(order_ids)
    return sum(
        1
        for (order_id, kind), row in Batch.current().rows.items()
        if kind == Kind.ETA_CHANGED and order_id in wanted and row.status == Notification.Status.PENDING
    )


Entry = tuple[Backorder, dict[str, Any]]


def _recipient(kind: str, backorder: Backorder) -> str:
    """The owner for the owner's kinds, else the order's customer ("": nobody to email)."""
    return backorder.shop.owner_email if kind in Kind.to_owner() else backorder.order.email


def _amount(backorder: Backorder) -> dict[str, Any]:
    """What the cancelled units cost the customer (the owner's refund), when the price is known."""
    price = backorder.line.unit_price
    return {
        "amount": None if price is None else str(price * backorder.quantity),
        "currency": backorder.order.currency or backorder.shop.currency,
    }


def _entries(
    kind: str, backorder_ids: Sequence[int], old_etas: Mapping[int, date | None]
) -> dict[int, list[Entry]]:
    """What each order's message will say, by order id (nothing for orders without an address,
    for changes already covered, or for ETA moves within the threshold)."""
    by_order: dict[int, list[Entry]] = {}
    for backorder in _load(kind, backorder_ids):
        if not _recipient(kind, backorder) or backorder.covered:  # type: ignore[attr-defined]
            continue
        if kind == Kind.ETA_CHANGED:
            item = _eta_item(backorder, old_etas.get(backorder.pk))
            if item is None:
                continue
        else:
            item = _item(backorder)
            if kind == Kind.OWNER_CANCELLED:
                item |= _amount(backorder)
            if kind == Kind.SHIPPED:
                item |= {
                    "tracking_company": backorder.tracking_company,
                    "tracking_number": backorder.tracking_number,
                    "tracking_url": backorder.tracking_url,
                }
            elif kind in (Kind.CANCELLED, Kind.OWNER_CANCELLED):
                item["reason"] = backorder.cancel_reason
        by_order.setdefault(backorder.order_id, []).append((backorder, item))
    return by_order


def notifications_plan(
    *,
    kind: str,
    backorder_ids: Sequence[int],
    old_etas: Mapping[int, date | None] | None = None,
    extra: dict[str, Any] | None = None,
) -> list[Notification]:
    """Write one outbox row per order for ``kind`` (or merge into this transaction's row)."""
    if not backorder_ids:
        return []
    by_order = _entries(kind, backorder_ids, old_etas or {})
    if not by_order:
        return []
    batch = Batch.current()
    alive = batch.rows_alive((order_id, kind) for order_id in by_order)
    created: list[Notification] = []
    merged: list[Notification] = []
    items: list[NotificationItem] = []
    for order_id, entries in by_order.items():
        row = alive.get((order_id, kind))
        if row is not None and row.status in (Notification.Status.PENDING, Notification.Status.SUPPRESSED):
            _merge(batch, row, entries)
            merged.append(row)
        else:
            row = _new_row(kind, entries, extra or {})
            batch.events[id(row)] = _event_ids(entries)
            created.append(row)
        items += [_new_item(row, backorder, item) for backorder, item in entries]
    Notification.objects.bulk_create(created)
    if merged:
        Notification.objects.bulk_update(merged, ["context", "dedupe_key", "status", "updated_at"])
    for item in items:
        item.notification_id = item.notification.pk
    NotificationItem.objects.bulk_create(items, ignore_conflicts=True)
    batch.add({(row.order_id, kind): row for row in (*created, *merged)})
    return [*created, *merged]


def _event_ids(entries: list[Entry]) -> list[int]:
    return [bo.event_id for bo, _ in entries if bo.event_id]  # type: ignore[attr-defined]


def _new_item(row: Notification, backorder: Backorder, item: dict[str, Any]) -> NotificationItem:
    return NotificationItem(
        notification=row,
        backorder=backorder,
        event_id=backorder.event_id,  # type: ignore[attr-defined]
        eta=date.fromisoformat(item["eta"]) if item.get("eta") else None,
    )


def _order_context(order: Order, shop: Shop, kind: str, language: str) -> dict[str, Any]:
    context: dict[str, Any] = {"order_number": str(order), "customer_name": order.customer_name}
    if kind == Kind.CANCELLED:
        context["payment_text"] = shop.payment_text(language)
    if kind == Kind.OWNER_CANCELLED:
        # What the customer read about their money, so that the owner keeps the shop's word.
        customer_language = notification_language(order=order, shop=shop)
        context["customer_email"] = order.email
        context["customer_payment_text"] = shop.payment_text(customer_language)
        context["customer_emailed"] = bool(order.email)  # an order without an address: nobody told
    if kind == Kind.ETA_CHANGED:
        context["incentive"] = ""
    return context


def eta_summary_apply(row: Notification, shop: Shop) -> None:
    """The message's overall direction (and incentive) from its items."""
    directions = {item["direction"] for item in row.context["items"]}
    row.context["direction"] = next(d for d in ("delayed", "earlier", "known") if d in directions)
    items = row.context["items"]
    apology = any(item["apology"] for item in items)
    row.context["incentive"] = shop.apology_incentive if apology else ""


def _suppressed(kind: str, backorder: Backorder) -> bool:
    return backorder.suppressed or (  # type: ignore[attr-defined]
        kind in Kind.optional() and backorder.unsubscribed  # type: ignore[attr-defined]
    )


def _new_row(kind: str, entries: list[Entry], extra: dict[str, Any]) -> Notification:
    first = entries[0][0]
    order, shop = first.order, first.shop
    now = timezone.now()
    to_owner = kind in Kind.to_owner()
    language = notification_language(order=None if to_owner else order, shop=shop)
    row = Notification(
        shop=shop,
        kind=kind,
        recipient=_recipient(kind, first),
        order=order,
        language=language,
        context={
            **_order_context(order, shop, kind, language),
            **extra,
            "items": [item for _, item in entries],
        },
        dedupe_key=_dedupe_key(order.pk, _event_ids(entries)),
        status=(
            Notification.Status.SUPPRESSED
            if not to_owner and _suppressed(kind, first)
            else Notification.Status.PENDING
        ),
        # A confirmation waits a moment: stock processed just after the order (the platform's
        # webhooks come in any order) would make it untrue before it left (see outbox).
        due_at=now + timedelta(seconds=get_setting("CONFIRMATION_GRACE_SECONDS"))
        if kind == Kind.CONFIRMATION
        else now,
        created_at=now,
        updated_at=now,
    )
    # Remembered for the row's follow-up, which an unsubscribe stops.
    row._unsubscribed = first.unsubscribed  # type: ignore[attr-defined]
    if kind == Kind.ETA_CHANGED:
        eta_summary_apply(row, shop)
    return row


def _merge(batch: Batch, row: Notification, entries: list[Entry]) -> None:
    """Add ``entries`` to ``row`` (same order, kind and transaction): one message, not several."""
    by_id = {item["id"]: item for item in row.context["items"]}
    for _, item in entries:
        by_id[item["id"]] = item
    row.context["items"] = list(by_id.values())
    events = batch.events.setdefault(id(row), [])
    events.extend(_event_ids(entries))
    row.dedupe_key = _dedupe_key(row.order_id, events)
    if row.kind not in Kind.to_owner() and _suppressed(row.kind, entries[0][0]):
        row.status = Notification.Status.SUPPRESSED
    if row.kind == Kind.ETA_CHANGED:
        eta_summary_apply(row, entries[0][0].shop)
    row.updated_at = timezone.now()


def followups_plan(shipped: Sequence[Notification]) -> None:
    """A follow-up row per shipped message, due N days later (the sweeper sends it then)."""
    if not shipped:
        return
    batch = Batch.current()
    alive = batch.rows_alive((row.order_id, Kind.FOLLOWUP) for row in shipped)
    created, updated = [], []
    for row in shipped:
        days = shop_setting(row.shop, "followup_days", "FOLLOWUP_DAYS")
        if days <= 0:
            continue
        now = timezone.now()
        followup = alive.get((row.order_id, Kind.FOLLOWUP))
        if followup is None:
            followup = Notification(
                shop=row.shop,
                kind=Kind.FOLLOWUP,
                recipient=row.recipient,
                order_id=row.order_id,
                language=row.language,
                created_at=now,
            )
            created.append(followup)
        else:
            updated.append(followup)
        followup.context = dict(row.context)
        followup.dedupe_key = row.dedupe_key
        followup.due_at = now + timedelta(days=days)
        followup.updated_at = now
        # An unsubscribe (or a bounce) known now is recorded now; one arriving later, at send time.
        blocked = row.status == Notification.Status.SUPPRESSED or getattr(row, "_unsubscribed", False)
        followup.status = Notification.Status.SUPPRESSED if blocked else Notification.Status.PENDING
    Notification.objects.bulk_create(created)
    if updated:
        Notification.objects.bulk_update(updated, ["context", "dedupe_key", "due_at", "status", "updated_at"])
    batch.add({(followup.order_id, Kind.FOLLOWUP): followup for followup in (*created, *updated)})
