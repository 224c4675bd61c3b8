"""The self-service pages with hostile values from payloads, and the headers every page carries:
a strict Content-Security-Policy, a Referrer-Policy that keeps the key on this site."""

import re
from datetime import date, timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backorders import csp
from backorders.models import Backorder
from backorders.services.audit import Actor
from backorders.services.lifecycle import backorder_fulfill
from backorders.services.notifications import links
from backorders.services.stock import stock_set_available
from tests.hostile import ATTRIBUTE, GOOD_URL, HOSTILE, MARKUP, QUOTES, SCRIPT_URLS, inert_html

SELF_SERVICE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
RESTOCK = date(2027, 3, 1)


class HttpsClient(Client):
    def generic(self, method, path, *args, **kwargs):
        kwargs["secure"] = True
        return super().generic(method, path, *args, **kwargs)


@pytest.fixture
def client():
    return HttpsClient()


@pytest.fixture
def hostile_order(shop, make_variant, place):
    """An order of three lines (waiting, allocated, shipped) whose every payload value is hostile."""
    shop.name = f"Acme {HOSTILE}"
    shop.save(update_fields=["name"])
    variants = [
        make_variant(
            inventory_policy="continue",
            restock_date=RESTOCK,
            product__title=f"{name} {HOSTILE}",
            title=f"Size {QUOTES}",
            sku=f"SKU {HOSTILE}",
        )
        for name in ("Mug", "Plate", "Bowl")
    ]
    order = place(dict.fromkeys(variants, 1), accepted=True, customer_name=f"Ada {HOSTILE}")
    waiting, allocated, shipped = order.backorders.order_by("line_id")
    stock_set_available(variant=allocated.variant, available=0, actor=Actor.admin("owner"))
    stock_set_available(variant=shipped.variant, available=0, actor=Actor.admin("owner"))
    backorder_fulfill(backorder=shipped, actor=Actor.platform("fulfillments/create"))
    return order


def set_tracking(order, url: str) -> None:
    Backorder.objects.filter(order=order, status=Backorder.Status.FULFILLED).update(
        tracking_company=f"UPS {HOSTILE}", tracking_number=f"1Z {HOSTILE}", tracking_url=url
    )


def page_url(order) -> str:
    return reverse("backorders:selfservice_order", args=[links.order_token(order)])


def assert_private(response) -> None:
    assert response[csp.HEADER] == SELF_SERVICE_POLICY
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_the_order_page_shows_every_hostile_value_as_text(client, hostile_order):
    set_tracking(hostile_order, GOOD_URL)
    response = client.get(page_url(hostile_order))
    assert response.status_code == 200
    assert_private(response)
    html = response.content.decode()
    hrefs, visible = inert_html(html)
    assert MARKUP not in html and ATTRIBUTE not in html
    for value in (f"Acme {HOSTILE}", f"Mug {HOSTILE}", f"SKU {HOSTILE}", f"1Z {HOSTILE}", f"UPS {HOSTILE}"):
        assert value in visible, value
    assert f"Size {QUOTES}" in visible
    assert GOOD_URL in hrefs  # a real tracking URL is a link, escaped in its attribute
    assert "style=" not in html and "<style" not in html  # the policy allows no inline style


@pytest.mark.parametrize("url", SCRIPT_URLS)
def test_a_tracking_url_that_is_not_http_is_not_a_link_on_the_order_page(client, hostile_order, url):
    set_tracking(hostile_order, url)
    html = client.get(page_url(hostile_order)).content.decode()
    hrefs, visible = inert_html(html)
    assert f"1Z {HOSTILE}" in visible  # the tracking number is still shown, as text
    assert all(
        not href.lower().lstrip().startswith(("javascript", "data", "vbscript", "//")) for href in hrefs
    )
    assert url.strip() not in html and "javascript" not in html.lower()


def test_the_confirmation_page_shows_hostile_values_as_text(client, hostile_order):
    waiting = hostile_order.backorders.get(status=Backorder.Status.WAITING)
    response = client.get(
        reverse("backorders:selfservice_cancel", args=[links.order_token(hostile_order), waiting.pk])
    )
    assert response.status_code == 200
    assert_private(response)
    _, visible = inert_html(response.content.decode())
    assert f"Mug {HOSTILE}" in visible and f"Acme {HOSTILE}" in visible
    assert MARKUP not in response.content.decode()


def test_every_self_service_page_and_redirect_carries_the_strict_policy(client, shop, hostile_order):
    token = links.order_token(hostile_order)
    waiting = hostile_order.backorders.get(status=Backorder.Status.WAITING)
    with time_machine.travel(timezone.now() - timedelta(days=181)):
        expired = links.order_token(hostile_order)
    unsubscribe = reverse("backorders:unsubscribe", args=[links.unsubscribe_token(shop, "a@example.com")])
    cancel = reverse("backorders:selfservice_cancel", args=[token, waiting.pk])
    pages = {
        "order": (client.get(page_url(hostile_order)), 200),
        "confirm": (client.get(cancel), 200),
        "invalid": (client.get(reverse("backorders:selfservice_order", args=["x" + token])), 404),
        "expired": (client.get(reverse("backorders:selfservice_order", args=[expired])), 410),
        "link sent": (client.post(reverse("backorders:selfservice_renew", args=[expired])), 200),
        "unsubscribe": (client.get(unsubscribe), 200),
        "unsubscribed": (client.post(unsubscribe), 200),
        "bad unsubscribe": (client.get(unsubscribe[:-5] + "xxxx/"), 404),
        "cancelled": (client.post(cancel), 302),
        "already": (client.get(cancel), 302),
    }
    for name, (response, status) in pages.items():
        assert response.status_code == status, name
        assert_private(response)
        if status != 302:
            inert_html(response.content.decode())  # every page passes the structural check


def test_the_expired_and_unsubscribe_pages_show_a_hostile_shop_name_as_text(client, shop, hostile_order):
    with time_machine.travel(timezone.now() - timedelta(days=181)):
        expired = links.order_token(hostile_order)
    email = f"{QUOTES}@example.com"
    for url in (
        reverse("backorders:selfservice_order", args=[expired]),
        reverse("backorders:unsubscribe", args=[links.unsubscribe_token(shop, email)]),
    ):
        html = client.get(url).content.decode()
        _, visible = inert_html(html)
        assert f"Acme {HOSTILE}" in visible and MARKUP not in html


def test_the_stylesheet_the_pages_load_is_served_from_our_static_files(client, hostile_order):
    from django.contrib.staticfiles import finders

    html = client.get(page_url(hostile_order)).content.decode()
    [href] = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert href.endswith("backorders/selfservice.css")
    assert "body {" in open(finders.find("backorders/selfservice.css")).read()  # noqa: SIM115


def test_the_admin_login_page_carries_the_admins_policy(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    policy = response[csp.HEADER]
    assert policy == csp.header_value(csp.ADMIN)
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["script-src"] == "'self'"  # Django 5.2's admin runs no inline script
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert directives["base-uri"] == "'none'" and directives["object-src"] == "'none'"


def test_other_pages_get_the_page_policy_and_a_views_own_policy_wins(client, admin_client, settings):
    settings.SECURE_SSL_REDIRECT = False
    not_found = client.get("/no-such-page/")
    assert not_found.status_code == 404
    assert not_found[csp.HEADER] == csp.header_value(csp.PAGE)
    assert "script-src 'self'" in not_found[csp.HEADER] and "unsafe" not in not_found[csp.HEADER]
    webhook = client.post("/webhooks/shopify", b"{}", content_type="application/json")
    assert webhook[csp.HEADER] == csp.header_value(csp.PAGE)
    # The admin's email preview sets its own policy for the HTML part; the middleware keeps it.
    preview = admin_client.get(
        reverse("admin:backorders_notification_preview_kind", args=["shipped", "en"]) + "?part=html"
    )
    assert preview.status_code == 200
    assert preview[csp.HEADER] == "default-src 'none'; style-src 'unsafe-inline'; img-src *"


def test_static_files_on_another_host_are_allowed_by_origin(settings):
    settings.STATIC_URL = "https://cdn.example.com/static/"
    policy = dict(d.split(" ", 1) for d in csp.header_value(csp.SELF_SERVICE).split("; "))
    assert policy["style-src"] == "'self' https://cdn.example.com"
    assert policy["default-src"] == "'none'"  # only the directives that load our static files
    settings.STATIC_URL = "/static/"
    assert csp.header_value(csp.SELF_SERVICE) == SELF_SERVICE_POLICY


def test_debug_error_pages_are_left_readable(client, settings):
    settings.DEBUG = True
    assert csp.HEADER not in client.get("/no-such-page/")


@pytest.mark.parametrize(
    "url", ["javascript:alert(document.domain)", "data:text/html,<script>alert(1)</script>"]
)
def test_the_owner_sees_a_stored_script_url_as_text_in_the_admin(admin_client, settings, hostile_order, url):
    settings.SECURE_SSL_REDIRECT = False
    set_tracking(hostile_order, url)
    shipped = hostile_order.backorders.get(status=Backorder.Status.FULFILLED)
    response = admin_client.get(reverse("admin:backorders_backorder_change", args=[shipped.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    hrefs = [unescape(href).strip().lower() for href in re.findall(r'href="([^"]*)"', html)]
    assert not [href for href in hrefs if href.startswith(("javascript:", "data:"))]
    assert url in unescape(html)  # shown, as text
    assert MARKUP not in html
