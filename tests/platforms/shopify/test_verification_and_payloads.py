"""Signatures (the platform's public test vector, raw bytes) and payload decoding (pure functions)."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from backorders.platforms.shopify import payloads
from backorders.platforms.shopify.payloads import PayloadError
from backorders.platforms.shopify.verification import (
    webhook_secrets,
    webhook_signature,
    webhook_signature_valid,
)
from tests.conftest import fixture

# Signatures


def test_the_platforms_public_test_vector():
    assert (
        webhook_signature(secret="secret", body=b"foo=anything")
        == "yCGX/RrK4fcuNtr3ztk5tQGsOBjcAzHpGLdMUrbV8yI="
    )
    assert (
        webhook_signature(secret="old_secret", body=b"foo=anything")
        == "XqRcjrSv57VACn6apEO9znyu/wkN1VC7QxdSPwK3Hzs="
    )


def test_either_the_current_or_the_previous_secret_verifies():
    secrets = ["secret", "old_secret"]
    assert webhook_signature_valid(
        body=b"foo=anything", signature="yCGX/RrK4fcuNtr3ztk5tQGsOBjcAzHpGLdMUrbV8yI=", secrets=secrets
    )
    assert webhook_signature_valid(
        body=b"foo=anything", signature="XqRcjrSv57VACn6apEO9znyu/wkN1VC7QxdSPwK3Hzs=", secrets=secrets
    )
    assert not webhook_signature_valid(
        body=b"foo=anything", signature="XqRcjrSv57VACn6apEO9znyu/wkN1VC7QxdSPwK3Hzs=", secrets=["secret"]
    )


def test_the_signature_is_over_the_raw_bytes_not_the_reserialised_json():
    body = '{\n  "title" :\t"Crème brûlée — 🍮",\r\n  "price": "4.50" ,"id":1 }\n'.encode()
    signature = webhook_signature(secret="s3cr3t", body=body)
    assert webhook_signature_valid(body=body, signature=signature, secrets=["s3cr3t"])
    reserialised = json.dumps(json.loads(body)).encode()
    assert not webhook_signature_valid(body=reserialised, signature=signature, secrets=["s3cr3t"])
    compact = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
    assert not webhook_signature_valid(body=compact, signature=signature, secrets=["s3cr3t"])


@pytest.mark.parametrize(
    "signature", ["", "not base64 at all", "yCGX/RrK4fcuNtr3ztk5tQGsOBjcAzHpGLdMUrbV8yI", "é"]
)
def test_malformed_signatures_do_not_verify(signature):
    assert not webhook_signature_valid(body=b"foo=anything", signature=signature, secrets=["secret"])


def test_an_empty_secret_never_verifies():
    assert not webhook_signature_valid(
        body=b"x", signature=webhook_signature(secret="", body=b"x"), secrets=["", ""]
    )


def test_the_shops_own_secret_replaces_the_apps(settings):
    settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_PREVIOUS = "app", "app-old"
    assert webhook_secrets(shop_secret="") == ["app", "app-old"]
    assert webhook_secrets(shop_secret="own") == ["own"]
    settings.SHOPIFY_API_SECRET_PREVIOUS = ""
    assert webhook_secrets() == ["app"]


# Payloads


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (9_223_372_036_854_775_807, 9_223_372_036_854_775_807),
        ("5678901234567", 5678901234567),
        ("gid://shopify/Order/5678901234567", 5678901234567),
    ],
)
def test_ids_become_exact_integers(value, expected):
    assert payloads.as_id(value, "id") == expected


@pytest.mark.parametrize("value", [1.5, True, -3, 0, "12a", None, [1]])
def test_bad_ids_are_refused(value):
    with pytest.raises(PayloadError, match="^id must be a positive integer id"):
        payloads.as_id(value, "id")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("19.99", Decimal("19.99")), ("0.10", Decimal("0.10")), (5, Decimal(5)), (None, Decimal(0))],
)
def test_money_is_decimal(value, expected):
    assert payloads.as_decimal(value, "price") == expected


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", {"amount": "1"}])
def test_bad_money_is_refused(value):
    with pytest.raises(PayloadError, match="^price must be"):
        payloads.as_decimal(value, "price")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-02T12:00:00-05:00", datetime(2026, 11, 2, 17, 0, tzinfo=UTC)),
        ("2026-11-02T12:00:00.1-05:00", datetime(2026, 11, 2, 17, 0, 0, 100000, tzinfo=UTC)),
        ("2026-11-02T17:00:00.123456Z", datetime(2026, 11, 2, 17, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-02T18:00:00+01:00", datetime(2026, 11, 2, 17, 0, tzinfo=UTC)),
        ("2026-11-02T17:00:00", datetime(2026, 11, 2, 17, 0, tzinfo=UTC)),  # no offset: UTC
        (None, None),
    ],
)
def test_timestamps_with_any_fraction_and_offset(value, expected):
    assert payloads.as_datetime(value, "updated_at") == expected


def test_a_timestamp_keeps_its_offset():
    parsed = payloads.as_datetime("2026-11-02T12:00:00-05:00", "x")
    assert parsed.utcoffset() == timedelta(hours=-5)
    assert parsed.tzinfo != UTC


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45T00:00:00Z", 1793631492])
def test_bad_timestamps_are_refused(value):
    with pytest.raises(PayloadError, match="^updated_at must be an ISO-8601 timestamp"):
        payloads.as_datetime(value, "updated_at")


def test_product_data_from_the_fixture():
    data = payloads.product_data(fixture("products_create"))
    assert data.platform_id == 7981234567890
    assert data.tags == "ceramic, kitchen, mug"
    assert [(v.platform_id, v.price, v.inventory_policy) for v in data.variants] == [
        (44012345678901, Decimal("24.00"), "continue"),
        (44012345678902, Decimal("24.00"), "deny"),
    ]


def test_product_tags_as_a_list_are_accepted_too():
    assert payloads.product_data({"id": 1, "title": "T", "tags": ["a", "b"]}).tags == "a,b"


def test_a_variant_without_updated_at_takes_the_products():
    data = payloads.product_data(
        {"id": 1, "title": "T", "updated_at": "2026-11-02T12:00:00Z", "variants": [{"id": 2}]}
    )
    assert data.variants[0].updated_at == data.updated_at


def test_the_triggered_at_header_is_the_fallback_timestamp():
    fallback = datetime(2026, 1, 1, tzinfo=UTC)
    level = payloads.inventory_level(
        {"inventory_item_id": 1, "location_id": 2, "available": 3}, fallback_updated_at=fallback
    )
    assert level.updated_at == fallback


def test_order_data_from_the_fixture():
    data = payloads.order_data(fixture("orders_create"))
    assert (data.platform_id, data.number, data.email, data.customer_name, data.locale) == (
        5678901234567,
        "#1001",
        "jane.doe@example.com",
        "Jane Doe",
        "de",
    )
    blue, wrap = data.lines
    assert (blue.variant_id, blue.quantity, blue.shipped, blue.title) == (
        44012345678901,
        2,
        0,
        "Ceramic Mug — Blue",
    )
    assert (wrap.variant_id, wrap.product_exists, wrap.sku) == (None, False, "")


def test_current_quantity_wins_and_shipped_is_what_is_no_longer_fulfillable():
    line = payloads.order_line(
        {"id": 1, "quantity": 5, "current_quantity": 4, "fulfillable_quantity": 1}, "line", cancelled=False
    )
    assert (line.quantity, line.shipped) == (4, 3)


def test_a_cancelled_orders_unfulfillable_lines_are_not_shipped():
    line = payloads.order_line(
        {"id": 1, "quantity": 5, "current_quantity": 5, "fulfillable_quantity": 0}, "line", cancelled=True
    )
    assert line.shipped == 0


def test_the_order_takes_tracking_from_its_last_successful_fulfillment():
    data = payloads.order_data(fixture("orders_fulfilled"))
    assert (data.tracking.company, data.tracking.number) == ("UPS", "1Z999AA10123456784")


def test_a_fulfillment_with_only_the_plural_tracking_fields():
    fulfillment = dict(fixture("fulfillments_create"), tracking_number=None, tracking_url=None)
    data = payloads.fulfillment_data(fulfillment)
    assert data.tracking.number == "1Z999AA10123456784"
    assert data.tracking.url.startswith("https://www.ups.com/")


def test_a_line_that_is_not_an_object_is_refused_with_its_position():
    with pytest.raises(PayloadError, match=r"^line_items\[1\] must be a JSON object, not a number\."):
        payloads.order_data(
            dict(fixture("orders_create"), line_items=[fixture("orders_create")["line_items"][0], 7])
        )
