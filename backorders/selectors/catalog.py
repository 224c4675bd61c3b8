"""The catalog as the platform names it: a shop's products and variants by the platform's ids."""

from collections.abc import Iterable

from django.db.models import QuerySet

from backorders.models import Product, Shop, Variant


def product_by_platform_id(*, shop: Shop, platform_id: int) -> Product | None:
    """The shop's product with the platform's id ``platform_id``, or None (not recorded yet)."""
    return Product.objects.filter(shop=shop, platform_id=platform_id).first()


def variant_by_platform_id(*, shop: Shop, platform_id: int) -> Variant | None:
    """The shop's variant with the platform's id ``platform_id``, or None (not recorded yet)."""
    return Variant.objects.filter(shop=shop, platform_id=platform_id).first()


def variant_by_inventory_item(*, shop: Shop, inventory_item_id: int) -> Variant | None:
    """The shop's variant whose stock the platform keeps as inventory item ``inventory_item_id``,
    or None (no variant of a recorded product has it yet)."""
    return Variant.objects.filter(shop=shop, inventory_item_id=inventory_item_id).first()


def variant_pks_by_platform_id(*, shop: Shop, platform_ids: Iterable[int]) -> dict[int, int]:
    """The platform's variant ids among ``platform_ids`` that the shop has recorded, each mapped to
    our Variant pk, in one query (ids not recorded are absent)."""
    wanted = set(platform_ids)
    if not wanted:
        return {}
    return {
        platform_id: pk
        for platform_id, pk in Variant.objects.filter(shop=shop, platform_id__in=wanted).values_list(
            "platform_id", "pk"
        )
        if platform_id is not None
    }


def variants_of_shop(
    *, shop: Shop, sku: str = "", product_platform_id: int | None = None
) -> QuerySet[Variant]:
    """The shop's variants known to the platform (with their product and shop loaded), in a
    stable order (by our id), optionally only those with ``sku`` or of one product."""
    variants = Variant.objects.filter(shop=shop, platform_id__isnull=False).select_related("product", "shop")
    if sku:
        variants = variants.filter(sku=sku)
    if product_platform_id is not None:
        variants = variants.filter(product__platform_id=product_platform_id)
    return variants.order_by("pk")
