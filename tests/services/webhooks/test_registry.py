"""The core knows platforms only by what they register: a second, test-only platform
(tests/fake_platform) registered from a fixture is processed, rejected, ignored once gone, and
erased by its own rules, without a line of ``backorders/services`` naming it."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from backorders.models import InventoryLevel, WebhookDelivery
from backorders.services.privacy import customer_data_request_record, customer_redact
from backorders.services.webhooks import webhook_delivery_process, webhook_delivery_record
from backorders.services.webhooks.registry import (
    Platform,
    platform_for_topic,
    platform_register,
    platform_unregister,
    topic_handled,
    topic_is_privacy,
)
from tests.factories import VariantFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("app_secrets")]

Status = WebhookDelivery.Status


def store(shop, topic: str, payload: dict, webhook_id: str = "fake-1") -> int:
    delivery_id = webhook_delivery_record(
        shop_id=shop.pk, topic=topic, webhook_id=webhook_id, body=json.dumps(payload)
    )
    assert delivery_id is not None
    return delivery_id


def test_the_shopify_adapter_registers_itself_when_the_app_is_ready():
    platform = platform_for_topic("orders/create")
    assert platform is not None and platform.name == "shopify"
    assert topic_is_privacy("customers/redact") and not topic_is_privacy("orders/create")
    assert not topic_handled("fake/stock_set")


def test_a_second_platform_registered_from_a_test_processes_its_delivery_end_to_end(shop, fake_platform):
    variant = VariantFactory(product__shop=shop)
    delivery_id = store(shop, "fake/stock_set", {"variant": variant.platform_id, "available": 7})

    assert webhook_delivery_process(delivery_id=delivery_id) == Status.PROCESSED

    assert InventoryLevel.objects.get(variant=variant).available == 7
    variant.refresh_from_db()
    assert variant.available == 7
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Status.PROCESSED, 1, "")


def test_the_second_platforms_own_payload_error_rejects_its_delivery_with_its_message(shop, fake_platform):
    delivery_id = store(shop, "fake/stock_set", {"variant": "seven", "available": 7})

    assert webhook_delivery_process(delivery_id=delivery_id) == Status.REJECTED

    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        Status.REJECTED,
        1,
        "variant must be an integer.",
    )


def test_a_body_that_is_not_an_object_is_rejected_by_the_core_before_any_handler(shop, fake_platform):
    delivery_id = webhook_delivery_record(shop_id=shop.pk, topic="fake/stock_set", webhook_id="a", body="[1]")

    assert webhook_delivery_process(delivery_id=delivery_id) == Status.REJECTED
    assert WebhookDelivery.objects.get(pk=delivery_id).last_error == (
        "The body must be a JSON object, not an array."
    )


def test_a_delivery_of_an_unregistered_platform_is_ignored_and_changes_nothing(shop):
    variant = VariantFactory(product__shop=shop)
    delivery_id = store(shop, "fake/stock_set", {"variant": variant.platform_id, "available": 7})

    assert webhook_delivery_process(delivery_id=delivery_id) == Status.IGNORED
    assert not InventoryLevel.objects.filter(variant=variant).exists()


def test_a_topic_another_platform_holds_cannot_be_registered_and_the_registry_is_unchanged(fake_platform):
    clash = Platform(
        name="clash",
        handlers={"orders/create": fake_platform.handlers["fake/stock_set"]},
        privacy_topics=frozenset(),
        body_mentions=fake_platform.body_mentions,
        body_redact=fake_platform.body_redact,
    )
    with pytest.raises(
        ImproperlyConfigured, match="'shopify' and 'clash' both register topic 'orders/create'"
    ):
        platform_register(platform=clash)
    assert platform_for_topic("orders/create").name == "shopify"
    platform_unregister(name="clash")  # never registered: nothing happens
    assert platform_for_topic("orders/create").name == "shopify"


def test_a_privacy_topic_without_a_handler_is_a_configuration_error(fake_platform):
    with pytest.raises(ImproperlyConfigured, match="privacy topic\\(s\\) fake/gone have no handler"):
        Platform(
            name="broken",
            handlers={},
            privacy_topics=frozenset({"fake/gone"}),
            body_mentions=fake_platform.body_mentions,
            body_redact=fake_platform.body_redact,
        )


BUYER = 99
EMAIL = "zed@example.com"


def body_of(pk: int) -> dict:
    return json.loads(WebhookDelivery.objects.get(pk=pk).body)


def test_a_privacy_topic_of_the_second_platform_erases_by_its_own_ids_and_personal_keys(shop, fake_platform):
    about = store(
        shop,
        "fake/stock_set",
        {"buyer_id": BUYER, "buyer": {"name": "Zed"}, "note": f"call {EMAIL} soon", "available": 1},
        webhook_id="about",
    )
    other = store(shop, "fake/stock_set", {"buyer_id": 100, "buyer": {"name": "Ann"}}, webhook_id="other")
    forget = store(shop, "fake/forget_me", {"buyer_id": BUYER, "email": EMAIL}, webhook_id="forget")

    assert webhook_delivery_process(delivery_id=forget) == Status.PROCESSED

    # The fake's personal key is nulled; "note" is not one of its keys (it is Shopify's), so only
    # the address in it goes.
    assert body_of(about) == {
        "buyer_id": BUYER,
        "buyer": None,
        "note": "call [redacted] soon",
        "available": 1,
    }
    assert body_of(other) == {"buyer_id": 100, "buyer": {"name": "Ann"}}


def test_a_body_no_platform_claims_is_scrubbed_by_every_registered_platform(shop, fake_platform):
    ignored = store(
        shop,
        "carts/update",
        {"buyer_id": BUYER, "buyer": {"name": "Zed"}, "note": "leave at the door", "phone": "+1555"},
        webhook_id="ignored",
    )

    customer_redact(shop=shop, email="", order_ids=[], customer_id=BUYER)

    assert body_of(ignored) == {"buyer_id": BUYER, "buyer": None, "note": None, "phone": None}


def test_the_data_export_holds_the_second_platforms_bodies_found_by_its_ids(shop, fake_platform):
    store(shop, "fake/stock_set", {"buyer_id": BUYER, "buyer": {"name": "Zed"}}, webhook_id="about")
    store(shop, "fake/stock_set", {"buyer_id": 100, "buyer": {"name": "Ann"}}, webhook_id="other")

    request = customer_data_request_record(shop=shop, email="", order_ids=[], customer_id=BUYER)

    assert [(d["webhook_id"], d["body"]) for d in request.export["webhook_deliveries"]] == [
        ("about", {"buyer_id": BUYER, "buyer": {"name": "Zed"}})
    ]
