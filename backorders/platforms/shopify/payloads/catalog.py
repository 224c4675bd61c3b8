"""Products, variants and inventory."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backorders.models import Product, Variant
from backorders.platforms.shopify.payloads.fields import (
    as_bool,
    as_datetime,
    as_decimal,
    as_id,
    as_list,
    as_object,
    as_optional_id,
    as_stock,
    as_str,
    as_url,
    max_length,
    required,
)
from backorders.services.catalog import ProductData, VariantData

TAGS_MAX = 65_535
"""The longest tags string (the platform allows 250 tags of 255 characters, comma-separated)."""


def variant_data(data: Any, path: str, *, fallback_updated_at: datetime | None = None) -> VariantData:
    data = as_object(data, path)
    policy = as_str(data.get("inventory_policy"), f"{path}.inventory_policy")
    return VariantData(
        platform_id=as_id(required(data, "id", path), f"{path}.id"),
        title=as_str(data.get("title"), f"{path}.title", max_length=max_length(Variant, "title")),
        sku=as_str(data.get("sku"), f"{path}.sku", max_length=max_length(Variant, "sku")),
        price=as_decimal(data.get("price"), f"{path}.price"),
        inventory_item_id=as_optional_id(data.get("inventory_item_id"), f"{path}.inventory_item_id"),
        inventory_policy=policy if policy in ("continue", "deny") else "",
        updated_at=as_datetime(data.get("updated_at"), f"{path}.updated_at") or fallback_updated_at,
    )


def _image_url(data: Mapping[str, Any]) -> str:
    image, path = data.get("image"), "image.src"
    if not isinstance(image, dict):
        images, path = data.get("images"), "images[0].src"
        image = images[0] if isinstance(images, list) and images and isinstance(images[0], dict) else {}
    return as_url(image.get("src"), path, max_length=max_length(Product, "image_url"))


def product_data(payload: Any, *, fallback_updated_at: datetime | None = None) -> ProductData:
    """``products/create`` and ``products/update``: the product with all its variants."""
    data = as_object(payload, "")
    updated_at = as_datetime(data.get("updated_at"), "updated_at") or fallback_updated_at
    tags = data.get("tags")
    if isinstance(tags, list):
        tags = ",".join(as_str(tag, "tags[]") for tag in tags)  # each at most 255, the whole TAGS_MAX
    return ProductData(
        platform_id=as_id(required(data, "id"), "id"),
        title=as_str(required(data, "title"), "title", max_length=max_length(Product, "title")),
        handle=as_str(data.get("handle"), "handle", max_length=max_length(Product, "handle")),
        product_type=as_str(
            data.get("product_type"), "product_type", max_length=max_length(Product, "product_type")
        ),
        vendor=as_str(data.get("vendor"), "vendor", max_length=max_length(Product, "vendor")),
        tags=as_str(tags, "tags", max_length=TAGS_MAX),
        status=as_str(data.get("status"), "status") or "active",
        image_url=_image_url(data),
        updated_at=updated_at,
        variants=tuple(
            variant_data(item, f"variants[{i}]", fallback_updated_at=updated_at)
            for i, item in enumerate(as_list(data.get("variants"), "variants"))
        ),
    )


def resource_id(payload: Any) -> int:
    """The ``id`` of a resource (``products/delete`` sends ``{"id": …}`` only)."""
    return as_id(required(as_object(payload, ""), "id"), "id")


# Inventory


@dataclass(frozen=True)
class InventoryLevelData:
    inventory_item_id: int
    location_id: int
    available: int | None  # None: the level does not hold a count (untracked)
    updated_at: datetime | None


@dataclass(frozen=True)
class InventoryItemData:
    inventory_item_id: int
    tracked: bool
    updated_at: datetime | None


@dataclass(frozen=True)
class VariantStockData:
    variant_id: int
    inventory_quantity: int | None
    updated_at: datetime | None


def inventory_level(payload: Any, *, fallback_updated_at: datetime | None = None) -> InventoryLevelData:
    """``inventory_levels/update`` and ``/connect``: units available for one item at one location."""
    data = as_object(payload, "")
    return InventoryLevelData(
        inventory_item_id=as_id(required(data, "inventory_item_id"), "inventory_item_id"),
        location_id=as_id(required(data, "location_id"), "location_id"),
        available=as_stock(data.get("available"), "available"),
        updated_at=as_datetime(data.get("updated_at"), "updated_at") or fallback_updated_at,
    )


def inventory_item(payload: Any, *, fallback_updated_at: datetime | None = None) -> InventoryItemData:
    """``inventory_items/update``: whether the item's stock is tracked."""
    data = as_object(payload, "")
    return InventoryItemData(
        inventory_item_id=as_id(required(data, "id"), "id"),
        tracked=as_bool(required(data, "tracked"), "tracked"),
        updated_at=as_datetime(data.get("updated_at"), "updated_at") or fallback_updated_at,
    )


def variant_stock(payload: Any, *, fallback_updated_at: datetime | None = None) -> VariantStockData:
    """``variants/in_stock`` and ``variants/out_of_stock``: a variant and its total quantity."""
    data = as_object(payload, "")
    return VariantStockData(
        variant_id=as_id(required(data, "id"), "id"),
        inventory_quantity=as_stock(data.get("inventory_quantity"), "inventory_quantity"),
        updated_at=as_datetime(data.get("updated_at"), "updated_at") or fallback_updated_at,
    )
