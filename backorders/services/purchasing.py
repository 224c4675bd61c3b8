"""Suppliers and purchase orders: every change to what is coming, and receiving what came.

A purchase order goes draft → sent → confirmed → partially received → received, or is
cancelled at any point before it is fully received. Only sent, confirmed and partially received
orders count as incoming: their lines' remaining units are what waiting customers' ETAs are
matched against (``selectors.availability.EtaPlanner``). Each change here

- locks the variants on the order first, then the order (the house lock order: variants, then
  the rows that hang on them), so that a receipt and an edit never deadlock;
- records a ``PurchaseOrderEvent`` (who, what, the dates before and after);
- refreshes the variants' denormalised supply (``Variant.supply_schedule`` and
  ``supply_lead_days``, ``variants_supply_refresh``) in the same transaction, so that a checkout
  or a product page right after the commit already counts on it;
- and enqueues the recomputation of the waiting customers' ETAs after commit
  (``services.eta.etas_refresh_enqueue``), for the affected variants only.

Receiving (``purchase_order_receive``) raises stock through ``services.stock.stock_receive``
(FIFO allocation and "ready to ship" emails are the core's), records a ``Receipt`` (promised vs
actual arrival: the supplier's record) and refreshes the lead times of every variant the
supplier sells, since its measured lateness changed.

Refusals raise ``PurchaseOrderRefused`` (a ``ValidationError`` whose message says what was wrong
and how to fix it) and change nothing.
"""

from collections.abc import Collection, Mapping
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from backorders.models import (
    Location,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    Receipt,
    Shop,
    Supplier,
    SupplierItem,
    Variant,
)
from backorders.selectors.supply import supplier_variant_ids, variants_incoming, variants_lead_days
from backorders.services.audit import Actor
from backorders.services.eta import etas_refresh_enqueue
from backorders.services.locking import retrying_atomic, variants_lock
from backorders.services.stock import location_default, stock_receive

Status = PurchaseOrder.Status

# Bounds of what a form, a CSV or an API call may put in a purchase order.
PO_NUMBER_MAX = 64
PO_NOTE_MAX = 1000
PO_QUANTITY_MAX = 1_000_000
PO_LINES_MAX = 500
# How far ahead an expected arrival may be: a date years away is a typing error.
EXPECTED_MAX_DAYS_AHEAD = 730


class PurchaseOrderRefused(ValidationError):
    """A change to a purchase order or a supplier was refused: nothing was written. The message
    (or ``message_dict``, naming the field) says what was wrong and how to fix it."""


# --- Denormalised supply --------------------------------------------------------------------


def variants_supply_refresh(*, variants: Mapping[int, Variant]) -> list[int]:
    """Recompute ``supply_schedule`` and ``supply_lead_days`` of ``variants`` (locked by the
    caller) from their open purchase order lines and their suppliers; write the ones that
    changed (one statement). Returns the ids of the variants whose supply changed. Three
    queries whatever the number of variants."""
    if not variants:
        return []
    incoming = variants_incoming(variant_ids=list(variants))
    leads = variants_lead_days(variant_ids=list(variants))
    changed: list[Variant] = []
    for pk, variant in variants.items():
        schedule, lead = incoming.get(pk, []), leads.get(pk)
        if schedule != variant.supply_schedule or lead != variant.supply_lead_days:
            variant.supply_schedule, variant.supply_lead_days = schedule, lead
            changed.append(variant)
    if changed:
        Variant.objects.bulk_update(changed, ["supply_schedule", "supply_lead_days"])
    return [variant.pk for variant in changed]


def _supply_changed(variants: Mapping[int, Variant]) -> None:
    """Refresh the variants' supply now and their customers' ETAs after commit."""
    variants_supply_refresh(variants=variants)
    etas_refresh_enqueue(variant_ids=list(variants))


def _event(
    purchase_order: PurchaseOrder,
    kind: str,
    actor: Actor,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    note: str = "",
) -> None:
    PurchaseOrderEvent.objects.create(
        shop_id=purchase_order.shop_id,
        purchase_order=purchase_order,
        kind=kind,
        actor_kind=actor.kind,
        actor_name=actor.name[:255],
        date_from=date_from,
        date_to=date_to,
        note=" ".join(note.split())[:500],
    )


# --- Suppliers -------------------------------------------------------------------------------

SUPPLIER_FIELDS = ("name", "email", "currency", "lead_time_days", "lead_time_spread_days", "is_active")
SUPPLIER_ITEM_FIELDS = (
    "supplier_sku",
    "unit_cost",
    "minimum_order_quantity",
    "pack_size",
    "lead_time_days",
    "priority",
)


def _validated(obj: Supplier | SupplierItem, fields: Collection[str]) -> None:
    try:
        obj.full_clean(
            exclude=[f.name for f in obj._meta.fields if f.name not in fields], validate_unique=True
        )
    except ValidationError as error:
        errors = error.message_dict
        if isinstance(obj, Supplier) and NON_FIELD_ERRORS in errors and "name" in fields:
            # The (shop, name) constraint: said on the field the owner can change.
            errors.pop(NON_FIELD_ERRORS)
            errors["name"] = [
                _("A supplier named “%(name)s” already exists in this shop: choose another name.")
                % {"name": obj.name}
            ]
        raise PurchaseOrderRefused(errors) from error


def _supplier_variants_changed(supplier_ids: Collection[int]) -> None:
    """A supplier's lead time, spread, status or record changed: the variants it sells get
    their padded lead times again (and their customers' ETAs after commit)."""
    variant_ids = supplier_variant_ids(supplier_ids=supplier_ids)
    if variant_ids:
        _supply_changed(variants_lock(variant_ids))


@transaction.atomic
def supplier_create(*, shop: Shop, actor: Actor, **fields: Any) -> Supplier:
    """Add a supplier to ``shop`` (fields of ``SUPPLIER_FIELDS``); validated first
    (``PurchaseOrderRefused`` naming the field: a name already used in the shop, a currency that
    is not ISO 4217, a lead time over two years)."""
    if unknown := sorted(set(fields) - set(SUPPLIER_FIELDS)):
        raise ValueError(f"Not a supplier field: {', '.join(unknown)}.")
    supplier = Supplier(shop=shop, **fields)
    _validated(supplier, [*fields, "shop"])
    supplier.save()
    return supplier


@transaction.atomic
def supplier_update(*, supplier: Supplier, actor: Actor, **changes: Any) -> Supplier:
    """Change a supplier's fields (validated as in ``supplier_create``). A new lead time, spread
    or active flag moves the ETAs that count on its lead time."""
    if unknown := sorted(set(changes) - set(SUPPLIER_FIELDS)):
        raise ValueError(f"Not a supplier field: {', '.join(unknown)}.")
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    for name, value in changes.items():
        setattr(supplier, name, value)
    _validated(supplier, [*changes, "shop"])
    supplier.save()
    if {"lead_time_days", "lead_time_spread_days", "is_active"} & set(changes):
        _supplier_variants_changed([supplier.pk])
    return supplier


@retrying_atomic
def supplier_item_set(*, supplier: Supplier, variant: Variant, actor: Actor, **fields: Any) -> SupplierItem:
    """Say that ``supplier`` sells ``variant`` (or change how: fields of
    ``SUPPLIER_ITEM_FIELDS``); the variant's lead time follows its best supplier."""
    if unknown := sorted(set(fields) - set(SUPPLIER_ITEM_FIELDS)):
        raise ValueError(f"Not a supplier item field: {', '.join(unknown)}.")
    if variant.shop_id != supplier.shop_id:
        raise PurchaseOrderRefused({"variant": _("This item belongs to another shop.")})
    variants = variants_lock([variant.pk])
    item = SupplierItem.objects.filter(supplier=supplier, variant=variant).first() or SupplierItem(
        shop_id=supplier.shop_id, supplier=supplier, variant=variant
    )
    for name, value in fields.items():
        setattr(item, name, value)
    _validated(item, fields)
    item.save()
    _supply_changed(variants)
    return item


@retrying_atomic
def supplier_item_remove(*, item: SupplierItem, actor: Actor) -> None:
    """The supplier no longer sells the variant; its lead time falls back to the next supplier."""
    variants = variants_lock([item.variant_id])
    SupplierItem.objects.filter(pk=item.pk).delete()
    _supply_changed(variants)


# --- Purchase orders -------------------------------------------------------------------------


def _expected_validate(shop: Shop, expected_on: date | None, *, allow_past: bool = False) -> date:
    if expected_on is None:
        raise PurchaseOrderRefused({"expected_on": _("Enter the date the delivery is expected.")})
    today = timezone.localdate(timezone=shop.zoneinfo)
    if not allow_past and expected_on < today:
        raise PurchaseOrderRefused(
            {
                "expected_on": _("%(date)s is in the past (today is %(today)s in the shop's time zone).")
                % {"date": expected_on.isoformat(), "today": today.isoformat()}
            }
        )
    if expected_on > today + timedelta(days=EXPECTED_MAX_DAYS_AHEAD):
        raise PurchaseOrderRefused(
            {
                "expected_on": _("%(date)s is more than %(n)d days from today: check the year.")
                % {"date": expected_on.isoformat(), "n": EXPECTED_MAX_DAYS_AHEAD}
            }
        )
    return expected_on


def _quantities_validate(shop: Shop, lines: Mapping[int, int]) -> dict[int, Variant]:
    """Bound the lines {variant id: quantity} and return the variants (of ``shop`` only)."""
    if len(lines) > PO_LINES_MAX:
        raise PurchaseOrderRefused(
            {"lines": _("At most %(n)d lines per purchase order.") % {"n": PO_LINES_MAX}}
        )
    for variant_id, quantity in lines.items():
        if (
            not isinstance(quantity, int)
            or isinstance(quantity, bool)
            or not 0 <= quantity <= PO_QUANTITY_MAX
        ):
            raise PurchaseOrderRefused(
                {
                    "lines": _("The quantity of item %(id)s must be a whole number from 0 to %(max)d.")
                    % {"id": variant_id, "max": PO_QUANTITY_MAX}
                }
            )
    variants = {v.pk: v for v in Variant.objects.filter(pk__in=list(lines), shop=shop)}
    if missing := sorted(set(lines) - set(variants)):
        raise PurchaseOrderRefused(
            {"lines": _("No item %(ids)s in this shop.") % {"ids": ", ".join(map(str, missing))}}
        )
    return variants


def purchase_order_validate(*, supplier: Supplier, number: str, expected_on: date | None) -> str:
    """Refuse what ``purchase_order_create`` would refuse about the order itself (the admin's
    form calls this to show the message on its field); returns the number, whitespace folded."""
    number = " ".join((number or "").split())
    if not number or len(number) > PO_NUMBER_MAX:
        raise PurchaseOrderRefused(
            {"number": _("Enter a number of 1 to %(n)d characters.") % {"n": PO_NUMBER_MAX}}
        )
    _expected_validate(supplier.shop, expected_on)
    if PurchaseOrder.objects.filter(shop_id=supplier.shop_id, number=number).exists():
        raise PurchaseOrderRefused(
            {"number": _("Purchase order %(number)s already exists in this shop.") % {"number": number}}
        )
    return number


@retrying_atomic
def purchase_order_create(
    *,
    supplier: Supplier,
    number: str,
    expected_on: date | None,
    actor: Actor,
    lines: Mapping[int, int] | None = None,
    note: str = "",
) -> PurchaseOrder:
    """A draft purchase order to ``supplier`` with ``lines`` ({variant id: quantity}); a draft
    counts on nothing until it is sent. Refused: an empty or too long number, one already used
    in the shop, an expected date in the past or years ahead, a quantity out of bounds, an item
    of another shop."""
    shop = supplier.shop
    number = purchase_order_validate(supplier=supplier, number=number, expected_on=expected_on)
    assert expected_on is not None  # validated
    lines = {int(pk): qty for pk, qty in (lines or {}).items() if qty}
    _quantities_validate(shop, lines)
    try:
        with transaction.atomic():
            purchase_order = PurchaseOrder.objects.create(
                shop=shop, supplier=supplier, number=number, expected_on=expected_on, note=note[:PO_NOTE_MAX]
            )
    except IntegrityError as error:  # the same number created at the same moment
        raise PurchaseOrderRefused(
            {"number": _("Purchase order %(number)s already exists in this shop.") % {"number": number}}
        ) from error
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(shop=shop, purchase_order=purchase_order, variant_id=pk, quantity_ordered=qty)
        for pk, qty in sorted(lines.items())
    )
    _event(purchase_order, PurchaseOrderEvent.Kind.CREATED, actor, date_to=expected_on)
    return purchase_order


def _lock(
    purchase_order: PurchaseOrder, extra_variant_ids: Collection[int] = ()
) -> tuple[PurchaseOrder, dict[int, Variant]]:
    """Lock the variants on the order (and ``extra_variant_ids``), then the order itself."""
    ids = set(
        PurchaseOrderLine.objects.filter(purchase_order=purchase_order).values_list("variant_id", flat=True)
    )
    variants = variants_lock(ids | set(extra_variant_ids))
    locked = (
        PurchaseOrder.objects.select_for_update().select_related("shop", "supplier").get(pk=purchase_order.pk)
    )
    return locked, variants


def _state_refusal(purchase_order: PurchaseOrder, allowed: Collection[str], doing: str) -> None:
    if purchase_order.status not in allowed:
        raise PurchaseOrderRefused(
            _("Purchase order %(number)s is %(status)s: it cannot be %(doing)s.")
            % {
                "number": purchase_order.number,
                "status": purchase_order.get_status_display().lower(),
                "doing": doing,
            }
        )


@retrying_atomic
def purchase_order_set_lines(
    *, purchase_order: PurchaseOrder, lines: Mapping[int, int], actor: Actor
) -> PurchaseOrder:
    """Set the quantities of ``lines`` ({variant id: quantity}; 0 removes a line, other items
    keep theirs) on a purchase order not yet fully received or cancelled. A quantity below what was already
    received is refused. The ETAs counting on it follow."""
    lines = {int(pk): qty for pk, qty in lines.items()}
    purchase_order, variants = _lock(purchase_order, lines)
    _state_refusal(purchase_order, Status.editable(), _("changed"))
    _quantities_validate(purchase_order.shop, lines)
    existing = {line.variant_id: line for line in purchase_order.lines.all()}
    for variant_id, quantity in sorted(lines.items()):
        line = existing.get(variant_id)
        if line is None:
            if quantity:
                PurchaseOrderLine.objects.create(
                    shop_id=purchase_order.shop_id,
                    purchase_order=purchase_order,
                    variant_id=variant_id,
                    quantity_ordered=quantity,
                )
        elif quantity < line.quantity_received or (quantity == 0 and line.quantity_received):
            raise PurchaseOrderRefused(
                {
                    "lines": _(
                        "%(item)s: %(received)d units were already received; order at least that many."
                    )
                    % {"item": variants[variant_id], "received": line.quantity_received}
                }
            )
        elif quantity == 0:
            line.delete()
        elif quantity != line.quantity_ordered:
            PurchaseOrderLine.objects.filter(pk=line.pk).update(quantity_ordered=quantity)
    _event(purchase_order, PurchaseOrderEvent.Kind.LINES_CHANGED, actor)
    _supply_changed(variants)
    return purchase_order


@transaction.atomic
def purchase_order_set_note(*, purchase_order: PurchaseOrder, note: str, actor: Actor) -> PurchaseOrder:
    """Replace the order's note (at most ``PO_NOTE_MAX`` characters), with an event."""
    purchase_order = PurchaseOrder.objects.select_for_update().get(pk=purchase_order.pk)
    purchase_order.note = (note or "")[:PO_NOTE_MAX]
    purchase_order.save(update_fields=["note", "updated_at"])
    _event(purchase_order, PurchaseOrderEvent.Kind.UPDATED, actor, note=_("Note changed."))
    return purchase_order


@retrying_atomic
def purchase_order_send(*, purchase_order: PurchaseOrder, actor: Actor) -> PurchaseOrder:
    """Mark a draft purchase order as sent to its supplier: from now on its units count as
    incoming, and the ETAs of the customers it covers move to its expected arrival."""
    purchase_order, variants = _lock(purchase_order)
    _state_refusal(purchase_order, [Status.DRAFT], _("sent"))
    if not variants:
        raise PurchaseOrderRefused(_("Add at least one line before sending the purchase order."))
    purchase_order.status, purchase_order.sent_at = Status.SENT, timezone.now()
    purchase_order.save(update_fields=["status", "sent_at", "updated_at"])
    _event(purchase_order, PurchaseOrderEvent.Kind.SENT, actor, date_to=purchase_order.expected_on)
    _supply_changed(variants)
    return purchase_order


@retrying_atomic
def purchase_order_confirm(
    *, purchase_order: PurchaseOrder, actor: Actor, expected_on: date | None = None
) -> PurchaseOrder:
    """The supplier confirmed a sent purchase order (optionally with its own arrival date)."""
    purchase_order, variants = _lock(purchase_order)
    _state_refusal(purchase_order, [Status.SENT], _("confirmed"))
    old = purchase_order.expected_on
    if expected_on is not None:
        purchase_order.expected_on = _expected_validate(purchase_order.shop, expected_on)
    purchase_order.status, purchase_order.confirmed_at = Status.CONFIRMED, timezone.now()
    purchase_order.save(update_fields=["status", "confirmed_at", "expected_on", "updated_at"])
    _event(
        purchase_order,
        PurchaseOrderEvent.Kind.CONFIRMED,
        actor,
        date_from=old,
        date_to=purchase_order.expected_on,
    )
    _supply_changed(variants)
    return purchase_order


@retrying_atomic
def purchase_order_set_expected(
    *, purchase_order: PurchaseOrder, expected_on: date | None, actor: Actor, note: str = ""
) -> PurchaseOrder:
    """Move the expected arrival of a purchase order not yet fully received (the supplier
    slipped, or is early). The ETAs of the customers it covers move with it after commit, and
    each whose ETA moves by more than the shop's threshold gets one "delayed" or "earlier"
    email. The same date again changes nothing."""
    purchase_order, variants = _lock(purchase_order)
    _state_refusal(purchase_order, [Status.DRAFT, *Status.incoming()], _("rescheduled"))
    expected_on = _expected_validate(purchase_order.shop, expected_on)
    if expected_on == purchase_order.expected_on:
        return purchase_order
    old, purchase_order.expected_on = purchase_order.expected_on, expected_on
    purchase_order.save(update_fields=["expected_on", "updated_at"])
    _event(
        purchase_order,
        PurchaseOrderEvent.Kind.EXPECTED_CHANGED,
        actor,
        date_from=old,
        date_to=expected_on,
        note=note,
    )
    _supply_changed(variants)
    return purchase_order


@retrying_atomic
def purchase_order_cancel(*, purchase_order: PurchaseOrder, actor: Actor, reason: str = "") -> PurchaseOrder:
    """Cancel a purchase order not yet fully received: its remaining units no longer count, and
    the customers who counted on them get their ETAs from what is left."""
    purchase_order, variants = _lock(purchase_order)
    _state_refusal(purchase_order, [Status.DRAFT, *Status.incoming()], _("cancelled"))
    purchase_order.status, purchase_order.cancelled_at = Status.CANCELLED, timezone.now()
    purchase_order.save(update_fields=["status", "cancelled_at", "updated_at"])
    _event(purchase_order, PurchaseOrderEvent.Kind.CANCELLED, actor, note=reason)
    _supply_changed(variants)
    return purchase_order


@retrying_atomic
def purchase_order_receive(
    *,
    purchase_order: PurchaseOrder,
    lines: Mapping[int, int],
    location: Location | None,
    actor: Actor,
) -> Receipt:
    """Receive ``lines`` ({purchase order line id: units arrived}) of a sent, confirmed or
    partially received purchase order at ``location`` (None: the shop's first location).

    Stock rises through the core (``stock_receive``: waiting customers are allocated in arrival
    order and emailed "ready to ship"); the lines' received quantities and the order's status
    follow (received when every line is complete, else partially received); a ``Receipt``
    records the promised and the actual arrival (today in the shop's time zone), which measures
    the supplier's lateness and so pads the lead times of everything it sells. Customers still
    waiting keep counting on the order's remaining units.

    Refused (``PurchaseOrderRefused``, nothing written): a draft, cancelled or received order; a
    line of another order; a quantity that is not a whole number from 0 up to what is still to
    come (over-receipt); nothing to receive at all; a location of another shop.
    """
    # The supplier's record changes: every variant it sells gets a new lead time, so all of them
    # are locked here, before the order (the house lock order).
    purchase_order, variants = _lock(
        purchase_order, supplier_variant_ids(supplier_ids=[purchase_order.supplier_id])
    )
    if purchase_order.status == Status.DRAFT:
        raise PurchaseOrderRefused(
            _("Purchase order %(number)s is still a draft: send it before receiving it.")
            % {"number": purchase_order.number}
        )
    _state_refusal(purchase_order, Status.incoming(), _("received"))
    shop = purchase_order.shop
    if location is None:
        location = location_default(shop=shop)
    elif location.shop_id != shop.pk:
        raise PurchaseOrderRefused({"location": _("This location belongs to another shop.")})
    by_id = {line.pk: line for line in purchase_order.lines.all()}
    quantities: dict[int, int] = {}
    for line_id, quantity in lines.items():
        line = by_id.get(int(line_id))
        if line is None:
            raise PurchaseOrderRefused(
                {
                    "lines": _("Line %(id)s is not on purchase order %(number)s.")
                    % {"id": line_id, "number": purchase_order.number}
                }
            )
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise PurchaseOrderRefused(
                {
                    "lines": _("%(item)s: enter a whole number of units, 0 or more.")
                    % {"item": variants[line.variant_id]}
                }
            )
        if quantity > line.quantity_remaining:
            raise PurchaseOrderRefused(
                {
                    "lines": _(
                        "%(item)s: %(n)d units received, but only %(left)d of %(ordered)d are still to come. "
                        "Receive at most %(left)d (or change the order's quantity first)."
                    )
                    % {
                        "item": variants[line.variant_id],
                        "n": quantity,
                        "left": line.quantity_remaining,
                        "ordered": line.quantity_ordered,
                    }
                }
            )
        if quantity:
            quantities[line.pk] = quantity
    if not quantities:
        raise PurchaseOrderRefused({"lines": _("Enter how many units arrived for at least one line.")})
    for line_id, quantity in sorted(quantities.items()):
        line = by_id[line_id]
        PurchaseOrderLine.objects.filter(pk=line_id).update(
            quantity_received=F("quantity_received") + quantity
        )
        line.quantity_received += quantity
    complete = all(line.quantity_remaining == 0 for line in by_id.values())
    now = timezone.now()
    purchase_order.status = Status.RECEIVED if complete else Status.PARTIALLY_RECEIVED
    purchase_order.received_at = now if complete else purchase_order.received_at
    purchase_order.save(update_fields=["status", "received_at", "updated_at"])
    today = timezone.localdate(timezone=shop.zoneinfo)
    receipt = Receipt.objects.create(
        shop=shop,
        supplier_id=purchase_order.supplier_id,
        purchase_order=purchase_order,
        location=location,
        promised_on=purchase_order.expected_on,
        received_on=today,
        days_late=(today - purchase_order.expected_on).days,
        units=sum(quantities.values()),
        quantities={str(pk): qty for pk, qty in quantities.items()},
        actor_kind=actor.kind,
        actor_name=actor.name[:255],
    )
    _event(
        purchase_order,
        PurchaseOrderEvent.Kind.RECEIVED,
        actor,
        date_from=purchase_order.expected_on,
        date_to=today,
        note=_("%(n)d units at %(location)s") % {"n": receipt.units, "location": location},
    )
    # The supply first (the received units no longer count as incoming), then the stock: the
    # allocation's emails and the ETA recomputation after commit see both.
    variants_supply_refresh(variants=variants)
    for line_id, quantity in sorted(quantities.items(), key=lambda item: by_id[item[0]].variant_id):
        stock_receive(
            variant=variants[by_id[line_id].variant_id], location=location, quantity=quantity, actor=actor
        )
    etas_refresh_enqueue(variant_ids=list(variants))
    return receipt
