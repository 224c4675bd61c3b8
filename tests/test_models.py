import pytest
from django.db import IntegrityError, transaction

from backorders.models import Location, Order, Product, Variant
from tests.factories import ShopFactory, at


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (Product, {"title": "Mug"}),
        (Location, {"name": "Warehouse"}),
        (Order, {"placed_at": at(0)}),
    ],
)
def test_platform_ids_are_unique_per_shop_not_globally(db, model, fields):
    one, two = ShopFactory(), ShopFactory()
    model.objects.create(shop=one, platform_id=42, **fields)
    model.objects.create(shop=two, platform_id=42, **fields)  # another shop: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(shop=one, platform_id=42, **fields)


def test_variant_platform_and_inventory_item_ids_are_unique_per_shop(db):
    one, two = ShopFactory(), ShopFactory()
    for shop in (one, two):
        product = Product.objects.create(shop=shop, title="Mug")
        Variant.objects.create(shop=shop, product=product, platform_id=7, inventory_item_id=8)
    product = Product.objects.filter(shop=one).get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Variant.objects.create(shop=one, product=product, platform_id=7)
    with pytest.raises(IntegrityError), transaction.atomic():
        Variant.objects.create(shop=one, product=product, inventory_item_id=8)


def test_counters_cannot_go_negative(db):
    shop = ShopFactory()
    variant = Variant.objects.create(shop=shop, product=Product.objects.create(shop=shop, title="Mug"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Variant.objects.filter(pk=variant.pk).update(units_waiting=-1)
