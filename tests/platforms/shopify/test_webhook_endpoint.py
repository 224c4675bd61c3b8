"""The webhook endpoint: verification first, record then answer, and every refusal."""

import json
from unittest import mock

import pytest
from django.db import OperationalError

from backorders.models import Order, Product, Shop, WebhookDelivery
from backorders.selectors.webhooks import webhook_rejection_counts
from tests.conftest import OLD_SECRET, URL, fixture_bytes, headers_for

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


def nothing_written() -> bool:
    return (
        not WebhookDelivery.objects.exists() and not Product.objects.exists() and not Order.objects.exists()
    )


def test_a_signed_delivery_is_stored_answered_200_and_processed(deliver, shop):
    response = deliver("products/create", "products_create")

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.shop, delivery.topic, delivery.api_version) == (shop, "products/create", "2026-07")
    assert delivery.body.encode() == fixture_bytes("products_create")
    assert delivery.event_id and delivery.webhook_id
    assert delivery.triggered_at.isoformat() == "2026-11-02T17:00:00.123456+00:00"
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Status.PROCESSED, 1, "")
    assert delivery.processed_at is not None
    assert Product.objects.get().title == "Ceramic Mug"


def test_processing_happens_after_the_answer_not_inside_it(deliver):
    response = deliver("products/create", "products_create", process=False)

    assert response.status_code == 200
    assert WebhookDelivery.objects.get().status == Status.RECEIVED
    assert not Product.objects.exists()


@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_both_url_forms_are_answered_without_a_redirect(deliver, settings, path):
    settings.SECURE_SSL_REDIRECT = settings.APPEND_SLASH = True  # production: plain HTTP is redirected
    response = deliver("products/create", "products_create", path=path)
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_are_405(client, method):
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


# 401 with nothing written


@pytest.mark.parametrize(
    "header",
    [
        "X-Shopify-Topic",
        "X-Shopify-Hmac-Sha256",
        "X-Shopify-Shop-Domain",
        "X-Shopify-API-Version",
        "X-Shopify-Webhook-Id",
    ],
)
def test_a_missing_required_header_is_401_and_writes_nothing(deliver, header):
    response = deliver("products/create", "products_create", headers={header: None})

    assert response.status_code == 401
    assert header in response.json()["detail"]
    assert nothing_written()
    assert webhook_rejection_counts()["missing_header"] == 1


def test_a_bad_signature_is_401_and_writes_nothing(deliver):
    response = deliver("orders/create", "orders_create", headers={"X-Shopify-Hmac-Sha256": "AAAA" * 11})

    assert response.status_code == 401
    assert nothing_written()
    assert webhook_rejection_counts()["bad_signature"] == 1


def test_a_signature_with_the_wrong_secret_is_401(deliver):
    response = deliver("orders/create", "orders_create", secret="someone-elses-secret")
    assert response.status_code == 401
    assert nothing_written()


def test_the_previous_secret_is_accepted_during_a_rotation(deliver):
    response = deliver("products/create", "products_create", secret=OLD_SECRET)
    assert response.status_code == 200
    assert Product.objects.exists()


def test_a_shop_with_its_own_secret_accepts_only_that_secret(deliver, shop):
    shop.webhook_secret = "custom-app-secret"
    shop.save()

    assert deliver("products/create", "products_create").status_code == 401
    assert deliver("products/create", "products_create", secret=OLD_SECRET).status_code == 401
    assert nothing_written()
    assert deliver("products/create", "products_create", secret="custom-app-secret").status_code == 200


def test_without_any_secret_configured_nothing_verifies(deliver, settings):
    settings.SHOPIFY_API_SECRET = settings.SHOPIFY_API_SECRET_PREVIOUS = ""
    response = deliver("products/create", "products_create", secret="")
    assert response.status_code == 401
    assert webhook_rejection_counts()["no_secret"] == 1
    assert nothing_written()


def test_an_unknown_shop_is_401(deliver):
    response = deliver("orders/create", "orders_create", shop_domain="stranger.myshopify.com")
    assert response.status_code == 401
    assert webhook_rejection_counts()["unknown_shop"] == 1
    assert nothing_written()


def test_an_inactive_shop_is_401_except_for_the_privacy_topics(deliver, shop):
    Shop.objects.filter(pk=shop.pk).update(is_active=False)

    assert deliver("orders/create", "orders_create").status_code == 401
    assert nothing_written()
    assert webhook_rejection_counts()["inactive_shop"] == 1
    # The platform sends these after the uninstall (shop/redact 48 h later): they must be obeyed.
    assert deliver("customers/redact", "customers_redact").status_code == 200
    assert WebhookDelivery.objects.get().status == Status.PROCESSED


def test_the_header_names_are_case_insensitive_and_may_lack_the_x_prefix(client, shop):
    body = fixture_bytes("products_create")
    headers = {
        key.lower().removeprefix("x-"): value
        for key, value in headers_for(body, topic="products/create", shop=shop.domain).items()
    }
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 200


# The body


def test_a_body_over_one_mebibyte_is_413_before_anything_else(deliver):
    body = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    response = deliver("orders/create", body)
    assert response.status_code == 413
    assert nothing_written()
    assert webhook_rejection_counts()["too_large"] == 1


def test_a_body_of_exactly_one_mebibyte_is_accepted(deliver):
    pad = 1024 * 1024 - len(b'{"id": 1, "pad": ""}')
    body = b'{"id": 1, "pad": "' + b" " * pad + b'"}'
    assert len(body) == 1024 * 1024
    assert deliver("some/unknown_topic", body).status_code == 200


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"id": 1, "line_items": [', "malformed"),
        (b"[]", "array"),
        (b'[{"id": 1}]', "array of objects"),
        (b'"text"', "string"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"id": 1}\x00', "a NUL byte"),
    ],
)
def test_a_signed_body_that_is_not_a_json_object_is_400_and_recorded_as_rejected(deliver, body, why):
    response = deliver("orders/create", body)

    assert response.status_code == 400, why
    assert response.json()["error"] == "not_json_object"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.REJECTED
    assert delivery.last_error == "The body is not a JSON object."
    assert not Order.objects.exists()


def test_an_unknown_topic_is_200_and_stored_as_ignored(deliver):
    response = deliver("carts/update", {"id": 12345, "token": "abc"})
    assert response.status_code == 200
    assert WebhookDelivery.objects.get().status == Status.IGNORED


# Duplicates and cost


def test_a_repeated_webhook_id_answers_200_and_changes_nothing(deliver):
    deliver("products/create", "products_create")
    webhook_id = {"X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"}
    assert deliver("orders/create", "orders_create", headers=webhook_id).status_code == 200
    order = Order.objects.get()
    lines = list(order.lines.values_list("platform_id", "quantity"))

    second = deliver("orders/create", "orders_create", headers=webhook_id)

    assert second.status_code == 200
    delivery = WebhookDelivery.objects.get(topic="orders/create")
    assert (delivery.status, delivery.attempts) == (Status.PROCESSED, 1)
    assert WebhookDelivery.objects.count() == 2
    assert list(Order.objects.get().lines.values_list("platform_id", "quantity")) == lines


def test_the_same_webhook_id_from_another_shop_is_another_delivery(deliver):
    from tests.factories import ShopFactory

    ShopFactory(domain="other.myshopify.com")
    webhook_id = {"X-Shopify-Webhook-Id": "same-id"}
    deliver("carts/update", {"id": 1}, headers=webhook_id)
    deliver("carts/update", {"id": 1}, headers=webhook_id, shop_domain="other.myshopify.com")
    assert WebhookDelivery.objects.count() == 2


def test_a_new_delivery_and_a_duplicate_each_cost_at_most_two_statements(
    client, shop, django_assert_max_num_queries
):
    body = fixture_bytes("orders_create")
    headers = headers_for(body, topic="orders/create", shop=shop.domain)
    with django_assert_max_num_queries(2):  # the shop, then INSERT … ON CONFLICT DO NOTHING RETURNING id
        assert (
            client.post(URL, data=body, content_type="application/json", headers=headers).status_code == 200
        )
    with django_assert_max_num_queries(2):
        assert (
            client.post(URL, data=body, content_type="application/json", headers=headers).status_code == 200
        )
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.postgres
def test_on_postgresql_a_new_delivery_costs_one_statement_and_a_duplicate_two(
    client, shop, django_assert_num_queries
):
    body = fixture_bytes("orders_create")
    headers = headers_for(body, topic="orders/create", shop=shop.domain)
    with django_assert_num_queries(1):  # INSERT … SELECT the shop … ON CONFLICT DO NOTHING RETURNING id
        assert (
            client.post(URL, data=body, content_type="application/json", headers=headers).status_code == 200
        )
    with django_assert_num_queries(2):  # the same, storing nothing; then the shop, to tell why
        assert (
            client.post(URL, data=body, content_type="application/json", headers=headers).status_code == 200
        )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.shop, delivery.topic, delivery.status) == (shop, "orders/create", Status.RECEIVED)
    assert delivery.body.encode() == body
    assert delivery.triggered_at is not None and delivery.received_at is not None


def test_a_shop_with_its_own_secret_costs_two_statements(client, shop, django_assert_max_num_queries):
    shop.webhook_secret = "custom-app-secret"
    shop.save()
    body = fixture_bytes("orders_create")
    headers = headers_for(body, topic="orders/create", shop=shop.domain, secret="custom-app-secret")
    with django_assert_max_num_queries(2):
        assert (
            client.post(URL, data=body, content_type="application/json", headers=headers).status_code == 200
        )
    assert WebhookDelivery.objects.count() == 1


def test_a_shops_own_secret_equal_to_the_apps_still_verifies(deliver, shop):
    shop.webhook_secret = "test-client-secret"
    shop.save()
    assert deliver("products/create", "products_create").status_code == 200
    assert WebhookDelivery.objects.get().status == Status.PROCESSED


# Outages


@pytest.mark.parametrize(
    ("target", "secret"),
    [
        ("webhook_delivery_receive", "test-client-secret"),  # the app's secret: one statement
        ("shop_credentials", "custom-app-secret"),  # a shop's own secret: lookup, then insert
        ("webhook_delivery_record", "custom-app-secret"),
    ],
)
def test_the_database_being_down_is_503_so_that_the_platform_retries(deliver, shop, target, secret):
    if secret == "custom-app-secret":
        shop.webhook_secret = secret
        shop.save()
    with mock.patch(
        f"backorders.platforms.shopify.views.{target}",
        side_effect=OperationalError("could not connect to server"),
    ):
        response = deliver("orders/create", "orders_create", secret=secret)
    assert response.status_code == 503
    assert response["Retry-After"]


def test_a_broker_outage_still_answers_200_and_keeps_the_delivery_for_the_sweeper(deliver):
    with mock.patch(
        "backorders.tasks.webhook_delivery_process_task.delay", side_effect=ConnectionError("broker down")
    ):
        response = deliver("orders/create", "orders_create")

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.RECEIVED
    assert json.loads(delivery.body)["id"] == 5678901234567
