"""The embeddable widget in a real Chromium, on a plain HTML page of another origin (a theme's
product page): badge, ETA, alternatives and "notify me", following the selected variant.

The page is served by a small ``http.server`` on 127.0.0.1 while the app's live server is
``localhost``: another origin, so the widget's requests are cross-origin as on a shop's domain.
"""

import functools
import gzip
import http.server
import json
import threading
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backorders.models import BackorderMode
from backorders.selectors.storefront import product_availability
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATIC = Path(__file__).resolve().parents[2] / "backorders" / "static" / "backorders"

THEME_PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Theme product page</title>
<link rel="stylesheet" href="{api}/static/backorders/widget.css"></head>
<body>
<form action="/cart/add" method="post">
  <select name="id">{options}</select>
  <button type="submit">Add to cart</button>
</form>
<div data-backorders-widget data-shop="{shop}" data-product="{product}" data-variant="{variant}"
     {source} data-lang="{lang}"></div>
<script src="{api}/static/backorders/widget.js" defer></script>
</body></html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture
def other_origin(tmp_path):
    """A static web server on 127.0.0.1 serving ``tmp_path``: (base URL, directory)."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def theme_page(directory, *, api, shop, product, variants, variant="", lang="en", proxy="", name="product"):
    options = "".join(f'<option value="{v.platform_id}">{v.title}</option>' for v in variants)
    source = f'data-proxy="{proxy}"' if proxy else f'data-api="{api}"'
    html = THEME_PAGE.format(
        api=api, shop=shop, product=product, variant=variant, lang=lang, options=options, source=source
    )
    (directory / f"{name}.html").write_text(html, encoding="utf-8")
    return f"/{name}.html"


def availability_json(product, language):
    """The storefront contract's availability answer, from the selector the API presents."""
    answer = product_availability(product=product, language=language)
    return {
        "shop": answer.shop.domain,
        "language": answer.language,
        "product": {"id": product.platform_id, "handle": product.handle, "title": product.title},
        "variants": [
            {
                "id": row.variant.platform_id,
                "sku": row.variant.sku,
                "title": row.variant.title,
                "state": str(row.state),
                "badge": row.badge,
                "can_order": row.can_order,
                "quantity_available": row.quantity_available,
                "backorder_units_left": row.backorder_units_left,
                "eta": row.eta.date.isoformat() if row.eta.date else None,
                "eta_source": row.eta.source,
                "eta_text": row.eta_text,
                "alert_signup": row.alert_signup,
                "alert_waiting": row.alert_waiting,
            }
            for row in answer.variants
        ],
    }


@pytest.fixture
def mug(shop, make_variant):
    """A product with three variants: in stock, backorder with a manual ETA, out of stock."""
    from backorders.services.audit import Actor
    from backorders.services.stock import stock_set_available
    from tests.conftest import fresh
    from tests.factories import VariantFactory

    shop.backorder_mode = BackorderMode.ALLOW
    shop.save()
    small = make_variant(stock=20, title="Small", product__title="Red mug", product__handle="red-mug")
    product = small.product
    large = VariantFactory(product=product, title="Large", restock_date=date(2027, 3, 1))
    huge = VariantFactory(product=product, title="Huge", backorder_mode=BackorderMode.DENY)
    stock_set_available(variant=huge, available=0, actor=Actor.system("test"))
    return product, [fresh(small), fresh(large), fresh(huge)]


def stub_api(page, api, product, routes):
    """Answer the widget's API requests (as the storefront API would, per the contract) and
    record them; ``routes`` maps a path suffix to (status, body)."""
    seen = []

    def handle(route):
        request = route.request
        seen.append((request.method, request.url, request.post_data))
        for suffix, (status, body) in routes.items():
            if request.url.split("?")[0].endswith(suffix):
                headers = {"Access-Control-Allow-Origin": "*"}
                if status == 429:
                    headers["Retry-After"] = "60"
                route.fulfill(status=status, json=body, headers=headers)
                return
        route.fulfill(status=404, json={"detail": "Not found."})

    page.route(f"{api}/api/**", handle)
    return seen


def test_the_widget_renders_the_badge_and_follows_the_variant(page, site, other_origin, mug):
    base, directory = other_origin
    product, (small, large, huge) = mug
    data = availability_json(product, "en")
    seen = stub_api(
        page,
        site.url,
        product,
        {
            "/availability": (200, data),
            "/alternatives": (200, {"product": data["product"], "alternatives": []}),
        },
    )
    path = theme_page(
        directory, api=site.url, shop=product.shop.domain, product="red-mug", variants=[small, large, huge]
    )

    page.goto(base + path)
    badge = page.locator(".backorders-badge[role=status]")
    expect(badge).to_have_text("In stock")
    assert badge.get_attribute("aria-live") == "polite"
    assert "backorders-badge--in_stock" in badge.get_attribute("class")
    assert page.locator(".backorders-alert").is_hidden()
    assert seen[0][1].startswith(
        f"{site.url}/api/v1/storefront/acme.myshopify.com/products/red-mug/availability?lang=en"
    )

    page.select_option("select[name=id]", str(large.platform_id))  # the theme's variant picker
    expect(badge).to_have_text("Backorder — ships by 2 Mar")
    expect(page.locator(".backorders-eta")).to_contain_text("Ships by Tuesday, 2 March 2027")

    page.evaluate(
        "id => document.dispatchEvent(new CustomEvent('backorders:variant', {detail: {variantId: id}}))",
        huge.platform_id,
    )
    expect(badge).to_have_text("Out of stock — notify me")
    assert page.get_by_label("Email me when it is back in stock").is_visible()
    screenshot(page, "widget-stubbed-out-of-stock")

    page.goto(f"{base}{path}?variant={large.platform_id}")  # the theme's URL names the variant
    expect(page.locator(".backorders-badge[role=status]")).to_contain_text("Backorder — ships by")
    assert page.problems == []


def test_the_widget_shows_the_alert_answer_or_the_field_error(page, site, other_origin, mug):
    base, directory = other_origin
    product, (small, large, huge) = mug
    data = availability_json(product, "de")
    answers = {
        "/availability": (200, data),
        "/alternatives": (200, {"product": data["product"], "alternatives": []}),
        "/alerts": (400, {"email": ["Diese Adresse nimmt keine E-Mails an."]}),
    }
    seen = stub_api(page, site.url, product, answers)
    path = theme_page(
        directory,
        api=site.url,
        shop="acme.myshopify.com",
        product="red-mug",
        variants=[huge],
        variant=huge.platform_id,
        lang="de",
    )
    page.goto(base + path)
    email = page.get_by_label("Benachrichtigen Sie mich, wenn es wieder da ist")
    email.fill("bounced@example.com")
    email.press("Enter")  # the keyboard alone signs up
    expect(page.locator(".backorders-alert__error")).to_have_text("Diese Adresse nimmt keine E-Mails an.")
    assert email.get_attribute("aria-invalid") == "true"
    method, url, body = seen[-1]
    assert (method, url) == ("POST", f"{site.url}/api/v1/storefront/acme.myshopify.com/alerts")
    assert json.loads(body) == {
        "variant_id": huge.platform_id,
        "email": "bounced@example.com",
        "language": "de",
    }

    answers["/alerts"] = (
        202,
        {"status": "pending_confirmation", "message": "Bitte bestätigen Sie im Postfach."},
    )
    page.get_by_role("button", name="Benachrichtigen").click()
    expect(page.locator(".backorders-alert__message")).to_have_text("Bitte bestätigen Sie im Postfach.")
    expect(page.locator(".backorders-alert__error")).to_have_text("")

    answers["/alerts"] = (429, {"detail": "Request was throttled."})
    email.fill("again@example.com")
    email.press("Enter")
    expect(page.locator(".backorders-alert__error")).to_contain_text("Zu viele Anmeldungen")
    assert page.problems == []


def test_nothing_from_the_api_runs_as_script_and_only_http_links_are_made(page, site, other_origin, mug):
    base, directory = other_origin
    product, (small, _large, _huge) = mug
    data = availability_json(product, "en")
    data["variants"][0]["badge"] = '<img src=x onerror="alert(1)">'
    data["variants"][0]["state"] = 'in_stock" onclick="alert(2)'
    alternatives = [
        {
            "id": 1,
            "handle": "a",
            "title": "<script>alert(3)</script>",
            "url": "javascript:alert(4)",
            "image_url": "javascript:alert(5)",
            "price": "1.00",
            "currency": "EUR",
            "variant_id": 2,
            "state": "in_stock",
            "badge": "In stock",
            "higher_tier": False,
            "pinned": False,
        },
        {
            "id": 3,
            "handle": "b",
            "title": "Blue mug",
            "url": "https://shop.example.com/products/blue-mug",
            "image_url": "",
            "price": "19.99",
            "currency": "EUR",
            "variant_id": 4,
            "state": "in_stock",
            "badge": "In stock",
            "higher_tier": True,
            "pinned": False,
        },
    ]
    stub_api(
        page,
        site.url,
        product,
        {
            "/availability": (200, data),
            "/alternatives": (200, {"product": data["product"], "alternatives": alternatives}),
        },
    )
    path = theme_page(directory, api=site.url, shop="acme.myshopify.com", product="red-mug", variants=[small])
    page.goto(base + path)
    expect(page.locator(".backorders-badge[role=status]")).to_have_text('<img src=x onerror="alert(1)">')
    assert page.locator(".backorders-widget img").count() == 0
    assert page.locator(".backorders-availability").get_attribute("data-state") == "unknown"
    items = page.locator(".backorders-alternative")
    expect(items).to_have_count(2)
    assert items.nth(0).locator("a").count() == 0  # javascript: is no link
    assert items.nth(0).inner_text().startswith("<script>alert(3)</script>")
    assert (
        items.nth(1).get_by_role("link", name="Blue mug").get_attribute("href")
        == "https://shop.example.com/products/blue-mug"
    )
    assert "Premium choice" in items.nth(1).text_content()
    assert page.problems == []


def test_the_widget_and_its_stylesheet_are_under_10_kb_gzipped():
    size = sum(len(gzip.compress((STATIC / name).read_bytes(), 9)) for name in ("widget.js", "widget.css"))
    assert size < 10 * 1024, size


def test_the_widget_on_another_origin_shows_what_the_template_tag_shows_from_the_real_api(
    page, site, other_origin, mug
):
    """No stub: the storefront API answers cross-origin (CORS for the shop's listed origin)."""
    base, directory = other_origin
    product, (small, large, huge) = mug
    shop = product.shop
    shop.storefront_origins = [base]
    shop.save()
    path = theme_page(
        directory, api=site.url, shop=shop.domain, product="red-mug", variants=[small, large, huge]
    )

    from django.template import Context, Template

    from tests.conftest import fresh

    def tag_badge(variant):
        html = Template("{% load backorders %}{% backorder_badge variant %}").render(
            Context({"variant": fresh(variant)})
        )
        return html.split('aria-live="polite">', 1)[1].split("</p>", 1)[0]

    page.goto(base + path)
    badge = page.locator(".backorders-badge[role=status]")
    expect(badge).to_have_text(tag_badge(small))
    page.select_option("select[name=id]", str(large.platform_id))
    expect(badge).to_have_text(tag_badge(large))
    page.select_option("select[name=id]", str(huge.platform_id))
    expect(badge).to_have_text(tag_badge(huge))
    expect(page.get_by_label("Email me when it is back in stock")).to_be_visible()
    page.get_by_label("Email me when it is back in stock").fill("fan@example.com")
    page.get_by_role("button", name="Notify me").click()
    expect(page.locator(".backorders-alert__message")).not_to_be_empty()
    screenshot(page, "widget-real-api")

    from backorders.models import RestockAlert

    assert RestockAlert.objects.filter(variant=huge, email="fan@example.com").exists()
    assert page.problems == []
