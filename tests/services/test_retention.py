"""Raw webhook bodies are not kept forever: the daily prune deletes finished deliveries after their
retention (failed and rejected ones too), and a customer's redaction scrubs failed and rejected
bodies like every other."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from backorders import tasks
from backorders.conf import DEFAULTS
from backorders.models import PendingInventory, WebhookDelivery
from backorders.services.privacy import customer_redact
from backorders.services.webhooks import webhook_deliveries_prune, webhook_delivery_record
from tests.factories import ShopFactory

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status
EMAIL = "jane.doe@example.com"


def delivery(shop, status: str, *, days_ago: float, body: str = '{"id": 1}', topic="orders/create"):
    """A delivery in ``status`` received ``days_ago`` days ago."""
    delivery_id = webhook_delivery_record(
        shop_id=shop.pk,
        topic=topic,
        webhook_id=f"id-{WebhookDelivery.objects.count()}",
        body=body,
        status=Status.IGNORED,  # not enqueued; the status is set below
    )
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=status, received_at=timezone.now() - timedelta(days=days_ago)
    )
    return delivery_id


def remaining() -> set[int]:
    return set(WebhookDelivery.objects.values_list("pk", flat=True))


def test_failed_and_rejected_deliveries_are_kept_90_days_by_default():
    assert DEFAULTS["WEBHOOK_FAILED_RETENTION_DAYS"] == 90
    assert DEFAULTS["WEBHOOK_RETENTION_DAYS"] == 30


def test_the_prune_deletes_failed_and_rejected_deliveries_past_their_retention(shop):
    old_failed = delivery(shop, Status.FAILED, days_ago=91)
    old_rejected = delivery(shop, Status.REJECTED, days_ago=91)
    young_failed = delivery(shop, Status.FAILED, days_ago=89)
    young_rejected = delivery(shop, Status.REJECTED, days_ago=31)  # past the processed ones' 30 days
    old_processed = delivery(shop, Status.PROCESSED, days_ago=31)
    young_processed = delivery(shop, Status.PROCESSED, days_ago=29)

    assert webhook_deliveries_prune() == 3

    assert remaining() == {young_failed, young_rejected, young_processed}
    assert not {old_failed, old_rejected, old_processed} & remaining()


def test_deliveries_still_waiting_or_being_processed_are_never_pruned(shop):
    waiting = {
        delivery(shop, Status.RECEIVED, days_ago=400),
        delivery(shop, Status.PROCESSING, days_ago=400),
    }
    assert webhook_deliveries_prune() == 0
    assert remaining() == waiting


def test_the_failed_retention_is_a_setting(shop, settings):
    settings.BACKORDERS = {"WEBHOOK_FAILED_RETENTION_DAYS": 7, "WEBHOOK_RETENTION_DAYS": 60}
    failed = delivery(shop, Status.FAILED, days_ago=8)
    rejected = delivery(shop, Status.REJECTED, days_ago=6)
    processed = delivery(shop, Status.PROCESSED, days_ago=59)

    assert tasks.webhook_deliveries_prune_task.apply().get() == 1  # the daily task, as beat runs it

    assert remaining() == {rejected, processed}
    assert failed not in remaining()


def test_the_prune_covers_every_shop_and_keeps_young_inventory_facts(shop):
    other = ShopFactory()
    old = {delivery(shop, Status.REJECTED, days_ago=100), delivery(other, Status.FAILED, days_ago=100)}
    PendingInventory.objects.create(shop=shop, inventory_item_id=1, location_platform_id=2, available=3)

    assert webhook_deliveries_prune() == 2

    assert not old & remaining()
    assert PendingInventory.objects.count() == 1


def test_customer_redaction_scrubs_failed_and_rejected_bodies_too(shop):
    order = {"id": 5678901234567, "email": EMAIL, "customer": {"email": EMAIL, "first_name": "Jane"}}
    failed = delivery(shop, Status.FAILED, days_ago=1, body=json.dumps(order))
    malformed = f'{{"id": 5678901234567, "email": "{EMAIL}", '
    rejected = delivery(shop, Status.REJECTED, days_ago=1, body=malformed)
    WebhookDelivery.objects.filter(pk=failed).update(last_error=f"KeyError: no variant for {EMAIL}")

    customer_redact(shop=shop, email=EMAIL, order_ids=[5678901234567])

    for row in WebhookDelivery.objects.filter(pk__in=[failed, rejected]):
        assert EMAIL not in row.body, row.status
        assert "Jane" not in row.body, row.status
        assert EMAIL not in row.last_error, row.status
