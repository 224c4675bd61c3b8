"""The demo store (config/store.py): catalog, product pages, the cart's quote and checkout."""

import io

import pytest
from django.core.management import call_command

from backorders.management.commands._demo_catalog import STATE_EXAMPLES
from backorders.models import Backorder, Order, Variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = False
    call_command("backorders_seed_demo", force=True, stdout=io.StringIO())
    settings.SECURE_SSL_REDIRECT = False


def product_url(handle, **query):
    suffix = "".join(f"?{k}={v}" for k, v in query.items())
    return f"/store/products/{handle}/{suffix}"


@pytest.mark.parametrize(
    ("example", "badge"),
    [
        ("in_stock", "In stock"),
        ("low_stock", "Only 1 left"),
        ("backorder", "Backorder — ships by"),
        ("over_limit", "Out of stock — notify me"),
        ("out_of_stock", "Out of stock — notify me"),
        ("discontinued", "Discontinued"),
    ],
)
def test_each_demo_product_page_shows_its_state(client, demo, example, badge):
    response = client.get(product_url(STATE_EXAMPLES[example]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="status" aria-live="polite"' in html
    assert badge in html
    can_order = example in ("in_stock", "low_stock", "backorder")
    assert ('name="action" value="add"' in html) is can_order


def test_the_catalog_lists_active_products_with_their_badges_in_constant_queries(
    client, demo, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = client.get("/store/")
    html = response.content.decode()
    assert "Merino Rib Beanie" in html and "Copper Saucepan" not in html  # archived: not on the storefront
    assert "backorders-badge--backorder" in html


def test_the_product_page_speaks_german_with_lang_de_and_remembers_it(client, demo):
    html = client.get(product_url(STATE_EXAMPLES["backorder"], lang="de")).content.decode()
    assert "Nachbestellt — Versand bis" in html and 'lang="de"' in html
    assert "Jetzt nachbestellen" in html and "Alle Produkte" in html  # the project's own catalogue
    html = client.get(product_url(STATE_EXAMPLES["in_stock"])).content.decode()
    assert "Auf Lager" in html


def test_the_variant_picker_selects_by_platform_id(client, demo):
    olive = Variant.objects.get(sku="NW-TEE-PKT-OLV")
    html = client.get(product_url("heavyweight-pocket-tee", variant=olive.platform_id)).content.decode()
    assert f'value="{olive.platform_id}" selected' in html
    assert "Backorder — ships by" in html


def test_an_unknown_product_is_404(client, demo):
    assert client.get(product_url("no-such-thing")).status_code == 404
    assert client.get(product_url("copper-saucepan-2-qt")).status_code == 404  # archived


def add(client, sku, quantity):
    variant = Variant.objects.get(sku=sku)
    return client.post("/store/cart/", {"action": "add", "variant": variant.pk, "quantity": quantity})


def test_the_cart_shows_each_lines_quote_and_places_the_order_checkout_records(client, demo):
    assert add(client, "CK-SKL-CI-12", 3).status_code == 302  # 1 in stock, not backorderable
    assert add(client, "LO-PND-BRS", 2).status_code == 302  # backorder with a manual ETA
    html = client.get("/store/cart/").content.decode()
    assert "1 from stock" in html
    assert "cannot be backordered" in html  # the skillet's refusal, from the quote
    assert "2 backordered — ships by" in html

    refused = client.post("/store/cart/", {"action": "place", "email": "ann@example.com"})
    assert refused.status_code == 400
    assert "cannot be backordered" in refused.content.decode()
    assert not Order.objects.filter(email="ann@example.com").exists()  # nothing recorded

    skillet = Variant.objects.get(sku="CK-SKL-CI-12")
    client.post("/store/cart/", {"action": "update", "variant": skillet.pk, "quantity": 1})
    placed = client.post(
        "/store/cart/", {"action": "place", "email": "ann@example.com", "name": "Ann"}, follow=True
    )
    assert "is placed; 1 item is backordered" in placed.content.decode()
    order = Order.objects.get(email="ann@example.com")
    assert order.source == Order.Source.STORE
    [backorder] = Backorder.objects.filter(order=order)
    assert (backorder.variant.sku, backorder.quantity, backorder.status) == ("LO-PND-BRS", 2, "waiting")
    assert "Your cart is empty" in client.get("/store/cart/").content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"action": "add", "variant": "x", "quantity": 1},
        {"action": "add", "variant": "999999999", "quantity": 1},
        {"action": "add", "variant": "VARIANT", "quantity": 0},
        {"action": "add", "variant": "VARIANT", "quantity": 10001},
        {"action": "add", "variant": "VARIANT", "quantity": "1e3"},
        {"action": "explode"},
        {"action": "place", "email": "not-an-email"},
    ],
)
def test_bad_cart_input_is_400_with_a_message_and_changes_nothing(client, demo, data):
    add(client, "AT-BEANIE-MER", 1)
    variant = Variant.objects.get(sku="AT-BEANIE-MER")
    data = {k: (variant.pk if v == "VARIANT" else v) for k, v in data.items()}
    orders = Order.objects.count()
    response = client.post("/store/cart/", data)
    assert response.status_code == 400
    assert 'class="store-error"' in response.content.decode()
    assert client.session["store_cart"] == {str(variant.pk): 1}
    assert Order.objects.count() == orders


def test_another_shops_variant_cannot_be_added(client, demo, make_variant):
    other = make_variant(stock=5)  # the "acme" shop's
    response = client.post("/store/cart/", {"action": "add", "variant": other.pk, "quantity": 1})
    assert response.status_code == 400
    assert "store_cart" not in client.session


def test_the_admins_view_site_opens_the_store(admin_client, demo):
    html = admin_client.get("/admin/").content.decode()
    assert 'href="/store/"' in html


@pytest.mark.parametrize("example", ["out_of_stock", "over_limit"])
def test_out_of_stock_pages_offer_in_stock_alternatives_linking_to_store_pages(
    client, demo, example, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        html = client.get(product_url(STATE_EXAMPLES[example])).content.decode()
    assert "In stock now instead" in html
    section = html.split('class="backorders-alternatives"', 1)[1]
    assert 'href="/store/products/' in section
    assert "backorders-badge--out_of_stock" not in section and "backorders-badge--backorder" not in section


def test_the_alternatives_tag_runs_one_query(demo, django_assert_num_queries):
    from django.template import Context, Template

    from backorders.models import Product

    product = Product.objects.select_related("shop").get(handle=STATE_EXAMPLES["out_of_stock"])
    with django_assert_num_queries(1):
        html = Template("{% load backorders %}{% backorder_alternatives product %}").render(
            Context({"product": product})
        )
    assert 'href="https://demo-store.myshopify.com/products/' in html  # the shop's own pages by default
