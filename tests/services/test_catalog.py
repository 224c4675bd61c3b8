from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from backorders.models import InventoryLevel, Product, Shop, Variant
from backorders.services.audit import Actor
from backorders.services.catalog import ProductData, VariantData, product_upsert, tags_parse
from backorders.services.shops import shop_upsert
from backorders.services.stock import stock_set_available
from tests.factories import LocationFactory, at


def data(title, updated, variants=((11, "deny"),)):
    return ProductData(
        platform_id=1,
        title=title,
        tags="mug, blue ,mug,",
        updated_at=at(updated),
        variants=[
            VariantData(
                platform_id=pid,
                title="Default Title",
                price=Decimal("9.50"),
                inventory_policy=policy,
                inventory_item_id=pid * 10,
                updated_at=at(updated),
            )
            for pid, policy in variants
        ],
    )


def test_product_upsert_creates_then_updates(shop):
    product_upsert(shop=shop, data=data("Mug", 1))
    product = product_upsert(shop=shop, data=data("Blue mug", 2, [(11, "continue"), (12, "deny")]))
    assert Product.objects.get() == product
    assert product.title == "Blue mug"
    assert product.tags == ["mug", "blue"]
    assert sorted(product.variants.values_list("platform_id", "inventory_policy")) == [
        (11, "continue"),
        (12, "deny"),
    ]


def test_product_upsert_ignores_older_data(shop):
    product_upsert(shop=shop, data=data("New title", 5))
    product_upsert(shop=shop, data=data("Old title", 4, [(11, "continue")]))
    product = Product.objects.get()
    assert product.title == "New title"
    assert product.variants.get().inventory_policy == "deny"


def test_variants_gone_from_the_product_are_archived_not_deleted(shop):
    product_upsert(shop=shop, data=data("Mug", 1, [(11, "deny"), (12, "deny")]))
    product_upsert(shop=shop, data=data("Mug", 2, [(11, "deny")]))
    assert dict(Variant.objects.values_list("platform_id", "is_archived")) == {11: False, 12: True}


def test_stock_set_available_ignores_older_data(make_variant):
    variant = make_variant()
    location = LocationFactory(shop=variant.shop)
    stock_set_available(
        variant=variant, available=5, location=location, updated_at=at(10), actor=Actor.system()
    )
    stock_set_available(
        variant=variant, available=2, location=location, updated_at=at(9), actor=Actor.system()
    )
    assert InventoryLevel.objects.get(variant=variant, location=location).available == 5


def test_variant_available_is_the_sum_over_locations(make_variant):
    variant = make_variant()
    for available in (4, -1):
        location = LocationFactory(shop=variant.shop)
        stock_set_available(variant=variant, available=available, location=location, actor=Actor.system())
    variant.refresh_from_db()
    assert variant.available == 3


def test_tags_parse_accepts_the_platform_string():
    assert tags_parse(" summer, Sale ,, summer") == ["summer", "Sale"]


def test_shop_upsert_validates_before_writing(db):
    with pytest.raises(ValidationError) as error:
        shop_upsert(domain="not a domain", name="X", owner_email="nope")
    assert {"domain", "owner_email"} <= set(error.value.message_dict)
    assert not Shop.objects.exists()


def test_shop_domain_suffix_setting_is_enforced(db, settings):
    settings.BACKORDERS = {"SHOP_DOMAIN_SUFFIX": ".myshopify.com"}
    with pytest.raises(ValidationError, match="must end with .myshopify.com"):
        shop_upsert(domain="shop.example.com", name="X", owner_email="o@example.com")
    shop, created = shop_upsert(domain="shop.myshopify.com", name="X", owner_email="o@example.com")
    assert created and not Shop.objects.filter(domain="shop.example.com").exists()


@pytest.mark.parametrize(
    ("zone", "today_there"),
    [
        ("UTC", date(2027, 3, 1)),
        ("Pacific/Kiritimati", date(2027, 3, 2)),
        ("Pacific/Pago_Pago", date(2027, 2, 28)),
    ],
)
def test_a_restock_date_is_refused_only_before_today_in_the_shops_time_zone(
    shop, make_variant, zone, today_there
):
    from backorders.services.catalog import PolicyRefused, variant_set_policy

    shop.timezone = zone
    shop.save()
    variant = make_variant()
    with time_machine.travel(datetime(2027, 3, 1, 10, 30, tzinfo=UTC), tick=False):
        with pytest.raises(PolicyRefused, match=f"today is {today_there.isoformat()}"):
            variant_set_policy(
                variant=variant, restock_date=today_there - timedelta(days=1), actor=Actor.admin("o")
            )
        variant = variant_set_policy(variant=variant, restock_date=today_there, actor=Actor.admin("o"))
    variant.refresh_from_db()
    assert variant.restock_date == today_there


def test_a_product_image_that_is_not_an_http_url_is_not_stored_from_a_python_caller(shop, caplog):
    from backorders.services.catalog import ProductData, product_upsert

    product = product_upsert(
        shop=shop, data=ProductData(platform_id=9, title="Mug", image_url="javascript:alert(1)", variants=())
    )
    assert product.image_url == ""
    assert "image URL dropped" in caplog.text
    product = product_upsert(
        shop=shop,
        data=ProductData(platform_id=9, title="Mug", image_url="https://cdn.example.com/m.png", variants=()),
    )
    assert product.image_url == "https://cdn.example.com/m.png"


def test_stored_links_must_be_http_urls_when_validated(shop):
    from django.core.exceptions import ValidationError

    from backorders.models import Product

    product = Product(shop=shop, platform_id=10, title="Mug", image_url="ftp://example.com/m.png")
    with pytest.raises(ValidationError, match="http"):
        product.full_clean()
