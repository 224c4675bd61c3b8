"""Concurrent deliveries on PostgreSQL: duplicates have their effect once, a delivery is processed
by one worker at a time."""

import threading
from collections.abc import Callable
from unittest import mock

import pytest
from django.db import connection
from django.test import Client

from backorders.models import Backorder, Order, Variant, WebhookDelivery
from backorders.services.webhooks import webhook_delivery_process, webhook_delivery_record
from tests.conftest import URL, fixture_bytes, headers_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` in ``count`` threads released at the same moment; return their results."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.fixture
def catalog(deliver):
    assert deliver("products/create", "products_create").status_code == 200


def post(body: bytes, headers: dict[str, str]) -> int:
    return Client().post(URL, data=body, content_type="application/json", headers=headers).status_code


def test_ten_concurrent_copies_of_one_delivery_have_their_effect_once(shop, catalog):
    body = fixture_bytes("orders_create")
    headers = headers_for(body, topic="orders/create", shop=shop.domain)

    statuses = in_threads(10, lambda i: post(body, headers))

    assert statuses == [200] * 10
    assert WebhookDelivery.objects.filter(topic="orders/create").count() == 1
    delivery = WebhookDelivery.objects.get(topic="orders/create")
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.PROCESSED, 1)
    assert Order.objects.count() == 1
    assert Backorder.objects.get().quantity == 2
    variant = Variant.objects.get(platform_id=44012345678901)
    assert (variant.available, variant.units_waiting) == (-2, 2)


def test_ten_concurrent_deliveries_of_one_order_under_different_ids_record_it_once(shop, catalog):
    body = fixture_bytes("orders_create")

    statuses = in_threads(
        10, lambda i: post(body, headers_for(body, topic="orders/create", shop=shop.domain))
    )

    assert statuses == [200] * 10
    assert WebhookDelivery.objects.filter(topic="orders/create", status="processed").count() == 10
    assert Order.objects.count() == 1
    assert Backorder.objects.get().quantity == 2
    assert Variant.objects.get(platform_id=44012345678901).units_waiting == 2


def test_two_workers_never_process_one_delivery_at_the_same_time(shop):
    with mock.patch("backorders.tasks.webhook_delivery_process_task.delay"):  # the two "workers" below
        delivery_id = webhook_delivery_record(
            shop_id=shop.pk,
            topic="products/create",
            webhook_id="w-1",
            body=fixture_bytes("products_create").decode(),
        )

    results = in_threads(2, lambda i: webhook_delivery_process(delivery_id=delivery_id))

    assert sorted(results) == ["not claimable", "processed"]
    assert WebhookDelivery.objects.get().attempts == 1


def test_catalog_and_stock_deliveries_processed_at_once_never_deadlock(db):
    """A product gaining a variant whose stock at a new location came first (kept as a pending
    fact), processed at the same moment as a stock update of its other variant at that same new
    location: both create the location and lock the variant, so they must do it in one order.
    50 runs, each with a fresh shop; no attempt may fail (a deadlock would put the delivery back
    for another attempt)."""
    import json

    from backorders.models import InventoryLevel, Location, Shop
    from backorders.services.webhooks import DeliveryRetry, pending_inventory_record
    from tests.factories import ShopFactory

    product = json.loads(fixture_bytes("products_create"))
    blue, green = product["variants"]
    level = json.loads(fixture_bytes("inventory_levels_update"))  # Blue's item at a new location
    failures: list[str] = []

    def record(shop: Shop, topic: str, body: dict) -> int:
        with mock.patch("backorders.tasks.webhook_delivery_process_task.delay"):
            return webhook_delivery_record(
                shop_id=shop.pk, topic=topic, webhook_id=f"{topic}-{shop.pk}", body=json.dumps(body)
            )

    def process(delivery_id: int) -> str:
        try:
            return webhook_delivery_process(delivery_id=delivery_id)
        except DeliveryRetry as exc:
            failures.append(str(exc))
            return webhook_delivery_process(delivery_id=delivery_id)  # the retry: nothing is lost

    for run in range(50):
        shop = ShopFactory(domain=f"race-{run}.myshopify.com")
        webhook_delivery_process(delivery_id=record(shop, "products/update", {**product, "variants": [blue]}))
        pending_inventory_record(
            shop=shop,
            inventory_item_id=green["inventory_item_id"],
            location_platform_id=level["location_id"],
            available=3,
        )
        deliveries = [
            record(shop, "products/create", product),
            record(shop, "inventory_levels/update", level),
        ]

        results = in_threads(2, lambda i, ids=deliveries: process(ids[i]))

        assert results == ["processed", "processed"], results
        [location] = Location.objects.filter(shop=shop)
        assert location.platform_id == level["location_id"]
        stock = dict(
            InventoryLevel.objects.filter(shop=shop, location=location).values_list(
                "variant__sku", "available"
            )
        )
        assert stock == {"MUG-BLUE": 5, "MUG-GREEN": 3}
        assert dict(Variant.objects.filter(shop=shop).values_list("sku", "available")) == stock
    assert failures == []
    assert not WebhookDelivery.objects.exclude(attempts=1).exclude(topic="products/update").exists()
