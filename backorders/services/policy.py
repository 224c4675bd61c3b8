"""The backorder policy of a variant and the one function that decides its availability state.

Resolution order, field by field: variant override > product override > shop default. For the
mode, the platform's own inventory policy sits between the owner's overrides and the shop
default: a variant the platform sells beyond stock (``continue``) is backorderable unless the
owner overrode it, one it does not (``deny``) is not.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from backorders.conf import get_setting
from backorders.models import BackorderMode, Product, Variant


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
