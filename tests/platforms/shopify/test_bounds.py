"""Bounded input: a value no column can hold is rejected at once with the field named (never
retried); a body nested too deep is refused before it is parsed; a URL that is not http(s) is
dropped and the rest of the delivery applied."""

import json
import logging
from decimal import Decimal
from unittest import mock

import pytest
from django.db import DataError
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backorders.models import Backorder, Order, Product, Variant, WebhookDelivery
from backorders.platforms.shopify import payloads
from backorders.platforms.shopify.handlers import HANDLERS
from backorders.platforms.shopify.payloads import PayloadError
from backorders.services.lifecycle import Tracking, TrackingUrlError, http_url_valid
from backorders.services.webhooks.bodies import MAX_NESTING, BodyTooDeep, body_load, nesting_too_deep
from tests.conftest import fixture

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status
LINE_BLUE = 13012345678901
HOSTILE_URLS = [
    "javascript:alert(document.domain)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "/relative/path",
    "https://",
    "http:///no-host",
    "https://[::1",
    "https://ups.test/\x00",
    "https://ups.test/" + "a" * 1000,
]


def deep(levels: int) -> bytes:
    return b'{"id": 1, "x": ' + b"[" * levels + b"]" * levels + b"}"


@pytest.fixture
def ordered(deliver):
    assert deliver("products/create", "products_create").status_code == 200
    assert deliver("orders/create", "orders_create").status_code == 200


def only_delivery(topic: str) -> WebhookDelivery:
    return WebhookDelivery.objects.get(topic=topic)


# Nesting


@pytest.mark.parametrize("topic", sorted(HANDLERS))
def test_a_signed_body_nested_10000_deep_is_400_and_stored_rejected_on_every_topic(deliver, topic):
    response = deliver(topic, deep(10_000))

    assert response.status_code == 400
    assert response.json()["error"] == "too_deep"
    assert f"more than {MAX_NESTING} levels" in response.json()["detail"]
    delivery = only_delivery(topic)
    assert (delivery.status, delivery.attempts) == (Status.REJECTED, 0)
    assert f"more than {MAX_NESTING} levels" in delivery.last_error


def test_a_body_at_the_nesting_limit_is_accepted_and_one_level_more_is_not(deliver):
    # The body itself is level 1: {"id": 1, "x": [[…]]} with MAX_NESTING - 1 arrays.
    assert deliver("carts/update", deep(MAX_NESTING - 1)).status_code == 200
    assert deliver("carts/update", deep(MAX_NESTING)).status_code == 400


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"note": "[" * 10_000, "quoted": '\\"[[[' * 100})
    assert not nesting_too_deep(text)
    assert body_load(text)["note"] == "[" * 10_000


def _depth(value: object) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


TRICKY_TEXT = st.text(alphabet='[]{}"\\ab', max_size=6)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.integers() | TRICKY_TEXT,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(TRICKY_TEXT, children, max_size=3),
        max_leaves=40,
    )
)
def test_the_nesting_scan_agrees_with_the_parsed_depth(document):
    assert nesting_too_deep(json.dumps(document), limit=4) == (_depth(document) > 4)


def test_the_nesting_scan_refuses_what_would_make_the_parser_recurse_too_deep():
    with pytest.raises(BodyTooDeep):
        body_load("[" * 100_000)
    with pytest.raises(ValueError, match="NaN is not a JSON number"):
        body_load('{"price": NaN}')


def test_the_admin_shows_a_too_deep_body_as_stored_and_its_reason(deliver, admin_client, settings):
    settings.SECURE_SSL_REDIRECT = False
    deliver("orders/create", deep(10_000))
    delivery = only_delivery("orders/create")

    page = admin_client.get(reverse("admin:backorders_webhookdelivery_change", args=[delivery.pk]))

    assert page.status_code == 200
    assert f"more than {MAX_NESTING} levels" in page.content.decode()


# Values no column can hold: rejected at once, with the field named


def with_(name: str, **fields) -> dict:
    return dict(fixture(name), **fields)


def order_with(**line_fields) -> dict:
    order = fixture("orders_create")
    order["line_items"][0].update(line_fields)
    return order


def product_with(**fields) -> dict:
    product = fixture("products_create")
    product.update(fields)
    return product


def variant_with(**fields) -> dict:
    product = fixture("products_create")
    product["variants"][0].update(fields)
    return product


@pytest.mark.parametrize(
    ("topic", "payload", "named"),
    [
        ("orders/create", order_with(quantity=10**12, current_quantity=None), "line_items[0].quantity"),
        ("orders/create", order_with(current_quantity=1_000_001), "line_items[0].current_quantity"),
        ("orders/create", order_with(quantity=-1, current_quantity=None), "line_items[0].quantity"),
        ("orders/create", order_with(id=2**64), "line_items[0].id"),
        ("orders/create", order_with(id=2**63), "line_items[0].id"),
        ("orders/create", order_with(sku="MUG\x00BLUE"), "line_items[0].sku"),
        ("orders/create", order_with(title="Mug \ud800"), "line_items[0].title"),
        ("orders/create", order_with(sku="S" * 256), "line_items[0].sku"),
        ("orders/create", with_("orders_create", id=2**64), "id"),
        ("orders/create", with_("orders_create", email="a" * 250 + "@x.com"), "email"),
        (
            "orders/create",
            with_("orders_create", created_at="9999-12-31T23:59:59-12:00"),
            "created_at",
        ),
        (
            "orders/create",
            with_("orders_create", updated_at="0001-01-01T00:00:00+01:00"),
            "updated_at",
        ),
        ("products/create", product_with(title="T" * 256), "title"),
        ("products/create", product_with(vendor="Acme\x00"), "vendor"),
        ("products/create", product_with(id=-5), "id"),
        ("products/create", variant_with(price="1e30"), "variants[0].price"),
        ("products/create", variant_with(price=1e30), "variants[0].price"),
        ("products/create", variant_with(price="-1.00"), "variants[0].price"),
        ("products/create", variant_with(price="9999999999.995"), "variants[0].price"),
        ("products/create", variant_with(inventory_item_id=2**64), "variants[0].inventory_item_id"),
        ("inventory_levels/update", with_("inventory_levels_update", available=10**12), "available"),
        ("inventory_levels/update", with_("inventory_levels_update", location_id="٣"), "location_id"),
        (
            "variants/in_stock",
            with_("variants_in_stock", inventory_quantity=2**40),
            "inventory_quantity",
        ),
        (
            "fulfillments/create",
            with_("fulfillments_create", tracking_number="\ud83d"),
            "tracking_number",
        ),
    ],
)
def test_a_value_no_column_can_hold_rejects_the_delivery_at_once_naming_the_field(
    deliver, ordered, topic, payload, named
):
    before = (Order.objects.count(), Product.objects.count(), Variant.objects.count())
    body = json.dumps(payload).encode()  # ensure_ascii: a lone surrogate travels as "\ud800"

    assert deliver(topic, body).status_code == 200

    delivery = WebhookDelivery.objects.order_by("-pk").first()
    assert (delivery.topic, delivery.status, delivery.attempts) == (topic, Status.REJECTED, 1)
    assert delivery.last_error.startswith(f"{named} "), delivery.last_error
    assert (Order.objects.count(), Product.objects.count(), Variant.objects.count()) == before


def test_money_is_rounded_to_cents_and_kept_within_the_column():
    assert payloads.as_decimal("19.994", "price") == Decimal("19.99")
    assert payloads.as_decimal("19.995", "price") == Decimal("20.00")
    assert payloads.as_decimal("9999999999.99", "price") == Decimal("9999999999.99")
    assert payloads.as_decimal("1e-999999", "price") == Decimal("0.00")
    with pytest.raises(PayloadError, match="^price is too large"):
        payloads.as_decimal("1" + "0" * 10, "price")


def test_a_long_line_title_or_customer_name_is_cut_to_its_column_not_refused(deliver, ordered):
    order = with_("orders_create", id=5678901234999)
    order["line_items"][0].update(title="Mug " * 100, variant_title="Blue " * 100)
    order["customer"]["first_name"] = "Jane" * 100
    deliver("orders/create", order)

    stored = Order.objects.get(platform_id=5678901234999)
    assert len(stored.customer_name) == 255
    assert len(stored.lines.get(platform_id=LINE_BLUE).title) == 255


def test_a_long_numeric_string_is_refused_as_an_id_without_converting_it():
    with pytest.raises(PayloadError, match="^id must be a positive integer id"):
        payloads.as_id("9" * 5000, "id")  # int() would raise a plain ValueError past 4,300 digits


def test_a_data_error_that_slips_past_the_payload_layer_rejects_the_delivery_after_one_attempt(deliver):
    with mock.patch(
        "backorders.platforms.shopify.handlers.catalog.product_upsert",
        side_effect=DataError("value too long for type character varying(255)"),
    ) as upsert:
        assert deliver("products/create", "products_create").status_code == 200

    assert upsert.call_count == 1
    delivery = only_delivery("products/create")
    assert (delivery.status, delivery.attempts) == (Status.REJECTED, 1)
    assert "DataError: value too long" in delivery.last_error


def test_a_unicode_error_rejects_the_delivery_after_one_attempt_with_a_storable_message(deliver):
    error = UnicodeEncodeError("utf-8", "\ud800\x00", 0, 1, "surrogates not allowed")
    with mock.patch(
        "backorders.platforms.shopify.handlers.catalog.product_upsert", side_effect=error
    ) as upsert:
        deliver("products/create", "products_create")

    assert upsert.call_count == 1
    delivery = only_delivery("products/create")
    assert (delivery.status, delivery.attempts) == (Status.REJECTED, 1)
    assert "UnicodeEncodeError" in delivery.last_error


def test_a_database_outage_is_still_retried(deliver):
    from django.db import OperationalError

    with mock.patch(
        "backorders.platforms.shopify.handlers.catalog.product_upsert",
        side_effect=OperationalError("server closed"),
    ) as upsert:
        deliver("products/create", "products_create")

    assert upsert.call_count == 5
    assert only_delivery("products/create").status == Status.FAILED


def test_the_admin_shows_the_reason_a_delivery_was_rejected(deliver, ordered, admin_client, settings):
    settings.SECURE_SSL_REDIRECT = False
    deliver("orders/create", json.dumps(order_with(quantity=10**12, current_quantity=None)).encode())
    delivery = WebhookDelivery.objects.order_by("-pk").first()

    listing = admin_client.get(reverse("admin:backorders_webhookdelivery_changelist"), {"status": "rejected"})
    page = admin_client.get(reverse("admin:backorders_webhookdelivery_change", args=[delivery.pk]))

    assert "line_items[0].quantity must be between 0 and 1,000,000" in listing.content.decode()
    assert "line_items[0].quantity must be between 0 and 1,000,000" in page.content.decode()


def test_a_triggered_at_header_out_of_range_is_ignored_not_a_500(deliver):
    response = deliver(
        "products/create", "products_create", headers={"X-Shopify-Triggered-At": "9999-12-31T23:59:59-23:59"}
    )
    assert response.status_code == 200
    delivery = only_delivery("products/create")
    assert (delivery.status, delivery.triggered_at) == (Status.PROCESSED, None)


# URLs: http(s) only, else dropped with a logged reason


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_fulfillment_with_a_non_http_tracking_url_is_applied_without_the_url(deliver, ordered, caplog, url):
    payload = fixture("fulfillments_create")
    payload.update(tracking_url=url, tracking_urls=[url])

    with caplog.at_level(logging.WARNING, logger="backorders.platforms.shopify.payloads.fields"):
        deliver("fulfillments/create", payload)

    assert only_delivery("fulfillments/create").status == Status.PROCESSED
    shipped = Backorder.objects.get(line__platform_id=LINE_BLUE)
    assert shipped.status == Backorder.Status.FULFILLED
    assert (shipped.tracking_number, shipped.tracking_url) == ("1Z999AA10123456784", "")
    assert "payload field tracking_url dropped" in caplog.text


def test_a_bad_first_tracking_url_in_the_list_is_dropped_and_named(deliver, ordered, caplog):
    payload = fixture("fulfillments_create")
    payload.update(tracking_url=None, tracking_urls=["javascript:alert(1)", "https://ups.test/1"])

    with caplog.at_level(logging.WARNING):
        deliver("fulfillments/create", payload)

    assert Backorder.objects.get(line__platform_id=LINE_BLUE).tracking_url == ""
    assert "payload field tracking_urls[0] dropped" in caplog.text


def test_an_order_whose_fulfillment_has_a_javascript_url_is_applied_without_it(deliver, ordered, caplog):
    order = fixture("orders_fulfilled")
    for item in order["fulfillments"]:
        item.update(tracking_url="javascript:alert(document.domain)", tracking_urls=["javascript:x"])

    with caplog.at_level(logging.WARNING):
        deliver("orders/fulfilled", order)

    assert WebhookDelivery.objects.order_by("-pk").first().status == Status.PROCESSED
    shipped = Backorder.objects.get(line__platform_id=LINE_BLUE)
    assert (shipped.status, shipped.tracking_url) == (Backorder.Status.FULFILLED, "")
    assert "payload field fulfillments[].tracking_url dropped" in caplog.text


def test_a_product_image_that_is_not_http_is_dropped_and_the_product_kept(deliver, caplog):
    product = fixture("products_create")
    product["image"] = {"src": "javascript:alert(1)"}
    product["images"] = [{"src": "javascript:alert(1)"}]

    with caplog.at_level(logging.WARNING):
        deliver("products/create", product)

    stored = Product.objects.get()
    assert (stored.title, stored.image_url) == (product["title"], "")
    assert "payload field image.src dropped" in caplog.text


def test_an_http_image_and_tracking_url_are_kept(deliver, ordered):
    assert Product.objects.get().image_url.startswith("https://")
    deliver("fulfillments/create", "fulfillments_create")
    assert Backorder.objects.get(line__platform_id=LINE_BLUE).tracking_url.startswith("https://www.ups.com/")


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_python_host_cannot_pass_a_non_http_tracking_url(url):
    assert not (http_url_valid(url) and len(url) <= 1000)
    with pytest.raises(TrackingUrlError, match="must be an absolute http:// or https:// address"):
        Tracking("UPS", "1Z", url)


@pytest.mark.parametrize(
    "url", ["https://ups.test/track?n=1Z&x=<b>", "HTTP://dhl.test/x", "https://xn--bcher-kva.test/ä"]
)
def test_http_and_https_tracking_urls_are_accepted(url):
    assert Tracking("UPS", "1Z", url).url == url
