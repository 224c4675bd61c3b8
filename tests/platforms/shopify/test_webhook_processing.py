"""Processing deliveries: claims, retries, failures, "process again", the sweeper, pruning."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.utils import timezone

from backorders.conf import get_setting
from backorders.models import Backorder, Order, PendingInventory, Product, WebhookDelivery
from backorders.services.webhooks import (
    DeliveryRetry,
    receiving,
    webhook_deliveries_prune,
    webhook_deliveries_sweep,
    webhook_delivery_process,
    webhook_delivery_record,
    webhook_delivery_retry,
)
from tests.conftest import fixture, fixture_bytes

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


def record(shop, topic="products/create", body=None, **fields) -> WebhookDelivery:
    delivery_id = webhook_delivery_record(
        shop_id=shop.pk,
        topic=topic,
        webhook_id=fields.pop("webhook_id", f"id-{WebhookDelivery.objects.count()}"),
        body=body if body is not None else fixture_bytes("products_create").decode(),
        **fields,
    )
    return WebhookDelivery.objects.get(pk=delivery_id)


def test_recording_a_duplicate_returns_none_and_changes_nothing(shop):
    first = record(shop, webhook_id="dup")
    assert (
        webhook_delivery_record(shop_id=shop.pk, topic="orders/create", webhook_id="dup", body="{}") is None
    )
    assert WebhookDelivery.objects.get() == first
    assert WebhookDelivery.objects.get().topic == "products/create"


def test_a_delivery_is_processed_once_and_a_second_run_finds_nothing_to_do(shop):
    delivery = record(shop)
    assert webhook_delivery_process(delivery_id=delivery.pk) == Status.PROCESSED
    assert webhook_delivery_process(delivery_id=delivery.pk) == "not claimable"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PROCESSED, 1)


def test_a_delivery_being_processed_is_not_claimed_by_another_worker(shop):
    delivery = record(shop)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.PROCESSING, claimed_at=timezone.now())
    assert webhook_delivery_process(delivery_id=delivery.pk) == "not claimable"
    assert not Product.objects.exists()


def test_a_payload_invalid_for_its_topic_is_rejected_with_a_clear_reason_and_not_retried(deliver):
    payload = fixture("orders_create")
    payload["line_items"][0]["quantity"] = "two"
    deliver("orders/create", payload)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.REJECTED
    assert delivery.attempts == 1
    assert delivery.last_error == "line_items[0].quantity must be an integer, not a string."
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("topic", "payload", "message"),
    [
        ("products/create", {"title": "No id"}, "id is missing."),
        ("orders/create", {"id": 1, "created_at": "2026-11-02T12:00:00Z"}, "line_items is missing."),
        ("orders/create", {"id": 1, "line_items": []}, "created_at is missing."),
        (
            "orders/create",
            {"id": 1.5, "created_at": "2026-11-02T12:00Z", "line_items": []},
            "id must be a positive integer id, not 1.5.",
        ),
        ("inventory_levels/update", {"inventory_item_id": 1, "available": 3}, "location_id is missing."),
        (
            "inventory_items/update",
            {"id": 1, "tracked": "no"},
            "tracked must be true or false, not a string.",
        ),
        ("customers/redact", {"customer": {"id": 1}}, "customer.email and orders_to_redact are both empty"),
    ],
)
def test_payload_errors_name_the_field(deliver, topic, payload, message):
    deliver(topic, payload)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.REJECTED
    assert delivery.last_error.startswith(message)


def test_an_order_that_the_service_refuses_as_invalid_is_rejected(deliver):
    deliver("products/create", "products_create")
    payload = fixture("orders_create")
    payload["line_items"][1]["id"] = payload["line_items"][0]["id"]  # two lines with one id
    deliver("orders/create", payload)
    delivery = WebhookDelivery.objects.get(topic="orders/create")
    assert delivery.status == Status.REJECTED
    assert "line id" in delivery.last_error


def test_a_processing_error_is_retried_then_marked_failed_with_the_error(deliver):
    with mock.patch(
        "backorders.platforms.shopify.handlers.catalog.product_upsert",
        side_effect=RuntimeError("disk on fire"),
    ) as upsert:
        assert deliver("products/create", "products_create").status_code == 200

    assert upsert.call_count == 5  # WEBHOOK_MAX_ATTEMPTS, retried by the task (eager here)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 5)
    assert delivery.last_error == "RuntimeError: disk on fire"
    assert not Product.objects.exists()


def test_a_transient_error_is_retried_and_then_succeeds(deliver):
    from backorders.services.catalog import product_upsert

    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError("lost the connection")
        return product_upsert(**kwargs)

    with mock.patch("backorders.platforms.shopify.handlers.catalog.product_upsert", side_effect=flaky):
        deliver("products/create", "products_create")

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Status.PROCESSED, 3, "")
    assert Product.objects.count() == 1


def test_a_failed_attempt_rolls_back_its_partial_effects(shop):
    delivery = record(shop)
    with mock.patch(
        "backorders.platforms.shopify.handlers.catalog.pending_inventory_apply",
        side_effect=RuntimeError("late failure"),
    ):
        with pytest.raises(DeliveryRetry):
            webhook_delivery_process(delivery_id=delivery.pk)
    assert not Product.objects.exists()  # product_upsert ran, then was rolled back
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        Status.RECEIVED,
        1,
        "RuntimeError: late failure",
    )


def test_an_order_before_its_products_is_retried_then_fails_saying_why(deliver):
    deliver("orders/create", "orders_create")
    failed = WebhookDelivery.objects.get()
    assert (failed.status, failed.attempts) == (Status.FAILED, 5)
    assert "Variant(s) 44012345678901 are not in the catalog yet" in failed.last_error
    assert "process this delivery again" in failed.last_error


def test_process_again_reprocesses_a_failed_delivery(deliver, django_capture_on_commit_callbacks):
    deliver("orders/create", "orders_create")
    deliver("products/create", "products_create")
    failed = WebhookDelivery.objects.get(topic="orders/create")

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_delivery_retry(delivery=failed) is True

    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (Status.PROCESSED, 1, "")
    assert Backorder.objects.get().quantity == 2


def test_process_again_leaves_a_waiting_delivery_alone(shop):
    delivery = record(shop)
    assert webhook_delivery_retry(delivery=delivery) is False


def test_processing_a_processed_delivery_again_changes_nothing(deliver, django_capture_on_commit_callbacks):
    deliver("products/create", "products_create")
    deliver("orders/create", "orders_create")
    order_delivery = WebhookDelivery.objects.get(topic="orders/create")
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_retry(delivery=order_delivery)
    assert Backorder.objects.get().quantity == 2
    assert Order.objects.get().lines.get(platform_id=13012345678901).quantity == 2


# The sweeper


def test_the_sweeper_enqueues_deliveries_left_waiting_after_a_minute(
    shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the broker "lost" the task
        delivery = record(shop)
    assert webhook_deliveries_sweep() == 0  # too early

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_deliveries_sweep() == 1
        delivery.refresh_from_db()
        assert delivery.status == Status.PROCESSED
        assert webhook_deliveries_sweep() == 0


def test_the_sweeper_enqueues_a_row_once_per_minute_not_on_every_run(
    shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        record(shop)
    later = timezone.now() + timedelta(seconds=61)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert webhook_deliveries_sweep() == 1
        assert webhook_deliveries_sweep() == 0
    assert len(callbacks) == 1


def test_the_sweeper_picks_up_a_delivery_abandoned_in_processing(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        delivery = record(shop)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.PROCESSING, claimed_at=timezone.now(), attempts=1
    )  # a worker claimed it and died

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert webhook_deliveries_sweep() == 0  # it may still be running
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_deliveries_sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PROCESSED, 2)


def test_an_abandoned_delivery_that_used_up_its_attempts_is_marked_failed(shop):
    delivery = record(shop)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.PROCESSING, claimed_at=timezone.now(), attempts=5
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert webhook_deliveries_sweep() == 0
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert "did not finish" in delivery.last_error


def test_the_sweeper_applies_inventory_that_raced_its_product(deliver, shop):
    deliver("products/create", "products_create")
    # As if the level had been processed while the product's transaction was still open:
    PendingInventory.objects.create(
        shop=shop, inventory_item_id=46012345678901, location_platform_id=65432109876, available=4
    )
    webhook_deliveries_sweep()
    assert not PendingInventory.objects.exists()
    from backorders.models import Variant

    assert Variant.objects.get(platform_id=44012345678901).available == 4


def test_pruning_deletes_old_processed_deliveries_and_keeps_failed_ones(shop):
    old = timezone.now() - timedelta(days=31)
    processed = record(shop, webhook_id="a", status=Status.IGNORED)
    failed = record(shop, webhook_id="b", status=Status.REJECTED)
    recent = record(shop, webhook_id="c", status=Status.IGNORED)
    WebhookDelivery.objects.filter(pk__in=[processed.pk, failed.pk]).update(received_at=old)

    assert webhook_deliveries_prune() == 1
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {failed.pk, recent.pk}


def test_each_webhook_task_runs_its_service(shop, django_capture_on_commit_callbacks):
    """The tasks are wrappers, but wired to the right service: each one's effect is visible."""
    from backorders import tasks

    delivery = record(shop)
    assert tasks.webhook_delivery_process_task.apply(args=[delivery.pk]).get() == Status.PROCESSED
    assert Product.objects.filter(shop=shop).exists()

    waiting = record(shop, webhook_id="late")  # its task was lost: the sweeper takes it up
    WebhookDelivery.objects.filter(pk=waiting.pk).update(enqueued_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.webhook_deliveries_sweep_task.apply().get() == 1
    waiting.refresh_from_db()
    assert waiting.status == Status.PROCESSED  # enqueued again, and processed (tasks run eagerly)

    days = get_setting("WEBHOOK_RETENTION_DAYS") + 1
    WebhookDelivery.objects.filter(pk=delivery.pk).update(received_at=timezone.now() - timedelta(days=days))
    assert tasks.webhook_deliveries_prune_task.apply().get() == 1
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
    assert WebhookDelivery.objects.filter(pk=waiting.pk).exists()


# Enqueueing with a broker: the per-process dispatcher


@pytest.fixture
def with_broker():
    """Tasks go to a broker (not run in-process) for the duration of the test."""
    from backorders.tasks import webhook_delivery_process_task

    conf = webhook_delivery_process_task.app.conf
    eager, conf.task_always_eager = conf.task_always_eager, False
    yield
    conf.task_always_eager = eager


def test_with_a_broker_a_webhook_request_hands_its_delivery_to_the_dispatcher(deliver, with_broker):
    with mock.patch.object(receiving._dispatcher, "put") as put:
        assert deliver("products/create", "products_create").status_code == 200
    put.assert_called_once_with(WebhookDelivery.objects.get().pk)
    assert WebhookDelivery.objects.get().status == Status.RECEIVED


def test_the_dispatcher_sends_the_waiting_ids_as_one_message():
    dispatcher = receiving._Dispatcher()
    for delivery_id in range(1, 8):
        dispatcher._queue.put(delivery_id)
    with mock.patch("backorders.tasks.webhook_deliveries_dispatch_task.delay") as delay:
        assert dispatcher.flush() == 7
        assert dispatcher.flush() == 0
    delay.assert_called_once_with([1, 2, 3, 4, 5, 6, 7])


def test_the_dispatcher_thread_sends_every_id_exactly_once():
    import threading

    dispatcher, sent, done = receiving._Dispatcher(), [], threading.Event()

    def publish(ids):
        sent.extend(ids)
        if len(sent) == 400:
            done.set()

    with mock.patch("backorders.tasks.webhook_deliveries_dispatch_task.delay", side_effect=publish):
        putters = [
            threading.Thread(target=lambda n=n: [dispatcher.put(n * 100 + i) for i in range(100)])
            for n in range(4)
        ]
        for thread in putters:
            thread.start()
        for thread in putters:
            thread.join()
        assert done.wait(timeout=10)
    assert sorted(sent) == sorted(n * 100 + i for n in range(4) for i in range(100))


def test_a_broker_outage_in_the_dispatcher_is_logged_not_raised(caplog):
    dispatcher = receiving._Dispatcher()
    dispatcher._queue.put(1)
    with mock.patch("backorders.tasks.webhook_deliveries_dispatch_task.delay", side_effect=OSError("down")):
        assert dispatcher.flush() == 1
    assert "the sweeper will" in caplog.text


def test_the_dispatch_task_fans_out_to_one_processing_task_per_delivery(shop):
    from backorders import tasks

    with mock.patch("backorders.tasks.webhook_delivery_process_task.delay"):  # stored, not processed yet
        first = record(shop, webhook_id="a")
        second = record(shop, topic="carts/update", webhook_id="b")
    assert tasks.webhook_deliveries_dispatch_task.apply(args=[[first.pk, second.pk]]).get() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.PROCESSED, Status.IGNORED)


def test_the_sweeper_sends_one_message_for_its_batch(shop, with_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        ids = [record(shop, webhook_id=f"s{i}").pk for i in range(3)]
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        with (
            mock.patch("backorders.tasks.webhook_deliveries_dispatch_task.delay") as delay,
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert webhook_deliveries_sweep() == 3
    delay.assert_called_once_with(ids)
