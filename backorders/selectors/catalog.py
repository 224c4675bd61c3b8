"""The catalog as the platform names it: a shop's products and variants by the platform's ids."""

from collections.abc import Iterable

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
