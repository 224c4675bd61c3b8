"""Inventory facts that arrive before their product (out-of-order delivery): kept, then applied."""

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef

from backorders.models import Location, PendingInventory, Shop, Variant
from backorders.services.audit import Actor


@transaction.atomic
def pending_inventory_record(
    *,
    shop: Shop,
    inventory_item_id: int,
    location_platform_id: int | None = None,
    available: int | None = None,
    tracked: bool | None = None,
    updated_at: datetime | None = None,
) -> PendingInventory:
    """Keep an inventory fact about an item no variant has yet: a location's available units
    (``location_platform_id`` and ``available``) or the item's ``tracked`` flag (no location).
    Of two facts about the same item and location, the one with the newer ``updated_at`` stays."""
    pending, created = PendingInventory.objects.select_for_update().get_or_create(
        shop=shop,
        inventory_item_id=inventory_item_id,
        location_platform_id=location_platform_id,
        defaults={"available": available, "tracked": tracked, "platform_updated_at": updated_at},
    )
    stale = (
        pending.platform_updated_at is not None
        and updated_at is not None
        and updated_at < pending.platform_updated_at
    )
    if not created and not stale:
        pending.available, pending.tracked = available, tracked
        pending.platform_updated_at = updated_at or pending.platform_updated_at
        pending.save()
    return pending


@transaction.atomic
def pending_inventory_locations_prepare(*, shop: Shop, inventory_item_ids: list[int]) -> int:
    """Create (or take over) the locations that the kept facts about these items name, before
    any variant is locked: locations come first in the house lock order (``services.locking``),
    since a stock update creates its location before locking its variant. Call it before
    ``product_upsert`` when ``pending_inventory_apply`` follows. Returns the number of locations."""
    from backorders.services.catalog import location_get_or_create

    if not inventory_item_ids:
        return 0
    platform_ids = sorted(
        {
            platform_id
            for platform_id in PendingInventory.objects.filter(
                shop=shop, inventory_item_id__in=inventory_item_ids
            ).values_list("location_platform_id", flat=True)
            if platform_id is not None
        }
    )
    for platform_id in platform_ids:
        location_get_or_create(shop=shop, platform_id=platform_id)
    return len(platform_ids)


@transaction.atomic
def pending_inventory_apply(*, shop: Shop, inventory_item_ids: list[int], actor: Actor) -> int:
    """Apply, then delete, the kept facts about these inventory items now that their variants
    exist: ``tracked`` first, then each location's level (``stock_set_available`` ignores a level
    older than the one stored, and allocates on a rise). Returns the number of facts applied.

    The caller may hold the variants' locks (``product_upsert`` took them), so no location is
    created here: ``pending_inventory_locations_prepare`` did that first. A fact whose location
    is still unknown (it arrived in between) stays kept for the sweeper, which prepares first.
    """
    from backorders.services.catalog import variant_set_tracked
    from backorders.services.stock import stock_set_available

    if not inventory_item_ids:
        return 0
    facts = list(
        PendingInventory.objects.select_for_update()
        .filter(shop=shop, inventory_item_id__in=inventory_item_ids)
        .order_by("location_platform_id", "pk")
    )
    if not facts:
        return 0
    variants = {
        v.inventory_item_id: v
        for v in Variant.objects.filter(shop=shop, inventory_item_id__in={f.inventory_item_id for f in facts})
    }
    locations = {
        location.platform_id: location
        for location in Location.objects.filter(
            shop=shop, platform_id__in={f.location_platform_id for f in facts if f.location_platform_id}
        )
    }
    applied = []
    for fact in sorted(facts, key=lambda f: f.location_platform_id is not None):
        variant = variants.get(fact.inventory_item_id)
        if variant is None:
            continue
        if fact.location_platform_id is None:
            if fact.tracked is not None:
                variant_set_tracked(variant=variant, tracked=fact.tracked, actor=actor)
        elif fact.available is not None:
            location = locations.get(fact.location_platform_id)
            if location is None:
                continue
            stock_set_available(
                variant=variant,
                available=fact.available,
                location=location,
                updated_at=fact.platform_updated_at,
                actor=actor,
            )
        applied.append(fact.pk)
    PendingInventory.objects.filter(pk__in=applied).delete()
    return len(applied)


def pending_inventory_sweep() -> int:
    """Apply kept inventory facts whose variant exists by now (a product and an inventory update
    that raced each other may both have missed the other)."""
    applied = 0
    item_ids = (
        PendingInventory.objects.filter(
            Exists(
                Variant.objects.filter(shop=OuterRef("shop"), inventory_item_id=OuterRef("inventory_item_id"))
            )
        )
        .values_list("shop_id", "inventory_item_id")
        .distinct()
    )
    by_shop: dict[int, list[int]] = {}
    for shop_id, item_id in item_ids:
        by_shop.setdefault(shop_id, []).append(item_id)
    for shop in Shop.objects.filter(pk__in=by_shop):
        pending_inventory_locations_prepare(shop=shop, inventory_item_ids=by_shop[shop.pk])
        applied += pending_inventory_apply(
            shop=shop, inventory_item_ids=by_shop[shop.pk], actor=Actor.system("webhook sweeper")
        )
    return applied
