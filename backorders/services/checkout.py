"""The checkout hook: recording an order (life cycle step 1; the quote of a cart line is
``selectors.availability.availability_quote``, which applies the same rule).

Two kinds of caller record orders:

* a Django store whose checkout can still say no (``accepted=False``): a line beyond the backorder
  limit, or against the policy, refuses the whole order with ``BackorderRefused`` and writes nothing;
* the platform, which already accepted and charged the order (``accepted=True``): nothing is
  refused; a line beyond the limit or against the policy is recorded and flagged for the owner.

Recording is idempotent on (shop, order id): the same order twice has its effect once, and a
changed order (quantities edited, lines removed or added) adjusts its backorders.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from backorders.models import Backorder, Event, Order, OrderLine, Shop, Variant
from backorders.selectors.availability import Policy, eta_estimate, policy_resolve, refusal_reason
from backorders.services import notifications
from backorders.services.audit import Actor, event_build, events_record
from backorders.services.lifecycle import (
    backorder_cancel_locked,
    backorder_reduce_locked,
    line_cancellations_settle,
)
from backorders.services.locking import retrying_atomic, variants_lock
from backorders.services.stock import stock_adjust, stock_allocate


class BackorderRefused(Exception):
    """The store's checkout must refuse this order; ``reason`` says why, for the customer."""

    def __init__(self, reason: str, *, line_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line_id = line_id


class InvalidOrder(ValueError):
    """The order data itself is wrong (unknown variant, bad quantity, duplicate line)."""


@dataclass(frozen=True)
class LineInput:
    """One order line as the caller knows it. ``variant_id`` is our Variant pk (None: custom item)."""

    platform_id: int
    variant_id: int | None
    quantity: int
    title: str = ""
    sku: str = ""
    unit_price: Decimal | None = None


@retrying_atomic
def order_record(
    *,
    shop: Shop,
    platform_id: int,
    placed_at: datetime,
    lines: Sequence[LineInput],
    actor: Actor,
    accepted: bool = False,
    number: str = "",
    email: str = "",
    customer_name: str = "",
    locale: str = "",
    currency: str = "",
    updated_at: datetime | None = None,
) -> Order:
    """Record an order (or apply its changes) and create, adjust or cancel its backorders.

    In one transaction: lock the variants involved in primary-key order, take the covered part of
    each line from stock and make a Backorder of the rest. ``available`` drops by the whole ordered
    quantity, as on the platform (see services.stock). ``updated_at`` (the platform's) makes
    replays and out-of-order deliveries harmless: an order already stored at that or a newer
    version is returned unchanged.

    A line's ``quantity`` is what the caller orders now. Units a customer or the owner cancelled
    here stay cancelled: a change is applied relative to the quantity the caller last stated
    (``OrderLine.quantity_ordered``), so only an increase creates new waiting units, and a
    reduction takes the units cancelled here first (the owner settling a cancellation on the
    platform), then the rest of the line.
    """
    _validate_lines(lines)
    # Lock order: variants (by primary key), then the order, as every service does.
    wanted = {line.variant_id for line in lines if line.variant_id is not None}
    stored = OrderLine.objects.filter(order__shop=shop, order__platform_id=platform_id).exclude(variant=None)
    variants = variants_lock(wanted | set(stored.values_list("variant_id", flat=True)), shop=shop)
    if unknown := sorted(wanted - set(variants)):
        raise InvalidOrder(_("Unknown variant id(s) for this shop: %(ids)s.") % {"ids": unknown})
    defaults = {
        "number": number,
        "email": email,
        "customer_name": customer_name,
        "customer_locale": locale,
        "currency": currency,
        "source": Order.Source.PLATFORM if accepted else Order.Source.STORE,
        "placed_at": placed_at,
        "platform_updated_at": updated_at,
    }
    try:
        order, created = _order_get_or_create(shop=shop, platform_id=platform_id, defaults=defaults)
    except IntegrityError:
        # A concurrent call created it first (and has committed): continue as an update.
        order = Order.objects.select_for_update().get(shop=shop, platform_id=platform_id)
        created = False
    if not created:
        if order.cancelled_at is not None:
            return order
        if (
            updated_at is not None
            and order.platform_updated_at is not None
            and updated_at <= order.platform_updated_at
        ):
            return order
        # A line added by a change that committed since the read above: lock its variant too
        # (out of order, but rare; a deadlock it could cause is retried).
        variants |= variants_lock(
            order.lines.exclude(variant=None)
            .exclude(variant_id__in=variants)
            .values_list("variant_id", flat=True)
        )
    as_of = (placed_at if created else updated_at) if accepted else None
    existing = (
        {line.platform_id: line for line in order.lines.select_related("backorder")} if not created else {}
    )
    new_lines = OrderLine.objects.bulk_create(
        OrderLine(
            shop=shop,
            order=order,
            platform_id=data.platform_id,
            variant_id=data.variant_id,
            title=data.title[:255],
            sku=data.sku[:255],
            quantity=data.quantity,
            unit_price=data.unit_price,
        )
        for data in lines
        if data.platform_id not in existing
    )
    increases = [(line, line.quantity) for line in new_lines if line.variant_id and line.quantity]
    for data in lines:
        line = existing.pop(data.platform_id, None)
        if line is None or data.quantity == line.quantity_ordered:
            continue
        if data.quantity > line.quantity_ordered:
            added = data.quantity - line.quantity_ordered
            line.quantity += added
            OrderLine.objects.filter(pk=line.pk).update(quantity=line.quantity)
            if line.variant_id is not None:
                increases.append((line, added))
            continue
        # Fewer units ordered: the units cancelled here go first, then units still committed
        # (released first, so that they are free for what follows).
        reduction = line.quantity_ordered - data.quantity
        settled = min(reduction, line.quantity_cancelled)
        released = reduction - settled
        line.quantity_cancelled -= settled
        line.quantity -= released
        OrderLine.objects.filter(pk=line.pk).update(
            quantity=line.quantity, quantity_cancelled=line.quantity_cancelled
        )
        if settled:
            line_cancellations_settle(line=line, quantity=settled, actor=actor)
        if released and line.variant_id is not None:
            _line_release(line, variants[line.variant_id], released, as_of=as_of, actor=actor)
    for line in existing.values():  # lines gone from the changed order
        if line.quantity_cancelled:
            line_cancellations_settle(line=line, quantity=None, actor=actor)
        if line.variant_id is not None and line.quantity > line.quantity_fulfilled:
            unshipped = line.quantity - line.quantity_fulfilled
            _line_release(line, variants[line.variant_id], unshipped, as_of=as_of, actor=actor)
        OrderLine.objects.filter(pk=line.pk).update(quantity=line.quantity_fulfilled, quantity_cancelled=0)
    new_backorders = _lines_commit(order, increases, variants, accepted=accepted, as_of=as_of, actor=actor)
    for variant in variants.values():
        stock_allocate(variant=variant, actor=actor)
    if not created and updated_at is not None:
        Order.objects.filter(pk=order.pk).update(platform_updated_at=updated_at, updated_at=timezone.now())
    notifications.backorders_notify_created(backorders=new_backorders, actor=actor)
    return order


def _validate_lines(lines: Sequence[LineInput]) -> None:
    ids = [line.platform_id for line in lines]
    if len(ids) != len(set(ids)):
        raise InvalidOrder(_("Each order line needs its own line id; %(ids)s repeat.") % {"ids": ids})
    for line in lines:
        if line.quantity < 0:
            raise InvalidOrder(_("Line %(id)s: quantity cannot be negative.") % {"id": line.platform_id})


def _order_get_or_create(*, shop: Shop, platform_id: int, defaults: dict[str, Any]) -> tuple[Order, bool]:
    """The order, locked; created from ``defaults`` if new (in a savepoint, so that losing an
    insert race fails only that statement and the caller can carry on with the winner's row)."""
    order = Order.objects.select_for_update().filter(shop=shop, platform_id=platform_id).first()
    if order is not None:
        return order, False
    with transaction.atomic():
        return Order.objects.create(shop=shop, platform_id=platform_id, **defaults), True


def _lines_commit(
    order: Order,
    increases: list[tuple[OrderLine, int]],
    variants: dict[int, Variant],
    *,
    accepted: bool,
    as_of: datetime | None,
    actor: Actor,
) -> list[Backorder]:
    """Commit the added units of each line, variant by variant; back-order what stock does not
    cover. Returns the backorders created (not those that grew)."""
    by_variant: dict[int, list[tuple[OrderLine, int]]] = {}
    for line, quantity in increases:
        if line.variant_id is not None:
            by_variant.setdefault(line.variant_id, []).append((line, quantity))
    created: list[Backorder] = []
    events: list[Event] = []
    for variant_id, items in by_variant.items():
        variant = variants[variant_id]
        policy = policy_resolve(variant)
        if not policy.tracked:
            continue
        total = sum(quantity for _, quantity in items)
        stock_adjust(variant=variant, delta=-total, as_of=as_of)
        # Whether or not the platform's level already counted this order, what was there before it:
        available = variant.available + total
        for line, quantity in items:
            short = quantity - min(quantity, max(available, 0))
            if short:
                variant.available = available  # the policy judges the state before this line
                reason = refusal_reason(policy, variant, short)
                if reason and not accepted:
                    raise BackorderRefused(reason, line_id=line.platform_id)
                backorder, is_new = _line_backorder(order, line, variant, policy, short, reason)
                events.append(
                    event_build(
                        backorder=backorder,
                        kind=Event.Kind.CREATED,
                        actor=actor,
                        quantity=short,
                        eta_to=backorder.eta,
                        eta_source=backorder.eta_source,
                    )
                )
                if reason:
                    events.append(
                        event_build(backorder=backorder, kind=Event.Kind.FLAGGED, actor=actor, note=reason)
                    )
                if is_new:
                    created.append(backorder)
            available -= quantity
        variant.available = available
    events_record(events)
    return created


def _line_backorder(
    order: Order, line: OrderLine, variant: Variant, policy: Policy, short: int, reason: str
) -> tuple[Backorder, bool]:
    """Back-order ``short`` more units of ``line``: grow its open backorder, or open one (a line
    whose earlier backorder was closed gets it back, at the back of the queue)."""
    eta = eta_estimate(variant=variant, units_ahead=variant.units_waiting, policy=policy, quantity=short)
    Variant.objects.filter(pk=variant.pk).update(units_waiting=F("units_waiting") + short)
    variant.units_waiting += short
    # A line created by this call has no backorder yet: do not ask the database.
    backorder = getattr(line, "backorder", None) if OrderLine.backorder.is_cached(line) else None
    fields = {
        "promised_eta": eta.date,
        "promised_eta_source": eta.source,
        "eta": eta.date,
        "eta_source": eta.source,
        "eta_purchase_order_id": eta.purchase_order_id,
        "flagged": bool(reason),
        "flag_reason": reason[:255],
    }
    if backorder is None:
        return Backorder.objects.create(
            shop_id=line.shop_id,
            order=order,
            line=line,
            variant=variant,
            quantity=short,
            queued_at=order.placed_at,
            **fields,
        ), True
    if backorder.status in Backorder.Status.open():
        backorder.quantity += short
        backorder.status = Backorder.Status.WAITING
        backorder.save(update_fields=["quantity", "status", "updated_at"])
        return backorder, False
    backorder.quantity, backorder.quantity_allocated = short, 0
    backorder.status, backorder.queued_at = Backorder.Status.WAITING, timezone.now()
    backorder.cancelled_at, backorder.cancel_reason, backorder.fulfilled_at = None, "", None
    for name, value in fields.items():
        setattr(backorder, name, value)
    backorder.save()
    return backorder, True


def _line_release(
    line: OrderLine, variant: Variant, quantity: int, *, as_of: datetime | None, actor: Actor
) -> None:
    """The customer no longer wants ``quantity`` units of ``line``: take them off its backorder
    first (the short part goes first), then give the committed units back to stock."""
    backorder = getattr(line, "backorder", None)
    if backorder is not None and backorder.status in Backorder.Status.open():
        if quantity >= backorder.quantity:
            backorder_cancel_locked(
                backorder=backorder, variant=variant, actor=actor, reason=_("Removed from the order.")
            )
        else:
            backorder_reduce_locked(backorder=backorder, variant=variant, by=quantity, actor=actor)
    if policy_resolve(variant).tracked:
        stock_adjust(variant=variant, delta=quantity, as_of=as_of)
