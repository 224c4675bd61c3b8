"""Shops and the catalog, created and updated from plain values (platform adapter, demo, commands).

Platform data carries its own ``updated_at``: data older than what is stored is ignored, so that
late or out-of-order deliveries never overwrite newer data.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from backorders.models import Product, Shop, Variant


@dataclass(frozen=True)
class VariantData:
    platform_id: int | None
    title: str = ""
    sku: str = ""
    price: Decimal = Decimal("0")
    inventory_item_id: int | None = None
    inventory_policy: str = ""  # "continue", "deny" or "" (not from a platform)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ProductData:
    platform_id: int | None
    title: str
    handle: str = ""
    product_type: str = ""
    vendor: str = ""
    tags: Sequence[str] = ()
    status: str = Product.Status.ACTIVE
    image_url: str = ""
    updated_at: datetime | None = None
    variants: Sequence[VariantData] = field(default_factory=tuple)


def tags_parse(value: str | Sequence[str]) -> list[str]:
    """Tags as a clean list; the platform sends one comma-separated string."""
    items = value.split(",") if isinstance(value, str) else value
    seen: dict[str, None] = {}
    for tag in items:
        if tag := str(tag).strip():
            seen.setdefault(tag, None)
    return list(seen)


@transaction.atomic
def shop_upsert(
    *,
    domain: str,
    name: str,
    owner_email: str,
    webhook_secret: str | None = None,
    **fields: object,
) -> tuple[Shop, bool]:
    """Create or update the shop with ``domain``; validates every field first, writes nothing if
    one is wrong (``ValidationError``). Returns (shop, created)."""
    domain = domain.strip().lower()
    shop = Shop.objects.select_for_update().filter(domain=domain).first()
    created = shop is None
    shop = shop or Shop(domain=domain)
    shop.name, shop.owner_email = name.strip(), owner_email.strip()
    if webhook_secret is not None:
        shop.webhook_secret = webhook_secret
    for key, value in fields.items():
        setattr(shop, key, value)
    shop.full_clean()
    shop.save()
    return shop, created


def _is_stale(stored: datetime | None, incoming: datetime | None) -> bool:
    return stored is not None and incoming is not None and incoming < stored


@transaction.atomic
def product_upsert(*, shop: Shop, data: ProductData, archive_missing_variants: bool = True) -> Product:
    """Create or update a product and its variants from the platform's (or a store's) values.

    A product whose stored ``platform_updated_at`` is newer than ``data.updated_at`` is left as it
    is (stale delivery). Variants no longer listed are archived, never deleted: their backorders
    stay. Matching is by platform id within the shop; a product without one is always created.
    """
    product = None
    if data.platform_id is not None:
        product = Product.objects.select_for_update().filter(shop=shop, platform_id=data.platform_id).first()
    if product is not None and _is_stale(product.platform_updated_at, data.updated_at):
        return product
    product = product or Product(shop=shop, platform_id=data.platform_id)
    product.title = data.title[:255]
    product.handle = data.handle[:255]
    product.product_type = data.product_type[:255]
    product.vendor = data.vendor[:255]
    product.tags = tags_parse(data.tags)
    product.status = data.status if data.status in Product.Status.values else Product.Status.ACTIVE
    product.image_url = data.image_url[:1000]
    product.platform_updated_at = data.updated_at or product.platform_updated_at
    product.save()

    existing = {
        v.platform_id: v
        for v in Variant.objects.select_for_update().filter(
            shop=shop, platform_id__in=[v.platform_id for v in data.variants if v.platform_id is not None]
        )
    }
    seen: list[int] = []
    for item in data.variants:
        variant = existing.get(item.platform_id) if item.platform_id is not None else None
        if variant is not None and _is_stale(variant.platform_updated_at, item.updated_at):
            seen.append(variant.pk)
            continue
        variant = variant or Variant(shop=shop, platform_id=item.platform_id)
        variant.product = product
        variant.title = item.title[:255]
        variant.sku = item.sku[:255]
        variant.price = item.price
        variant.inventory_item_id = item.inventory_item_id
        variant.inventory_policy = item.inventory_policy
        variant.is_archived = False
        variant.platform_updated_at = item.updated_at or variant.platform_updated_at
        variant.save()
        seen.append(variant.pk)
    if archive_missing_variants and data.variants:
        product.variants.exclude(pk__in=seen).update(is_archived=True, updated_at=timezone.now())
    return product
