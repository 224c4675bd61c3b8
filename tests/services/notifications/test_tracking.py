"""Delivery tracking through anymail's webhooks: rows updated, bounced addresses suppressed."""

import base64
import json

import pytest
from django.core import mail
from django.test import override_settings

from backorders.models import Notification, Suppression
from backorders.services.audit import Actor
from backorders.services.lifecycle import backorder_cancel

SECRET = "anymail-user:anymail-pass"
TRACKING_URL = "/anymail/postmark/tracking/"


def postmark_event(record_type: str, notification: Notification, **fields) -> dict:
    """A Postmark tracking webhook body, in Postmark's shape, for ``notification``."""
    event = {
        "RecordType": record_type,
        "MessageID": notification.message_id or "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"notification": str(notification.pk), "shop": notification.shop.domain},
        "Tag": f"backorders-{notification.kind}",
        "ServerID": 23,
        "MessageStream": "outbound",
    }
    if record_type == "Bounce":
        event |= {
            "ID": 4323372036854775807,
            "Type": "HardBounce",
            "TypeCode": 1,
            "Name": "Hard bounce",
            "Email": notification.recipient,
            "From": "backorders@example.com",
            "BouncedAt": "2026-11-26T16:30:00Z",
            "Description": "The server was unable to deliver your message (ex: unknown user).",
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
            "Inactive": True,
            "CanActivate": True,
        }
    elif record_type == "Delivery":
        event |= {
            "Recipient": notification.recipient,
            "DeliveredAt": "2026-11-26T16:20:00Z",
            "Details": "Test delivery webhook details",
        }
    elif record_type == "SpamComplaint":
        event |= {
            "ID": 42,
            "Type": "SpamComplaint",
            "Email": notification.recipient,
            "BouncedAt": "2026-11-26T16:40:00Z",
        }
    return event | fields


def post(client, body: dict, auth: str | None = SECRET):
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(TRACKING_URL, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def sent(variant, place, commit):
    with commit():
        order = place({variant: 1}, accepted=True)
    return order, Notification.objects.get(order=order)


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET})
def test_a_bounce_webhook_marks_the_row_and_suppresses_the_address(sent, commit, browser):
    order, notification = sent
    response = post(browser, postmark_event("Bounce", notification))
    assert response.status_code == 200
    notification.refresh_from_db()
    assert notification.delivery_status == "bounced"
    assert "unable to deliver" in notification.delivery_detail
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason, suppression.notification) == (
        order.email,
        "bounced",
        notification,
    )
    mail.outbox.clear()
    with commit():
        backorder_cancel(backorder=order.backorders.get(), actor=Actor.admin("owner"))
    assert Notification.objects.get(kind="cancelled").status == "suppressed"
    assert [m.to for m in mail.outbox] == [[order.shop.owner_email]]  # only the owner, to settle it


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET})
def test_a_webhook_without_the_secret_changes_nothing(sent, browser):
    _order, notification = sent
    assert post(browser, postmark_event("Bounce", notification), auth=None).status_code == 400
    assert post(browser, postmark_event("Bounce", notification), auth="anymail-user:wrong").status_code == 400
    notification.refresh_from_db()
    assert notification.delivery_status == ""
    assert not Suppression.objects.exists()


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET})
def test_delivery_then_a_late_open_keep_the_most_telling_status(sent, browser):
    _order, notification = sent
    assert post(browser, postmark_event("Delivery", notification)).status_code == 200
    notification.refresh_from_db()
    assert notification.delivery_status == "delivered"
    post(browser, postmark_event("SpamComplaint", notification))
    post(browser, postmark_event("Delivery", notification))  # out of order: a complaint stays
    notification.refresh_from_db()
    assert notification.delivery_status == "complained"
    assert Suppression.objects.get().reason == "complained"


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET})
def test_events_for_messages_that_are_not_ours_are_ignored(sent, browser):
    _order, notification = sent
    event = postmark_event("Bounce", notification, Metadata={}, MessageID="someone-elses-message")
    assert post(browser, event).status_code == 200
    assert not Suppression.objects.exists()


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET})
def test_an_event_without_our_metadata_is_found_by_the_provider_message_id(sent, browser):
    _order, notification = sent
    Notification.objects.filter(pk=notification.pk).update(message_id="pm-message-1")
    notification.refresh_from_db()
    post(browser, postmark_event("Delivery", notification, Metadata={}))
    notification.refresh_from_db()
    assert notification.delivery_status == "delivered"
