"""Orders as the platform names them: a shop's orders by the platform's ids."""

from backorders.models import Order, Shop


def order_by_platform_id(*, shop: Shop, platform_id: int) -> Order | None:
    """The shop's order with the platform's id ``platform_id``, or None (not recorded yet)."""
    return Order.objects.filter(shop=shop, platform_id=platform_id).first()


def order_is_recorded(*, shop: Shop, platform_id: int) -> bool:
    """Whether the shop has recorded the order with the platform's id ``platform_id``."""
    return Order.objects.filter(shop=shop, platform_id=platform_id).exists()
