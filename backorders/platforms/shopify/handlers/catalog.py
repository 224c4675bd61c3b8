"""Catalog and stock topics: products, inventory items and levels, variant totals."""

from typing import Any

from backorders.platforms.shopify import payloads
from backorders.platforms.shopify.handlers.context import Context
from backorders.selectors.catalog import (
    product_by_platform_id,
    variant_by_inventory_item,
    variant_by_platform_id,
)
from backorders.services.catalog import (
    location_get_or_create,
    product_archive,
    product_upsert,
    variant_set_tracked,
)
from backorders.services.platform_sync import variant_total_stock_set
from backorders.services.stock import stock_set_available
from backorders.services.webhooks import (
    pending_inventory_apply,
    pending_inventory_locations_prepare,
    pending_inventory_record,
)


def products_upsert(ctx: Context, payload: dict[str, Any]) -> None:
    """``products/create``, ``products/update``: upsert, then apply inventory that came first."""
    data = payloads.product_data(payload, fallback_updated_at=ctx.triggered_at)
    item_ids = [v.inventory_item_id for v in data.variants if v.inventory_item_id is not None]
    # Locations before variants (the house lock order, services/locking.py).
    pending_inventory_locations_prepare(shop=ctx.shop, inventory_item_ids=item_ids)
    product_upsert(shop=ctx.shop, data=data)
    pending_inventory_apply(shop=ctx.shop, inventory_item_ids=item_ids, actor=ctx.actor)


def products_delete(ctx: Context, payload: dict[str, Any]) -> None:
    """``products/delete``: archive the product (never delete it); flag its waiting backorders."""
    product = product_by_platform_id(shop=ctx.shop, platform_id=payloads.resource_id(payload))
    if product is not None:
        product_archive(product=product, actor=ctx.actor)


def inventory_level_update(ctx: Context, payload: dict[str, Any]) -> None:
    """``inventory_levels/update``, ``/connect``: set available at that location (a rise
    allocates); an item no variant has yet is kept for its product."""
    level = payloads.inventory_level(payload, fallback_updated_at=ctx.triggered_at)
    variant = variant_by_inventory_item(shop=ctx.shop, inventory_item_id=level.inventory_item_id)
    if level.available is None:  # a level without a count (untracked item): nothing to set
        return
    if variant is None:
        pending_inventory_record(
            shop=ctx.shop,
            inventory_item_id=level.inventory_item_id,
            location_platform_id=level.location_id,
            available=level.available,
            updated_at=level.updated_at,
        )
        return
    stock_set_available(
        variant=variant,
        available=level.available,
        location=location_get_or_create(shop=ctx.shop, platform_id=level.location_id),
        updated_at=level.updated_at,
        actor=ctx.actor,
    )


def inventory_item_update(ctx: Context, payload: dict[str, Any]) -> None:
    """``inventory_items/create``, ``/update``: ``tracked: false`` = never backordered."""
    item = payloads.inventory_item(payload, fallback_updated_at=ctx.triggered_at)
    variant = variant_by_inventory_item(shop=ctx.shop, inventory_item_id=item.inventory_item_id)
    if variant is None:
        pending_inventory_record(
            shop=ctx.shop,
            inventory_item_id=item.inventory_item_id,
            tracked=item.tracked,
            updated_at=item.updated_at,
        )
        return
    variant_set_tracked(variant=variant, tracked=item.tracked, actor=ctx.actor)


def variant_stock_changed(ctx: Context, payload: dict[str, Any]) -> None:
    """``variants/in_stock``, ``variants/out_of_stock``: the variant's total quantity, stored
    where it cannot be confused with a per-location count (``variant_total_stock_set``)."""
    data = payloads.variant_stock(payload, fallback_updated_at=ctx.triggered_at)
    variant = variant_by_platform_id(shop=ctx.shop, platform_id=data.variant_id)
    if variant is None or data.inventory_quantity is None:
        return
    variant_total_stock_set(
        variant=variant, available=data.inventory_quantity, updated_at=data.updated_at, actor=ctx.actor
    )
