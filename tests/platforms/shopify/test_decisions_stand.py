"""A customer's or owner's cancellation is never undone by a later platform event (issue: trust).

Through the real webhook URL: the order arrives, the customer cancels on their page (or the owner
in the admin), then the platform reports edits of the same order.
"""

import json

import pytest
from django.core import mail

from backorders.models import Backorder, Cancellation, Notification, Variant
from backorders.services.audit import Actor
from backorders.services.lifecycle import backorder_cancel
from tests.conftest import fixture

pytestmark = pytest.mark.django_db

BLUE, LINE_BLUE = 44012345678901, 13012345678901


def order_payload(fixture_name="orders_create", *, updated_at, quantity=None, **changes):
    payload = fixture(fixture_name)
    payload["updated_at"] = updated_at
    payload.update(changes)
    if quantity is not None:
        line = next(line for line in payload["line_items"] if line["id"] == LINE_BLUE)
        line["quantity"] = line["current_quantity"] = quantity
        line["fulfillable_quantity"] = quantity
    return payload


@pytest.fixture
def cancelled(deliver, django_capture_on_commit_callbacks):
    """The blue mug ordered twice (2 waiting), then cancelled by the customer on their page."""
    assert deliver("products/create", "products_create").status_code == 200
    assert deliver("orders/create", order_payload(updated_at="2026-11-02T12:00:00-05:00")).status_code == 200
    backorder = Backorder.objects.get(line__platform_id=LINE_BLUE)
    with django_capture_on_commit_callbacks(execute=True):
        backorder_cancel(backorder=backorder, actor=Actor.customer(backorder.order.email), reason="Too slow")
    mail.outbox.clear()
    return backorder


def test_a_later_platform_edit_with_the_same_quantities_leaves_the_cancellation_alone(deliver, cancelled):
    payload = order_payload(updated_at="2026-11-02T13:00:00-05:00", tags="vip")  # a tag edit
    assert deliver("orders/updated", payload).status_code == 200
    cancelled.refresh_from_db()
    assert cancelled.status == Backorder.Status.CANCELLED
    assert mail.outbox == []  # no second "on backorder" email
    variant = Variant.objects.get(platform_id=BLUE)
    assert (variant.units_waiting, variant.available) == (0, 0)
    line = cancelled.line
    line.refresh_from_db()
    assert (line.quantity, line.quantity_cancelled) == (0, 2)


def test_the_owner_refunding_on_the_platform_settles_the_cancelled_units_and_nothing_else(deliver, cancelled):
    payload = order_payload(updated_at="2026-11-02T13:00:00-05:00", quantity=0)  # refunded 2 of 2
    deliver("orders/updated", payload)
    cancelled.refresh_from_db()
    cancelled.line.refresh_from_db()
    assert cancelled.status == Backorder.Status.CANCELLED
    assert (cancelled.line.quantity, cancelled.line.quantity_cancelled) == (0, 0)
    assert Variant.objects.get(platform_id=BLUE).available == 0  # released once, at the cancel
    assert mail.outbox == []
    # Refunded there: no longer on the owner's list to settle, and the settling is audited.
    cancellation = Cancellation.objects.get(backorder=cancelled)
    assert cancellation.settled_at is not None and cancellation.settled_by == "orders/updated"
    assert cancelled.events.filter(kind="settled", actor_kind="platform").count() == 1


def test_only_units_the_platform_adds_wait_again(deliver, cancelled):
    payload = order_payload(updated_at="2026-11-02T13:00:00-05:00", quantity=3)  # one more added
    deliver("orders/updated", payload)
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.quantity) == (Backorder.Status.WAITING, 1)
    assert Variant.objects.get(platform_id=BLUE).units_waiting == 1
    [message] = mail.outbox
    assert "1 × " in message.body and "2 × " not in message.body


def test_an_owner_cancellation_in_the_admin_also_stands(deliver, cancelled, admin_client):
    """The same for the owner: the admin's cancel action, then a platform edit."""
    # A second order, cancelled by the owner in the admin.
    payload = order_payload(updated_at="2026-11-02T12:00:00-05:00", id=5678901234999, name="#1002")
    for line in payload["line_items"]:
        line["id"] += 1000
    deliver("orders/create", payload)
    second = Backorder.objects.get(order__platform_id=5678901234999)
    response = admin_client.post(
        "/admin/backorders/backorder/",
        {"action": "cancel_backorders", "_selected_action": [second.pk], "post": "yes"},
        secure=True,
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == Backorder.Status.CANCELLED
    payload["updated_at"] = "2026-11-02T14:00:00-05:00"
    deliver("orders/updated", payload)
    second.refresh_from_db()
    assert second.status == Backorder.Status.CANCELLED
    assert Cancellation.objects.filter(backorder=second, actor_kind="admin").count() == 1


def test_the_owner_is_emailed_once_per_order_and_the_cancellation_is_listed_to_settle(
    deliver, cancelled, admin_client
):
    owner_mail = Notification.objects.get(kind=Notification.Kind.OWNER_CANCELLED)
    assert (owner_mail.recipient, owner_mail.status, owner_mail.language) == ("owner@acme.test", "sent", "en")
    [item] = owner_mail.context["items"]
    assert (item["quantity"], item["amount"], item["currency"]) == (2, "48.00", "EUR")  # 2 × 24.00
    assert "self_service_url" not in json.dumps(owner_mail.context)
    cancellation = Cancellation.objects.get()
    assert (cancellation.quantity, str(cancellation.amount), cancellation.actor_kind) == (
        2,
        "48.00",
        "customer",
    )

    page = admin_client.get("/admin/backorders/cancellation/?settled=no", secure=True).content.decode()
    assert cancelled.order.number in page and "48.00 EUR" in page and "Jane Doe" in page
    detail = admin_client.get(f"/admin/backorders/cancellation/{cancellation.pk}/change/", secure=True)
    assert "Too slow" in detail.content.decode()
    response = admin_client.post(
        "/admin/backorders/cancellation/",
        {"action": "settle", "_selected_action": [cancellation.pk]},
        secure=True,
    )
    assert response.status_code == 302
    cancellation.refresh_from_db()
    assert cancellation.settled_at is not None and cancellation.settled_by == "admin"
    settled = cancelled.events.get(kind="settled")
    assert (settled.actor_kind, settled.actor_name, settled.quantity) == ("admin", "admin", 2)
    page = admin_client.get("/admin/backorders/cancellation/?settled=no", secure=True).content.decode()
    assert "48.00 EUR" not in page
    # The list opens on what is still to settle; settled ones are a filter away.
    assert (
        "48.00 EUR" not in admin_client.get("/admin/backorders/cancellation/", secure=True).content.decode()
    )
    assert (
        "48.00 EUR"
        in admin_client.get("/admin/backorders/cancellation/?settled=all", secure=True).content.decode()
    )
    # Settling twice records nothing twice.
    admin_client.post(
        "/admin/backorders/cancellation/",
        {"action": "settle", "_selected_action": [cancellation.pk]},
        secure=True,
    )
    assert cancelled.events.filter(kind="settled").count() == 1


def test_a_platform_cancellation_needs_no_settling(deliver):
    deliver("products/create", "products_create")
    deliver("orders/create", order_payload(updated_at="2026-11-02T12:00:00-05:00"))
    mail.outbox.clear()
    deliver(
        "orders/cancelled",
        order_payload(updated_at="2026-11-02T13:00:00-05:00", cancelled_at="2026-11-02T13:00:00-05:00"),
    )
    assert Backorder.objects.get(line__platform_id=LINE_BLUE).status == Backorder.Status.CANCELLED
    assert not Cancellation.objects.exists()
    assert [m.to for m in mail.outbox] == [["jane.doe@example.com"]]  # the customer only


def test_the_cancelled_signal_names_the_actor(cancelled, deliver, django_capture_on_commit_callbacks):
    from backorders import signals

    received = []

    def listener(sender, backorder, actor, reason, **kwargs):
        received.append((backorder.pk, actor.kind, reason))

    signals.backorder_cancelled.connect(listener)
    try:
        payload = order_payload(updated_at="2026-11-02T12:00:00-05:00", id=5678901234998, name="#1003")
        for line in payload["line_items"]:
            line["id"] += 2000
        deliver("orders/create", payload)
        backorder = Backorder.objects.get(order__platform_id=5678901234998)
        with django_capture_on_commit_callbacks(execute=True):
            backorder_cancel(backorder=backorder, actor=Actor.admin("owner"), reason="Out of production")
    finally:
        signals.backorder_cancelled.disconnect(listener)
    assert received == [(backorder.pk, "admin", "Out of production")]
