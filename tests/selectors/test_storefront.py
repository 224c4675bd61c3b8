from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from backorders.models import BackorderMode, Product
from backorders.selectors.availability import AvailabilityState
from backorders.selectors.storefront import (
    StorefrontNotFound,
    product_availability,
    storefront_language,
    storefront_product,
    storefront_shop,
)
from tests.factories import ProductFactory, ShopFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def backorderable(shop, make_variant):
    shop.backorder_mode = BackorderMode.ALLOW
    shop.handling_days = 2
    shop.save()

    def make(**fields):
        return make_variant(**fields)

    return make


def _only(availability):
    (row,) = availability.variants
    return row


@time_machine.travel("2026-12-01 10:00Z", tick=False)
@pytest.mark.parametrize(
    ("language", "badge", "eta_text"),
    [
        ("en", "Backorder — ships by 12 Dec", "Ships by Saturday, 12 December 2026"),
        ("de", "Nachbestellt — Versand bis 12. Dez.", "Versand bis Samstag, 12. Dezember 2026"),
    ],
)
def test_backorder_badge_names_the_date_a_new_order_would_ship(backorderable, language, badge, eta_text):
    variant = backorderable(restock_date=date(2026, 12, 10))
    row = _only(product_availability(product=variant.product, language=language))
    assert row.state == AvailabilityState.BACKORDER
    assert row.badge == badge
    assert row.eta.date == date(2026, 12, 12)  # restock date + 2 handling days
    assert row.eta_text.startswith(eta_text)
    assert row.can_order and not row.alert_signup


@pytest.mark.parametrize(
    ("stock", "fields", "state", "badge", "can_order", "alert"),
    [
        (10, {}, AvailabilityState.IN_STOCK, "In stock", True, False),
        (2, {}, AvailabilityState.LOW_STOCK, "Only 2 left", True, False),
        (
            0,
            {"backorder_mode": BackorderMode.DENY},
            AvailabilityState.OUT_OF_STOCK,
            "Out of stock — notify me",
            False,
            True,
        ),
        (0, {"discontinued": True}, AvailabilityState.DISCONTINUED, "Discontinued", False, False),
        (0, {}, AvailabilityState.BACKORDER, "Backorder", True, False),
    ],
)
def test_each_state_has_its_badge(backorderable, stock, fields, state, badge, can_order, alert):
    row = _only(product_availability(product=backorderable(stock=stock, **fields).product, language="en"))
    assert (row.state, row.badge, row.can_order, row.alert_signup) == (state, badge, can_order, alert)


def test_over_its_limit_a_variant_offers_notify_me(backorderable, make_backordered):
    variant = backorderable(backorder_limit=2)
    row = _only(product_availability(product=variant.product, language="en"))
    assert row.backorder_units_left == 2
    variant.units_waiting = 2
    variant.save(update_fields=["units_waiting"])
    row = _only(product_availability(product=variant.product, language="en"))
    assert (row.state, row.can_order, row.alert_signup, row.backorder_units_left) == (
        AvailabilityState.OUT_OF_STOCK,
        False,
        True,
        0,
    )


def test_stock_counts_only_when_the_shop_shows_them(shop, backorderable):
    variant = backorderable(stock=7)
    assert _only(product_availability(product=variant.product, language="en")).quantity_available is None
    shop.show_quantity_available = True
    shop.save()
    variant.product.shop = shop
    assert _only(product_availability(product=variant.product, language="en")).quantity_available == 7


def test_unknown_and_inactive_shops_are_not_found(shop):
    assert storefront_shop(domain="ACME.myshopify.com") == shop
    with pytest.raises(StorefrontNotFound):
        storefront_shop(domain="nobody.myshopify.com")
    shop.is_active = False
    shop.save()
    with pytest.raises(StorefrontNotFound):
        storefront_shop(domain=shop.domain)


def test_product_by_platform_id_or_handle_of_that_shop_only(shop):
    mine = ProductFactory(shop=shop, platform_id=111, handle="red-mug")
    theirs = ProductFactory(shop=ShopFactory(), platform_id=222, handle="blue-mug")
    assert storefront_product(shop=shop, ref="111") == mine
    assert storefront_product(shop=shop, ref="red-mug") == mine
    for ref in ("222", "blue-mug", "", "9" * 40, "x" * 300):
        with pytest.raises(StorefrontNotFound):
            storefront_product(shop=shop, ref=ref)
    mine.status = Product.Status.ARCHIVED
    mine.save()
    with pytest.raises(StorefrontNotFound):
        storefront_product(shop=shop, ref="111")
    assert theirs.pk


def test_archived_variants_are_not_offered(shop, make_variant):
    variant = make_variant(stock=5)
    VariantFactory(product=variant.product, is_archived=True)
    assert [row.variant for row in product_availability(product=variant.product, language="en").variants] == [
        variant
    ]


def test_page_costs_the_same_queries_with_one_or_fifty_variants(shop, django_assert_num_queries):
    small = ProductFactory(shop=shop)
    VariantFactory(product=small)
    large = ProductFactory(shop=shop)
    VariantFactory.create_batch(50, product=large)
    for product in (small, large):
        with django_assert_num_queries(2):
            found = storefront_product(shop=shop, ref=str(product.platform_id))
            product_availability(product=found, language="en")


def test_language_falls_back_to_the_shop_language(shop):
    shop.language = "de"
    assert storefront_language(shop, "en-GB") == "en"
    assert storefront_language(shop, "fr") == "de"
    assert storefront_language(shop, None) == "de"


@pytest.mark.parametrize(
    "value",
    ["https://shop.example.com/path", "javascript:alert(1)", "https://a b.com", "ftp://x.com", "https://"],
)
def test_storefront_origins_must_be_web_origins(shop, value):
    shop.storefront_origins = [value]
    with pytest.raises(ValidationError):
        shop.full_clean()


def test_cors_origins_include_the_platform_domain_and_the_storefront(shop):
    shop.storefront_url = "https://shop.example.com"
    shop.storefront_origins = ["https://www.example.com"]
    shop.full_clean()
    assert shop.cors_origins() == {
        "https://acme.myshopify.com",
        "https://shop.example.com",
        "https://www.example.com",
    }
    assert shop.product_url("red mug") == "https://shop.example.com/products/red%20mug"


def test_the_waiting_count_shows_only_when_the_shop_shows_it(shop, make_variant, django_assert_num_queries):
    from backorders.services.alerts import alert_confirm, alert_signup

    variant = make_variant(backorder_mode=BackorderMode.DENY)
    for n in range(3):
        alert = alert_signup(variant=variant, email=f"c{n}@example.com")
        if n:
            alert_confirm(alert=alert)
    assert _only(product_availability(product=variant.product, language="en")).alert_waiting is None
    shop.show_alert_count = True
    shop.save()
    variant.product.shop = shop
    with django_assert_num_queries(2):
        row = _only(product_availability(product=variant.product, language="en"))
    assert row.alert_waiting == 2  # confirmed sign-ups only
