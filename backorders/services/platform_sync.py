"""The rules for applying what a commerce platform reports, whichever platform reports it.

A platform adapter decodes its payloads into plain values; where turning those values into a
service call takes a decision about our data, the decision is made here, stated once:

* a variant's total stock (``variant_total_stock_set``) is stored only where it cannot be taken
  for a count at one location;
* units shipped (``order_shipments_apply``) are cumulative per line, derived from what the
  platform says is still to ship where it says so;
* an order's lines find their variants (``order_line_variants``), except for an order cancelled
  before we saw it, and a line whose variant is not recorded yet is retried, not lost.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from backorders.models import InventoryLevel, Location, Order, Shop, Variant
from backorders.selectors.catalog import variant_pks_by_platform_id
from backorders.selectors.orders import order_is_recorded
from backorders.services.audit import Actor
from backorders.services.lifecycle import Tracking, order_fulfill
from backorders.services.stock import stock_set_available


class NotYetKnown(Exception):
    """The delivery refers to catalog rows not recorded yet; retried, since the platform's other
    deliveries (the product's own report) usually bring them within seconds."""


@transaction.atomic
def variant_total_stock_set(
    *, variant: Variant, available: int, updated_at: datetime | None, actor: Actor
) -> InventoryLevel | None:
    """Store a variant's total quantity (``variants/in_stock``-like reports) as its available
    units, if that total can only mean one location: the variant is stocked at exactly one
    location, or at none yet in a shop with at most one location (then the shop's default). Else
    nothing is stored (returns None): the per-location reports the platform sends with it carry
    the truth. Returns the level set otherwise (see ``stock_set_available``)."""
    levels = list(InventoryLevel.objects.filter(variant=variant).select_related("location")[:2])
    location: Location | None
    if len(levels) == 1:
        location = levels[0].location
    elif not levels and Location.objects.filter(shop_id=variant.shop_id).count() <= 1:
        location = None  # the shop's only (or default) location
    else:
        return None
    return stock_set_available(
        variant=variant, available=available, location=location, updated_at=updated_at, actor=actor
    )


@dataclass(frozen=True)
class ShipmentLine:
    """One line of a platform's shipment report: the order line's platform id, the units this
    shipment carries, and (where the platform says) how many units are still to ship."""

    platform_id: int
    quantity: int
    still_to_ship: int | None = None


@transaction.atomic
def order_shipments_apply(
    *, order: Order, lines: Sequence[ShipmentLine], tracking: Tracking, actor: Actor
) -> Order:
    """Mark what has shipped of ``order`` from one shipment report (``order_fulfill``), with its
    tracking. Lines the order does not have are skipped.

    Units shipped are cumulative per line: where the platform says how many are still to ship,
    the line has shipped its quantity minus those (at least this shipment's units). The platform
    counts what is still to ship against its own quantity, which includes units cancelled here
    until the owner edits the order, so cancelled units are added back to ours first."""
    quantities = {
        platform_id: quantity + cancelled
        for platform_id, quantity, cancelled in order.lines.values_list(
            "platform_id", "quantity", "quantity_cancelled"
        )
    }
    shipped = {}
    for line in lines:
        if line.platform_id not in quantities:
            continue
        units = line.quantity
        if line.still_to_ship is not None:
            units = max(units, quantities[line.platform_id] - line.still_to_ship)
        shipped[line.platform_id] = units
    return order_fulfill(order=order, actor=actor, shipped=shipped, tracking=tracking)


@dataclass(frozen=True)
class PlatformLine:
    """What ``order_line_variants`` needs of one order line: the platform's variant id (None for
    a custom item) and whether its product still exists on the platform."""

    variant_id: int | None
    product_exists: bool = True


def order_line_variants(
    *, shop: Shop, order_platform_id: int, cancelled: bool, lines: Sequence[PlatformLine]
) -> dict[int, int]:
    """The platform's variant ids of an order's ``lines`` → our Variant pks, in one query, for
    recording the order (``order_record``); a line whose variant is absent is stored without one
    (never backordered).

    An order cancelled before we saw it gets no variants at all: it is recorded cancelled with
    nothing committed or backordered and nobody emailed, so that a late creation report finds it
    cancelled instead of creating backorders for it.

    A variant we do not know yet whose product still exists is expected (its product's creation
    report is late): ``NotYetKnown`` retries the delivery rather than lose a backorder. One whose
    product was deleted becomes a line without a variant."""
    if cancelled and not order_is_recorded(shop=shop, platform_id=order_platform_id):
        return {}
    found = variant_pks_by_platform_id(
        shop=shop, platform_ids=(line.variant_id for line in lines if line.variant_id is not None)
    )
    missing = sorted(
        {
            line.variant_id
            for line in lines
            if line.variant_id is not None and line.variant_id not in found and line.product_exists
        }
    )
    if missing:
        raise NotYetKnown(
            f"Variant(s) {', '.join(map(str, missing))} are not in the catalog yet (the platform has not "
            "reported their products). Once the products are synced, process this delivery again."
        )
    return found
