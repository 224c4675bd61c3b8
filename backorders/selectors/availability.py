"""What a variant offers a customer now: its policy, its state, the ETA of its next unit, a quote.

Reads only (selectors): the storefront, the admin, the checkout and the services ask here.

Resolution order, field by field: variant override > product override > shop default. For the
mode, the platform's own inventory policy sits between the owner's overrides and the shop
default: a variant the platform sells beyond stock (``continue``) is backorderable unless the
owner overrode it, one it does not (``deny``) is not.
"""

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from backorders.conf import get_setting
from backorders.models import BackorderMode, Product, Variant
from backorders.models.orders import EtaSource


class AvailabilityState(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    LOW_STOCK = "low_stock", _("Low stock")
    BACKORDER = "backorder", _("Backorder")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")
    DISCONTINUED = "discontinued", _("Discontinued")


@dataclass(frozen=True)
class Policy:
    """A variant's effective backorder policy (every field resolved)."""

    mode: str
    limit: int | None
    restock_date: date | None
    restock_note: str
    handling_days: int
    restock_lead_days: int | None
    low_stock_threshold: int
    discontinued: bool
    tracked: bool

    @property
    def backorderable(self) -> bool:
        return self.mode == BackorderMode.ALLOW and self.tracked and not self.discontinued


def _first(*values: Any) -> Any:
    """The first value that is neither None nor empty."""
    for value in values:
        if value is not None and value != "":
            return value
    return None


def policy_resolve(variant: Variant) -> Policy:
    """Resolve ``variant``'s policy; expects ``product`` and ``shop`` loaded (select_related)."""
    product, shop = variant.product, variant.shop
    platform_modes: dict[str, str] = {
        Variant.InventoryPolicy.CONTINUE: BackorderMode.ALLOW,
        Variant.InventoryPolicy.DENY: BackorderMode.DENY,
    }
    platform_mode = platform_modes.get(variant.inventory_policy)
    return Policy(
        mode=_first(variant.backorder_mode, product.backorder_mode, platform_mode, shop.backorder_mode),
        limit=_first(variant.backorder_limit, product.backorder_limit, shop.backorder_limit),
        restock_date=_first(variant.restock_date, product.restock_date),
        restock_note=_first(variant.restock_note, product.restock_note) or "",
        handling_days=_first(
            variant.handling_days,
            product.handling_days,
            shop.handling_days,
            get_setting("DEFAULT_HANDLING_DAYS"),
        ),
        restock_lead_days=_first(shop.restock_lead_days, get_setting("DEFAULT_RESTOCK_LEAD_DAYS")),
        low_stock_threshold=_first(
            variant.low_stock_threshold,
            product.low_stock_threshold,
            shop.low_stock_threshold,
            get_setting("DEFAULT_LOW_STOCK_THRESHOLD"),
        ),
        discontinued=(
            variant.discontinued
            or product.discontinued
            or variant.is_archived
            or product.status == Product.Status.ARCHIVED
        ),
        tracked=variant.inventory_tracked,
    )


def free_stock(variant: Variant) -> int:
    """Units a new order can take from stock now.

    Allocation keeps the invariant "units waiting > 0 implies available <= 0", so the free units
    are simply the positive part of ``available``.
    """
    return max(variant.available, 0)


def backorder_room(variant: Variant, policy: Policy) -> int | None:
    """How many more units may wait for ``variant`` (None = no limit; 0 = none)."""
    if not policy.backorderable:
        return 0
    if policy.limit is None:
        return None
    return max(policy.limit - variant.units_waiting, 0)


def availability_state(variant: Variant, policy: Policy | None = None) -> AvailabilityState:
    """The one decision of a variant's state: badge, API and admin all show this."""
    policy = policy or policy_resolve(variant)
    if policy.discontinued:
        return AvailabilityState.DISCONTINUED
    if not policy.tracked:
        return AvailabilityState.IN_STOCK
    free = free_stock(variant)
    if free > policy.low_stock_threshold:
        return AvailabilityState.IN_STOCK
    if free > 0:
        return AvailabilityState.LOW_STOCK
    if backorder_room(variant, policy) != 0:
        return AvailabilityState.BACKORDER
    return AvailabilityState.OUT_OF_STOCK


# --- ETAs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eta:
    date: date | None
    source: str  # an EtaSource value
    # The purchase order whose arrival it counts on (source "purchase"), else None / "".
    purchase_order_id: int | None = None
    purchase_order_number: str = ""

    @classmethod
    def unknown(cls) -> "Eta":
        return cls(None, EtaSource.UNKNOWN)


def shop_today(variant: Variant) -> date:
    """Today in the shop's time zone (an ETA is a date where the shop is)."""
    return timezone.localdate(timezone=variant.shop.zoneinfo)


class EtaPlanner:
    """The ETA of any unit of one variant's queue, without a query: the engine behind every
    ETA (the checkout's, each waiting customer's, the product page's).

    Waiting units are matched against incoming supply in arrival order: the variant's open
    purchase order lines (``Variant.supply_schedule``, kept by ``services.purchasing``) by
    expected arrival, their remaining units added up. A unit covered by a purchase order ships
    at that order's expected arrival (never before today: a late delivery is "any day now") plus
    handling days. A unit no purchase order covers ships by the owner's restock date if there is
    one, else after the best supplier's padded lead time from today (``Variant.supply_lead_days``,
    an estimate), else after the shop's restock lead time (an estimate), else at an unknown date
    (never before the last covering delivery: the queue keeps its order). Dates are in the shop's
    time zone.
    """

    def __init__(self, variant: Variant, policy: Policy | None = None) -> None:
        policy = policy or policy_resolve(variant)
        today = shop_today(variant)
        handling = timedelta(days=policy.handling_days)
        self.bounds: list[int] = []
        self.covered: list[Eta] = []
        total = 0
        for entry in variant.supply_schedule or []:
            total += int(entry["units"])
            self.bounds.append(total)
            arrival = max(date.fromisoformat(str(entry["date"])), today)
            self.covered.append(
                Eta(arrival + handling, EtaSource.PURCHASE_ORDER, int(entry["po"]), str(entry["number"]))
            )
        if policy.restock_date is not None:
            self.uncovered = Eta(max(policy.restock_date, today) + handling, EtaSource.MANUAL)
        elif variant.supply_lead_days is not None:
            self.uncovered = Eta(
                today + timedelta(days=variant.supply_lead_days) + handling, EtaSource.SUPPLIER
            )
        elif policy.restock_lead_days is not None:
            self.uncovered = Eta(
                today + timedelta(days=policy.restock_lead_days) + handling, EtaSource.LEAD_TIME
            )
        else:
            self.uncovered = Eta.unknown()
        last = self.covered[-1].date if self.covered else None
        if last is not None and self.uncovered.date is not None and self.uncovered.date < last:
            # Nobody behind the queue is promised a date before the customers ahead of them:
            # units no delivery covers come after the last one that is coming.
            self.uncovered = Eta(last, self.uncovered.source)

    def eta(self, *, units_ahead: int, quantity: int = 1) -> Eta:
        """The ETA of ``quantity`` units behind ``units_ahead`` waiting ones: the date of the
        supply that covers the last of them."""
        index = bisect_left(self.bounds, units_ahead + max(quantity, 1))
        return self.covered[index] if index < len(self.covered) else self.uncovered


def eta_estimate(
    *, variant: Variant, units_ahead: int = 0, policy: Policy | None = None, quantity: int = 1
) -> Eta:
    """The ETA of ``quantity`` units (the next one by default) with ``units_ahead`` waiting units
    before them in ``variant``'s queue (``EtaPlanner``); no query."""
    return EtaPlanner(variant, policy).eta(units_ahead=units_ahead, quantity=quantity)


# --- The checkout quote -------------------------------------------------------------------------


class InvalidQuantity(ValueError):
    """A quantity a customer cannot ask for (below 1)."""


@dataclass(frozen=True)
class Quote:
    """What a customer asking for ``quantity`` units would get now."""

    from_stock: int
    backordered: int
    allowed: bool
    reason: str
    eta: Eta
    state: AvailabilityState


def refusal_reason(policy: Policy, variant: Variant, short: int) -> str:
    """Why ``short`` more units may not wait for ``variant`` ("" when they may): the checkout's
    rule, shared by the quote and by ``services.checkout.order_record``."""
    if short <= 0:
        return ""
    if policy.discontinued:
        return _t("%(item)s is discontinued; only %(n)d left in stock.") % {
            "item": variant,
            "n": free_stock(variant),
        }
    if not policy.tracked:
        return ""
    if not policy.backorderable:
        return _t("Only %(n)d of %(item)s in stock, and it cannot be backordered.") % {
            "n": free_stock(variant),
            "item": variant,
        }
    room = backorder_room(variant, policy)
    if room is not None and short > room:
        return _t("Only %(room)d more of %(item)s can be backordered (asked: %(short)d).") % {
            "room": room,
            "item": variant,
            "short": short,
        }
    return ""


def availability_quote(*, variant: Variant, quantity: int) -> Quote:
    """Quote ``quantity`` units of ``variant``: read-only, no query (expects ``variant`` with
    ``product`` and ``shop`` loaded). The ETA is the one the customer would get at the back of
    the current queue; what the quote allows is what ``order_record`` accepts."""
    if quantity < 1:
        raise InvalidQuantity(_t("Quantity must be at least 1."))
    policy = policy_resolve(variant)
    state = availability_state(variant, policy)
    if not policy.tracked:
        return Quote(quantity, 0, True, "", Eta.unknown(), state)
    from_stock = min(quantity, free_stock(variant))
    short = quantity - from_stock
    reason = refusal_reason(policy, variant, short)
    eta = (
        eta_estimate(variant=variant, units_ahead=variant.units_waiting, policy=policy, quantity=short)
        if short
        else Eta.unknown()
    )
    return Quote(from_stock, short, not reason, reason, eta, state)
