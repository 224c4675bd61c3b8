"""The demo store in a real Chromium, seeded like the demo: each state's product page, the
variant picker, the cart's quote and a placed order; readable at 375 px and 1366 px."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from backorders.management.commands._demo_catalog import STATE_EXAMPLES
from backorders.models import Backorder, Order
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(site):
    call_command("backorders_seed_demo", force=True, stdout=io.StringIO())
    return site


@pytest.mark.parametrize(
    ("example", "badge", "eta", "orderable"),
    [
        ("in_stock", "In stock", False, True),
        ("low_stock", "Only 1 left", False, True),
        ("backorder", "Backorder — ships by", True, True),
        ("over_limit", "Out of stock — notify me", False, False),
        ("out_of_stock", "Out of stock — notify me", False, False),
        ("discontinued", "Discontinued", False, False),
    ],
)
def test_each_demo_product_page_shows_its_badge(page, demo, example, badge, eta, orderable):
    response = page.goto(f"/store/products/{STATE_EXAMPLES[example]}/")
    assert response.status == 200
    status = page.locator(".backorders-badge[role=status]")
    expect(status).to_contain_text(badge)
    assert (
        f"backorders-badge--{'out_of_stock' if example == 'over_limit' else example}"
        in status.get_attribute("class")
    )
    assert (page.locator(".backorders-eta").count() == 1) is eta
    assert page.get_by_role("button", name="Add to cart").or_(
        page.get_by_role("button", name="Backorder now")
    ).count() == (1 if orderable else 0)
    # The stylesheets loaded (from our static files: the policy forbids inline styles).
    assert status.evaluate("b => getComputedStyle(b).borderRadius") == "999px"
    screenshot(page, f"store-{example}")
    assert page.problems == []


def test_the_picker_switches_variant_and_german_reads_german(page, demo):
    page.goto("/store/products/heavyweight-pocket-tee/")
    expect(page.locator(".backorders-badge[role=status]")).to_have_text("In stock")
    page.get_by_label("Choose").select_option(label="Olive")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".backorders-badge[role=status]")).to_contain_text("Backorder — ships by")
    page.get_by_role("link", name="Deutsch").click()
    expect(page.locator(".backorders-badge[role=status]")).to_contain_text("Nachbestellt — Versand bis")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.problems == []


def test_the_cart_shows_the_quote_and_places_the_order(page, demo):
    page.goto(f"/store/products/{STATE_EXAMPLES['low_stock']}/")
    page.get_by_label("Quantity").fill("3")
    page.get_by_role("button", name="Add to cart").click()
    page.goto(f"/store/products/{STATE_EXAMPLES['backorder']}/")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Backorder now").click()
    page.wait_for_url("**/store/cart/")
    lines = page.locator(".store-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("1 from stock")
    expect(lines.nth(0)).to_contain_text("cannot be backordered")
    expect(lines.nth(1)).to_contain_text("2 backordered — ships by")
    screenshot(page, "store-cart-quote")

    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be backordered")  # checkout says no
    assert not Order.objects.filter(email="ann@example.com").exists()

    page.locator(".store-line").nth(0).get_by_role("button", name="Remove").click()
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_role("button", name="Place order").click()
    expect(page.locator(".store-message")).to_contain_text("is placed; 1 item is backordered")
    order = Order.objects.get(email="ann@example.com")
    [backorder] = Backorder.objects.filter(order=order)
    assert backorder.quantity == 2 and backorder.variant.product.handle == STATE_EXAMPLES["backorder"]
    assert page.problems == []


@pytest.mark.parametrize("width", [375, 1366])
def test_the_pages_fit_the_screen(page, demo, width):
    page.set_viewport_size({"width": width, "height": 900})
    for name, path in [
        ("catalog", "/store/"),
        ("product", f"/store/products/{STATE_EXAMPLES['backorder']}/"),
    ]:
        page.goto(path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, width, overflow)
        screenshot(page, f"store-{name}-{width}")
    assert page.problems == []


def test_notify_me_signs_up_confirms_by_button_and_the_restock_alert_arrives_once(page, demo):
    from django.core import mail

    from backorders.models import Location, Variant
    from backorders.services.audit import Actor
    from backorders.services.stock import stock_set_available
    from tests.browser.conftest import link_in

    address = "wanda@example.com"
    page.goto(f"/store/products/{STATE_EXAMPLES['out_of_stock']}/")
    page.get_by_label("Email me when it is back in stock").fill(address)
    page.get_by_role("button", name="Notify me").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    screenshot(page, "store-alert-signed-up")

    [confirmation] = [m for m in mail.outbox if m.to == [address]]
    page.goto(link_in(confirmation.body, demo.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your restock alert")
    page.get_by_role("button", name="Confirm my restock alert").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() != "Confirm your restock alert"
    screenshot(page, "store-alert-confirmed")

    scarf = Variant.objects.select_related("product", "shop").get(
        product__handle=STATE_EXAMPLES["out_of_stock"]
    )
    location = Location.objects.filter(shop=scarf.shop).order_by("pk").first()
    stock_set_available(variant=scarf, available=4, location=location, actor=Actor.system("delivery"))
    scarf.refresh_from_db()
    stock_set_available(variant=scarf, available=6, location=location, actor=Actor.system("delivery"))
    alerts = [m for m in mail.outbox if m.to == [address]][1:]
    assert len(alerts) == 1, [m.subject for m in alerts]
    assert "Alpaca Blend Scarf" in alerts[0].subject

    page.goto(f"/store/products/{STATE_EXAMPLES['out_of_stock']}/")  # and it can be bought now
    expect(page.locator(".backorders-badge[role=status]")).to_have_text("In stock")
    assert page.problems == []
