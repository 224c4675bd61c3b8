"""Fulfilment and cancellation of backorders and orders (life cycle steps 5 and 7), with guards.

An illegal transition (cancelling a fulfilled backorder, fulfilling a cancelled one) raises
``BackorderStateError`` and changes nothing.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from backorders.models import Backorder, Cancellation, Event, Order, OrderLine, Variant
from backorders.models.catalog import http_url_valid
from backorders.services import notifications
from backorders.services.alerts import alert_waves_schedule, variant_orderable
from backorders.services.audit import Actor, event_build, events_record
from backorders.services.locking import retrying_atomic, variants_lock
from backorders.services.stock import stock_adjust, stock_allocate, stock_release


class BackorderStateError(Exception):
    """The backorder is not in a state that allows this change."""


TRACKING_URL_MAX = Backorder._meta.get_field("tracking_url").max_length or 1000


class TrackingUrlError(ValueError):
    """A tracking URL that is not an absolute http(s) URL (``javascript:``, ``data:``, relative…)
    or longer than its column: it would become a link in the customer's emails and pages."""


@dataclass(frozen=True)
class Tracking:
    """A shipment's tracking, as the fulfilment services store it on each backorder shipped.

    ``url`` is "" or an absolute http(s) URL of at most ``TRACKING_URL_MAX`` characters; anything
    else raises ``TrackingUrlError`` when the value is built, so that a host's Python call learns
    of it at once (the platform adapter drops such a URL, with a logged warning, before it gets
    here). Company and number are plain text, cut to their columns.
    """

    company: str = ""
    number: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        if self.url and (len(self.url) > TRACKING_URL_MAX or not http_url_valid(self.url)):
            raise TrackingUrlError(
                _(
                    "The tracking URL must be an absolute http:// or https:// address of at most %(n)d "
                    "characters, not %(url)s."
                )
                % {"n": TRACKING_URL_MAX, "url": ascii(self.url)[:80]}
            )


def _lock_backorder(backorder: Backorder) -> tuple[Backorder, Variant]:
    """Lock the backorder's variant first (the lock order every service uses), then re-read it."""
    variant = variants_lock([backorder.variant_id])[backorder.variant_id]
    return Backorder.objects.select_for_update().select_related("order", "line").get(pk=backorder.pk), variant


def backorder_cancel_locked(
    *, backorder: Backorder, variant: Variant, actor: Actor, reason: str = ""
) -> None:
    """Cancel under the variant lock: counters and audit only; callers move stock and allocate."""
    if backorder.status not in Backorder.Status.open():
        raise BackorderStateError(
            _("A %(status)s backorder cannot be cancelled.")
            % {"status": backorder.get_status_display().lower()}
        )
    old_status = backorder.status
    stock_release(
        variant=variant, waiting=backorder.quantity_unallocated, allocated=backorder.quantity_allocated
    )
    backorder.status = Backorder.Status.CANCELLED
    backorder.cancelled_at = timezone.now()
    backorder.cancel_reason = reason[:255]
    backorder.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    events_record(
        [
            event_build(
                backorder=backorder,
                kind=Event.Kind.CANCELLED,
                actor=actor,
                quantity=backorder.quantity,
                note=reason,
            )
        ]
    )
    notifications.backorders_notify_status(backorders=[backorder], old_status=old_status, actor=actor)
    _queue_changed(variant)


def _queue_changed(variant: Variant) -> None:
    """Units left the variant's queue: the customers behind move up (their ETAs after commit)."""
    from backorders.services.eta import etas_refresh_enqueue  # eta imports this module

    etas_refresh_enqueue(variant_ids=[variant.pk])


def backorder_reduce_locked(*, backorder: Backorder, variant: Variant, by: int, actor: Actor) -> None:
    """Take ``by`` units (fewer than its quantity) off an open backorder: unallocated units first."""
    waiting = min(by, backorder.quantity_unallocated)
    allocated = by - waiting
    stock_release(variant=variant, waiting=waiting, allocated=allocated)
    old_status = backorder.status
    backorder.quantity -= by
    backorder.quantity_allocated -= allocated
    if backorder.quantity_allocated == backorder.quantity:
        backorder.status = Backorder.Status.ALLOCATED
    backorder.save(update_fields=["quantity", "quantity_allocated", "status", "updated_at"])
    events_record([event_build(backorder=backorder, kind=Event.Kind.REDUCED, actor=actor, quantity=by)])
    notifications.backorders_notify_status(backorders=[backorder], old_status=old_status, actor=actor)
    _queue_changed(variant)


def line_cancellations_settle(*, line: OrderLine, quantity: int | None, actor: Actor) -> int:
    """The platform took ``quantity`` units cancelled here off ``line`` (None: all of them; the
    owner refunded or edited the order there): the line's oldest unsettled cancellations covering
    them are settled, so the owner's list no longer asks for that refund. Returns how many."""
    chosen: list[Cancellation] = []
    left = quantity
    for cancellation in Cancellation.objects.filter(line=line, settled_at=None).order_by("pk"):
        if left is not None and left <= 0:
            break
        chosen.append(cancellation)
        if left is not None:
            left -= cancellation.quantity
    return cancellations_settle(cancellations=chosen, actor=actor) if chosen else 0


def customer_cancel_refusal(backorder: Backorder) -> str:
    """Why the customer may not cancel ``backorder`` on their page ("" when they may): only a
    line still waiting for stock ("already": cancelled before; "not_waiting": it arrived, or
    shipped, and is the shop's to handle now)."""
    if backorder.status == Backorder.Status.CANCELLED:
        return "already"
    line = backorder.line
    if (
        backorder.status == Backorder.Status.WAITING
        and line.quantity_fulfilled <= line.quantity - backorder.quantity
    ):
        return ""
    return "not_waiting"  # allocated, shipped, or the platform shipped some of its units already


@retrying_atomic
def backorder_cancel(
    *, backorder: Backorder, actor: Actor, reason: str = "", waiting_only: bool = False
) -> Backorder:
    """Cancel a waiting or allocated backorder (customer, owner or store); with ``waiting_only``
    (the customer's page) only a waiting one (``customer_cancel_refusal``), checked under the lock.

    The customer no longer wants those units: the order line keeps only its covered part, the
    units are no longer committed (``available`` rises by the backorder's quantity) and any that
    were allocated go to the next in line.
    """
    backorder, variant = _lock_backorder(backorder)
    if waiting_only and (refusal := customer_cancel_refusal(backorder)):
        raise BackorderStateError(refusal)
    was_orderable = variant_orderable(variant)
    backorder_cancel_locked(backorder=backorder, variant=variant, actor=actor, reason=reason)
    # The units are cancelled here, not on the platform: remembered per line, so that a later
    # platform edit of the order never brings them back (services.checkout.order_record).
    OrderLine.objects.filter(pk=backorder.line_id).update(
        quantity=F("quantity") - backorder.quantity,
        quantity_cancelled=F("quantity_cancelled") + backorder.quantity,
    )
    if actor.kind != Event.ActorKind.PLATFORM:
        _cancellation_record(backorder=backorder, actor=actor, reason=reason)
    stock_adjust(variant=variant, delta=backorder.quantity)
    stock_allocate(variant=variant, actor=actor)
    alert_waves_schedule(variant=variant, was_orderable=was_orderable)  # room under the limit
    return backorder


def _cancellation_record(*, backorder: Backorder, actor: Actor, reason: str) -> Cancellation:
    """What the owner must settle on the platform (refund, edit the order), and their email."""
    line, order = backorder.line, backorder.order
    price = line.unit_price
    cancellation = Cancellation.objects.create(
        shop_id=backorder.shop_id,
        order=order,
        line=line,
        backorder=backorder,
        quantity=backorder.quantity,
        amount=None if price is None else price * backorder.quantity,
        currency=order.currency,
        actor_kind=actor.kind,
        actor_name=actor.name[:255],
        reason=reason[:255],
    )
    notifications.backorders_notify_cancelled_here(backorders=[backorder], actor=actor)
    return cancellation


@transaction.atomic
def cancellations_settle(*, cancellations: Iterable[Cancellation], actor: Actor) -> int:
    """Mark cancellations settled (the owner refunded or edited the order on the platform), each
    with an audit event on its backorder. Already settled ones are left as they were. Returns
    how many were settled now."""
    pending = list(
        Cancellation.objects.select_for_update(of=("self",))
        .filter(pk__in=[c.pk for c in cancellations], settled_at=None)
        .select_related("backorder")
        .order_by("pk")
    )
    if not pending:
        return 0
    now = timezone.now()
    Cancellation.objects.filter(pk__in=[c.pk for c in pending]).update(
        settled_at=now, settled_by=actor.name[:255]
    )
    events_record(
        event_build(
            backorder=c.backorder,
            kind=Event.Kind.SETTLED,
            actor=actor,
            quantity=c.quantity,
            note=_("Cancellation settled on the platform."),
        )
        for c in pending
    )
    return len(pending)


def _fulfil_locked(*, backorder: Backorder, variant: Variant, tracking: Tracking, actor: Actor) -> None:
    old_status = backorder.status
    stock_release(
        variant=variant, waiting=backorder.quantity_unallocated, allocated=backorder.quantity_allocated
    )
    backorder.status = Backorder.Status.FULFILLED
    backorder.fulfilled_at = timezone.now()
    backorder.tracking_company = tracking.company[:255] or backorder.tracking_company
    backorder.tracking_number = tracking.number[:255] or backorder.tracking_number
    backorder.tracking_url = tracking.url[:1000] or backorder.tracking_url
    backorder.save(
        update_fields=[
            "status",
            "fulfilled_at",
            "tracking_company",
            "tracking_number",
            "tracking_url",
            "updated_at",
        ]
    )
    note = " ".join(filter(None, [tracking.company, tracking.number]))
    events_record(
        [
            event_build(
                backorder=backorder,
                kind=Event.Kind.FULFILLED,
                actor=actor,
                quantity=backorder.quantity,
                note=note,
            )
        ]
    )
    notifications.backorders_notify_status(backorders=[backorder], old_status=old_status, actor=actor)


def backorder_ship_refusal(backorder: Backorder) -> str:
    """Why the owner may not mark ``backorder`` as shipped by hand ("" when they may).

    Only a backorder whose every unit is allocated (stock is there for it) can ship from the
    admin: marking a waiting one shipped would tell the customer "on its way" for units nobody
    has. The platform's fulfilment report is not bound by this (its count is the truth).
    """
    if backorder.status == Backorder.Status.ALLOCATED:
        return ""
    if backorder.status == Backorder.Status.WAITING:
        return _(
            "Only %(allocated)d of its %(quantity)d unit(s) are allocated: it can be marked as shipped "
            "once stock covers all of them."
        ) % {"allocated": backorder.quantity_allocated, "quantity": backorder.quantity}
    return _("It is already %(status)s.") % {"status": backorder.get_status_display().lower()}


@retrying_atomic
def backorder_fulfill(
    *, backorder: Backorder, actor: Actor, tracking: Tracking | None = None, allocated_only: bool = False
) -> Backorder:
    """Record that a backorder shipped. Usually from ``allocated``; from ``waiting`` too, because
    the platform may ship units we had not seen arrive (its count is the truth). With
    ``allocated_only`` (the owner, by hand), anything ``backorder_ship_refusal`` refuses raises
    ``BackorderStateError`` with that reason, and nothing changes."""
    backorder, variant = _lock_backorder(backorder)
    if allocated_only and (refusal := backorder_ship_refusal(backorder)):
        raise BackorderStateError(refusal)
    if backorder.status not in Backorder.Status.open():
        raise BackorderStateError(
            _("A %(status)s backorder cannot be fulfilled.")
            % {"status": backorder.get_status_display().lower()}
        )
    _fulfil_locked(backorder=backorder, variant=variant, tracking=tracking or Tracking(), actor=actor)
    OrderLine.objects.filter(pk=backorder.line_id).update(quantity_fulfilled=F("quantity"))
    return backorder


def _order_lock(order: Order) -> tuple[Order, list[OrderLine], dict[int, Variant]]:
    """Lock ``order``'s variants (by primary key), then the order, and read its lines and
    backorders under those locks: read before, a concurrent cancel or allocation would leave
    this change acting on stale rows."""
    variants = variants_lock(order.lines.exclude(variant=None).values_list("variant_id", flat=True))
    order = Order.objects.select_for_update().get(pk=order.pk)
    lines = list(order.lines.select_related("backorder"))
    if missing := {line.variant_id for line in lines if line.variant_id and line.variant_id not in variants}:
        variants |= variants_lock(missing)  # a line added meanwhile (rare; a deadlock is retried)
    return order, lines, variants


@retrying_atomic
def order_fulfill(
    *, order: Order, actor: Actor, shipped: Mapping[int, int] | None = None, tracking: Tracking | None = None
) -> Order:
    """Record a shipment of ``order``: ``shipped`` maps line ids to units shipped (None: everything).

    ``shipped`` counts are cumulative per line (units shipped so far, as the platform reports them
    with ``quantity - fulfillable_quantity``), so a repeated or out-of-order fulfilment report
    changes nothing. Units shipped count against the covered part of a line first; once a line has
    shipped in full, its backorder is fulfilled.
    """
    tracking = tracking or Tracking()
    tracking_given = any((tracking.company, tracking.number, tracking.url))
    order, lines, variants = _order_lock(order)
    for line in lines:
        if line.variant_id is None:
            continue
        units = line.quantity if shipped is None else shipped.get(line.platform_id, 0)
        if units <= 0:
            continue
        fulfilled = min(line.quantity, max(line.quantity_fulfilled, units))
        if fulfilled != line.quantity_fulfilled:
            OrderLine.objects.filter(pk=line.pk).update(quantity_fulfilled=fulfilled)
        backorder = getattr(line, "backorder", None)
        if backorder is None or backorder.status == Backorder.Status.CANCELLED:
            continue
        if backorder.status == Backorder.Status.FULFILLED:
            if tracking_given and (tracking.company, tracking.number, tracking.url) != (
                backorder.tracking_company,
                backorder.tracking_number,
                backorder.tracking_url,
            ):  # a fulfilment update with new tracking: shown, no new status
                Backorder.objects.filter(pk=backorder.pk).update(
                    tracking_company=tracking.company[:255],
                    tracking_number=tracking.number[:255],
                    tracking_url=tracking.url[:1000],
                    updated_at=timezone.now(),
                )
            continue
        if fulfilled >= line.quantity:
            _fulfil_locked(
                backorder=backorder, variant=variants[line.variant_id], tracking=tracking, actor=actor
            )
        elif tracking_given:
            Backorder.objects.filter(pk=backorder.pk).update(
                tracking_company=tracking.company[:255],
                tracking_number=tracking.number[:255],
                tracking_url=tracking.url[:1000],
            )
    return order


@retrying_atomic
def order_cancel(
    *, order: Order, actor: Actor, reason: str = "", cancelled_at: datetime | None = None
) -> Order:
    """Cancel ``order``: every open backorder is cancelled and every unshipped unit is released.

    ``cancelled_at`` is the platform's time of the cancellation: a platform inventory level
    reported at or after it already counts the released units (see services.stock.stock_adjust).
    Cancelling twice changes nothing the second time.
    """
    order, lines, variants = _order_lock(order)
    was_orderable = {pk: variant_orderable(variant) for pk, variant in variants.items()}
    if order.cancelled_at is not None:
        return order
    order.cancelled_at = cancelled_at or timezone.now()
    order.save(update_fields=["cancelled_at", "updated_at"])
    for line in lines:
        if line.quantity_cancelled:  # the order's source cancelled it all: nothing left to settle
            line_cancellations_settle(line=line, quantity=None, actor=actor)
        if line.variant_id is None:
            continue
        variant = variants[line.variant_id]
        backorder = getattr(line, "backorder", None)
        if backorder is not None and backorder.status in Backorder.Status.open():
            backorder_cancel_locked(backorder=backorder, variant=variant, actor=actor, reason=reason)
        if variant.inventory_tracked:
            stock_adjust(variant=variant, delta=line.quantity - line.quantity_fulfilled, as_of=cancelled_at)
    for variant in variants.values():
        stock_allocate(variant=variant, actor=actor)
        alert_waves_schedule(variant=variant, was_orderable=was_orderable[variant.pk])
    return order
