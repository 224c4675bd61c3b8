"""A customer is never sent an email whose facts stopped being true before it left.

These tests keep the default confirmation grace period (60 s): a confirmation waits, is sent by
the sweeper once due, and is planned again with the facts of that moment; any email whose facts
changed before it left is ``superseded`` with the reason, and the newest true state is what the
customer reads.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from backorders.models import Backorder, Notification, NotificationItem
from backorders.services.audit import Actor
from backorders.services.catalog import variant_set_policy
from backorders.services.lifecycle import backorder_cancel
from backorders.services.notifications.outbox import notifications_sweep
from backorders.services.stock import stock_set_available
from tests.conftest import ETA, SECRET, headers_for

pytestmark = [pytest.mark.django_db, pytest.mark.default_grace]

OWNER = Actor.admin("owner")


def kinds_sent() -> list[str]:
    return [m.subject.split(": ", 1)[1] for m in mail.outbox]


@pytest.fixture
def later(commit):
    """``later(seconds)``: time passes, then the periodic sweeper runs (its send tasks eagerly)."""

    def run(seconds: int = 130) -> dict:
        with time_machine.travel(timezone.now() + timedelta(seconds=seconds), tick=False), commit():
            return notifications_sweep()

    return run


def test_a_confirmation_waits_for_the_grace_period_then_goes_out_once(variant, place, commit, later):
    with commit():
        order = place({variant: 2}, accepted=True)
    row = Notification.objects.get(kind="confirmation")
    assert (row.status, mail.outbox) == ("pending", [])
    assert 59 <= (row.due_at - row.created_at).total_seconds() <= 61
    later(30)
    assert mail.outbox == []  # not due yet
    later()
    assert kinds_sent() == [f"your order {order.number} has items on backorder"]
    later(300)
    assert len(mail.outbox) == 1


def test_order_then_stock_through_the_webhook_url_sends_exactly_one_true_email(
    client, shop, settings, django_capture_on_commit_callbacks, later
):
    """The platform's order webhook, then (a moment later) the inventory that covers it."""
    settings.SHOPIFY_API_SECRET = SECRET
    from tests.conftest import fixture_bytes

    def post(topic, name):
        body = fixture_bytes(name)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/webhooks/shopify",
                data=body,
                content_type="application/json",
                headers=headers_for(body, topic=topic, shop=shop.domain),
            )
        assert response.status_code == 200

    post("products/create", "products_create")
    post("orders/create", "orders_create")  # 2 blue mugs, none in stock: backordered
    post("inventory_levels/update", "inventory_levels_update")  # 5 arrive a moment later
    assert Backorder.objects.get().status == Backorder.Status.ALLOCATED
    later()
    assert kinds_sent() == ["Ihre Bestellung #1001 ist versandbereit"]  # the customer's locale: de
    confirmation = Notification.objects.get(kind="confirmation")
    assert confirmation.status == "superseded"
    assert "now allocated" in confirmation.last_error
    later(600)
    assert len(mail.outbox) == 1


def test_a_ready_email_for_a_line_cancelled_since_is_superseded(variant, place, commit, later):
    with commit():
        order = place({variant: 1}, accepted=True)
    later()
    mail.outbox.clear()
    stock_set_available(variant=variant, available=0, actor=OWNER)  # allocated; "ready" not sent yet
    ready = Notification.objects.get(kind="ready")
    assert ready.status == "pending"
    with commit():
        backorder_cancel(backorder=order.backorders.get(), actor=Actor.customer(order.email))
    later()
    ready.refresh_from_db()
    assert ready.status == "superseded" and "now cancelled" in ready.last_error
    assert [m for m in kinds_sent() if "ready" in m] == []
    assert f"items of your order {order.number} were cancelled" in kinds_sent()


def test_a_delay_email_superseded_by_a_newer_eta_is_not_sent(variant, place, commit, later, monkeypatch):
    with commit():
        order = place({variant: 1}, accepted=True)
    later()
    mail.outbox.clear()
    with monkeypatch.context() as broker_down, commit():  # committed, but its task never ran
        broker_down.setattr("backorders.services.notifications.batch.notifications_enqueue", len)
        variant_set_policy(variant=variant, actor=OWNER, restock_date=ETA + timedelta(days=4))  # +5
    first = Notification.objects.get(kind="eta_changed")
    assert first.status == "pending"
    with commit():
        variant_set_policy(variant=variant, actor=OWNER, restock_date=ETA + timedelta(days=9))  # +10
    later()  # the broker is back: the sweeper picks up the first one
    first.refresh_from_db()
    assert first.status == "superseded" and "moved again" in first.last_error
    [message] = mail.outbox
    newest = Notification.objects.exclude(pk=first.pk).get(kind="eta_changed")
    assert newest.status == "sent"
    [item] = newest.context["items"]
    # Told against what the customer read last (the confirmation), not the superseded email.
    assert (item["old_eta"], item["eta"], item["days"]) == (
        ETA.isoformat(),
        (ETA + timedelta(days=10)).isoformat(),
        10,
    )
    assert order.number in message.subject


def test_an_eta_move_during_the_grace_period_is_told_by_the_confirmation_itself(
    variant, place, commit, later
):
    with commit():
        order = place({variant: 1}, accepted=True)
    new_eta = ETA + timedelta(days=20)
    with commit():
        variant_set_policy(variant=variant, actor=OWNER, restock_date=new_eta - timedelta(days=1))
    assert not Notification.objects.filter(kind="eta_changed").exists()
    later()
    [message] = mail.outbox
    assert "has items on backorder" in message.subject
    assert new_eta.strftime("%Y") in message.body and "20" in message.body
    item = NotificationItem.objects.get(notification__kind="confirmation", backorder=order.backorders.get())
    assert item.eta == new_eta  # what the customer was told, for the next ETA comparison
    # A later move is measured from that date.
    with commit():
        variant_set_policy(variant=variant, actor=OWNER, restock_date=new_eta)  # +1 day: within threshold
    assert len(mail.outbox) == 1


def test_a_confirmation_for_a_line_cancelled_during_the_grace_period_is_never_sent(
    variant, place, commit, later
):
    with commit():
        order = place({variant: 1}, accepted=True)
    with commit():
        backorder_cancel(backorder=order.backorders.get(), actor=Actor.customer(order.email))
    later()
    confirmation = Notification.objects.get(kind="confirmation")
    assert confirmation.status == "superseded"
    assert [m for m in kinds_sent() if "on backorder" in m] == []


def test_the_grace_period_is_a_setting(variant, place, commit, settings):
    settings.BACKORDERS = {**settings.BACKORDERS, "CONFIRMATION_GRACE_SECONDS": 0}
    with commit():
        place({variant: 1}, accepted=True)
    assert len(mail.outbox) == 1


def test_an_item_dropped_before_sending_does_not_count_as_told(
    make_backordered, place, commit, later, monkeypatch
):
    """A and B are delayed together (one email, not sent yet); A's date comes back before it
    leaves, so only B is told. A's later delay is then measured from the date the customer knows."""
    mug, plate = make_backordered("Mug"), make_backordered("Plate")
    with commit():
        order = place({mug: 1, plate: 1}, accepted=True)
    later()
    mail.outbox.clear()
    with monkeypatch.context() as broker_down, commit():
        broker_down.setattr("backorders.services.notifications.batch.notifications_enqueue", len)
        variant_set_policy(variant=mug, actor=OWNER, restock_date=ETA + timedelta(days=19))
        variant_set_policy(variant=plate, actor=OWNER, restock_date=ETA + timedelta(days=19))
    with monkeypatch.context() as broker_down, commit():
        broker_down.setattr("backorders.services.notifications.batch.notifications_enqueue", len)
        variant_set_policy(variant=mug, actor=OWNER, restock_date=ETA)  # the mug's date comes back
    later()
    [message] = mail.outbox
    assert "Plate" in message.body and "Mug" not in message.body
    mail.outbox.clear()
    with commit():  # the mug is delayed after all: told against the date the customer knows
        variant_set_policy(variant=mug, actor=OWNER, restock_date=ETA + timedelta(days=9))
    [message] = mail.outbox
    assert "Mug" in message.body and order.number in message.subject
    assert "later than we told you" in message.body  # delayed from what they know, not "earlier"
