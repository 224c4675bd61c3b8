"""The storefront API's alternatives: in stock now, ranked, the owner's pins first, per shop."""

import pytest

from backorders.models import Variant
from backorders.services.alternatives import alternative_hide, alternative_pin, alternatives_compute
from backorders.services.audit import Actor
from tests.factories import ProductFactory, ShopFactory, VariantFactory

pytestmark = pytest.mark.django_db

OWNER = Actor.admin("owner")


def url(shop_domain: str, ref) -> str:
    return f"/api/v1/storefront/{shop_domain}/products/{ref}/alternatives"


def product(shop, handle, *, stock, price="30.00", title=None, **fields):
    made = ProductFactory(
        shop=shop,
        handle=handle,
        title=title or handle.replace("-", " ").title(),
        product_type="Sweaters",
        vendor="Woolly",
        tags=["wool", "winter"],
        **fields,
    )
    variant = VariantFactory(product=made, price=price)
    Variant.objects.filter(pk=variant.pk).update(available=stock)
    return made


@pytest.fixture
def sweaters(shop):
    shop.storefront_url = "https://shop.example.com"
    shop.currency = "EUR"
    shop.save()
    main = product(shop, "red-sweater", stock=0)
    product(shop, "blue-sweater", stock=4, price="32.00")
    product(shop, "green-sweater", stock=0, price="29.00")  # sold out: never offered
    product(shop, "cashmere-sweater", stock=2, price="90.00")
    product(shop, "grey-sweater", stock=9, price="31.00")
    alternatives_compute(shop=shop)
    return main


def test_alternatives_are_in_stock_ranked_and_link_to_the_storefront(api, sweaters):
    response = api.get(url("acme.myshopify.com", "red-sweater"), {"lang": "de"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["product"]["handle"] == "red-sweater"
    handles = [a["handle"] for a in body["alternatives"]]
    assert set(handles) == {"blue-sweater", "grey-sweater", "cashmere-sweater"}
    assert handles[-1] == "cashmere-sweater"  # three times the price: least alike
    first = body["alternatives"][0]
    assert first["url"] == f"https://shop.example.com/products/{first['handle']}"
    assert first["currency"] == "EUR"
    assert first["state"] in ("in_stock", "low_stock")
    assert first["badge"] in ("Auf Lager", "Nur noch 4")
    cashmere = body["alternatives"][-1]
    assert cashmere["higher_tier"] is True
    assert cashmere["badge"] == "Nur noch 2"
    assert response["Cache-Control"].startswith("public, max-age=")
    assert response["ETag"]


def test_the_owners_pins_come_first_and_hidden_ones_never(api, sweaters, shop):
    from backorders.models import Product

    cashmere = Product.objects.get(handle="cashmere-sweater")
    grey = Product.objects.get(handle="grey-sweater")
    alternative_pin(product=sweaters, alternative=cashmere, position=0, actor=OWNER)
    alternative_hide(product=sweaters, alternative=grey, actor=OWNER)
    body = api.get(url(shop.domain, "red-sweater")).json()
    assert [a["handle"] for a in body["alternatives"]] == ["cashmere-sweater", "blue-sweater"]
    assert body["alternatives"][0]["pinned"] is True


def test_stock_is_checked_at_read_time(api, sweaters, shop):
    Variant.objects.filter(product__handle="blue-sweater").update(available=0)
    body = api.get(url(shop.domain, "red-sweater")).json()
    assert "blue-sweater" not in [a["handle"] for a in body["alternatives"]]


def test_another_shops_product_is_404(api, sweaters):
    other = ShopFactory(domain="other.myshopify.com")
    ProductFactory(shop=other, handle="theirs", platform_id=999_001)
    assert api.get(url("acme.myshopify.com", "theirs")).status_code == 404
    assert api.get(url("other.myshopify.com", "red-sweater")).status_code == 404
    assert api.get(url("nobody.myshopify.com", "red-sweater")).status_code == 404


def test_alternatives_cost_two_queries_whatever_the_catalog(api, sweaters, shop, django_assert_num_queries):
    with django_assert_num_queries(2):  # the shop with the product, the alternatives
        api.get(url(shop.domain, "red-sweater"))
    for n in range(200):
        product(shop, f"more-{n}", stock=1)
    alternatives_compute(shop=shop)
    with django_assert_num_queries(2):
        response = api.get(url(shop.domain, "red-sweater"))
    assert len(response.json()["alternatives"]) == 4
