import itertools
from datetime import UTC, datetime, timedelta

import factory

from backorders.models import InventoryLevel, Location, Product, Shop, Variant

_ids = itertools.count(1_000_000_000_001)


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("domain",)

    domain = factory.Sequence(lambda n: f"shop-{n}.myshopify.com")
    name = factory.Sequence(lambda n: f"Shop {n}")
    owner_email = "owner@example.com"
    # Connected before every trigger time the webhook fixtures carry (2026-11-02), so that their
    # app/uninstalled and shop/redact count as newer than the connection.
    connected_at = datetime(2026, 10, 1, tzinfo=UTC)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    shop = factory.SubFactory(ShopFactory)
    platform_id = factory.LazyFunction(lambda: next(_ids))
    title = factory.Sequence(lambda n: f"Product {n}")
    handle = factory.Sequence(lambda n: f"product-{n}")
    product_type = "Mugs"
    vendor = "Acme"


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    shop = factory.SelfAttribute("product.shop")
    platform_id = factory.LazyFunction(lambda: next(_ids))
    inventory_item_id = factory.LazyFunction(lambda: next(_ids))
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    title = "Default Title"
    price = "19.99"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    shop = factory.SubFactory(ShopFactory)
    platform_id = factory.LazyFunction(lambda: next(_ids))
    name = factory.Sequence(lambda n: f"Warehouse {n}")


class InventoryLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InventoryLevel

    variant = factory.SubFactory(VariantFactory)
    shop = factory.SelfAttribute("variant.shop")
    location = factory.SubFactory(LocationFactory, shop=factory.SelfAttribute("..shop"))


def at(minutes: int) -> datetime:
    """A fixed, aware timestamp ``minutes`` after a reference moment (stable ordering in tests)."""
    return datetime(2026, 11, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minutes)


def next_id() -> int:
    return next(_ids)
