"""Exactly once: repeated tasks, duplicated changes, provider errors, stuck rows, racing workers."""

import logging
import smtplib
import threading
from datetime import timedelta

import pytest
import requests
import time_machine
from anymail.exceptions import AnymailRecipientsRefused, AnymailRequestsAPIError
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from urllib3.exceptions import MaxRetryError, NewConnectionError

from backorders.models import Backorder, Notification, Order, Suppression
from backorders.services import notifications
from backorders.services.audit import Actor
from backorders.services.lifecycle import Tracking, backorder_cancel, order_cancel, order_fulfill
from backorders.services.notifications.outbox import notification_send, notifications_sweep
from backorders.services.stock import stock_set_available
from backorders.tasks import notification_send_task

PLATFORM = Actor.platform("test")


@pytest.fixture
def planned(variant, place):
    """An order whose confirmation is planned but not sent (its on-commit callbacks never ran)."""
    order = place({variant: 1}, accepted=True)
    return Notification.objects.get(order=order)


def test_the_send_task_run_twice_sends_once(planned):
    notification_send_task.apply(args=[planned.pk])
    notification_send_task.apply(args=[planned.pk])
    assert len(mail.outbox) == 1
    planned.refresh_from_db()
    assert (planned.status, planned.attempts) == ("sent", 1)
    assert notification_send(notification_id=planned.pk) == "skipped"


def test_the_same_order_recorded_twice_plans_one_confirmation(shop, variant, commit):
    from backorders.services.checkout import LineInput, order_record
    from tests.factories import at

    kwargs = {
        "shop": shop,
        "platform_id": 4242,
        "placed_at": at(1),
        "email": "twice@example.com",
        "lines": [LineInput(platform_id=1, variant_id=variant.pk, quantity=2)],
        "actor": Actor.platform("orders/create"),
        "accepted": True,
        "updated_at": at(1),
    }
    with commit():
        order_record(**kwargs)
    with commit():
        order_record(**kwargs)  # the platform delivered the same event again
    assert Notification.objects.filter(kind="confirmation").count() == 1
    assert len(mail.outbox) == 1


def test_a_duplicated_cancellation_or_fulfilment_plans_one_row(variant, place, commit):
    with commit():
        shipped_order = place({variant: 1}, accepted=True)
        cancelled_order = place({variant: 1}, accepted=True)
    with commit():
        stock_set_available(variant=variant, available=-1, actor=PLATFORM)
    for _ in range(2):
        with commit():
            order_fulfill(order=shipped_order, actor=PLATFORM, tracking=Tracking("DHL", "123"))
            order_cancel(order=Order.objects.get(pk=cancelled_order.pk), actor=PLATFORM)
    assert Notification.objects.filter(kind="shipped").count() == 1
    assert Notification.objects.filter(kind="cancelled").count() == 1
    assert [m.subject.rsplit(" ", 2)[-2:] for m in mail.outbox].count(["has", "shipped"]) == 1


def test_the_same_change_reported_twice_to_the_hook_is_one_row(variant, place, commit):
    with commit():
        order = place({variant: 1}, accepted=True)
    backorder = order.backorders.get()
    with commit():
        backorder_cancel(backorder=backorder, actor=PLATFORM)
    backorder.refresh_from_db()
    with commit():  # a caller reporting the same change again (same audit event)
        notifications.backorders_notify_status(
            backorders=[backorder], old_status=Backorder.Status.WAITING, actor=PLATFORM
        )
    assert Notification.objects.filter(kind="cancelled").count() == 1
    assert len(mail.outbox) == 2  # confirmation, cancelled


def test_a_503_is_retried_and_the_email_goes_out_exactly_once(flaky, planned, commit):
    flaky.errors = [AnymailRequestsAPIError("Service Unavailable", status_code=503)]
    notification_send_task.apply(args=[planned.pk])  # eager: the retry runs at once
    assert len(mail.outbox) == 1
    planned.refresh_from_db()
    assert (planned.status, planned.attempts) == ("sent", 2)


def test_a_429_and_a_refused_connection_are_retried_with_the_real_anymail_backend(postmark, planned):
    refused = requests.exceptions.ConnectionError(
        MaxRetryError(
            None, "/email", NewConnectionError(None, "Failed to establish a new connection: refused")
        )
    )
    postmark.responses[:] = [429, refused, 200]
    notification_send_task.apply(args=[planned.pk])
    planned.refresh_from_db()
    assert (planned.status, planned.attempts) == ("sent", 3)
    assert len(postmark.calls) == 3  # two that provably never reached the provider, one accepted
    assert planned.message_id  # Postmark's MessageID


def test_a_read_timeout_after_the_request_left_is_unknown_and_never_resent(postmark, planned):
    postmark.responses[:] = [requests.exceptions.ReadTimeout("Read timed out. (read timeout=30)")]
    notification_send_task.apply(args=[planned.pk])
    planned.refresh_from_db()
    assert planned.status == "unknown"
    assert "ReadTimeout" in planned.last_error
    # Neither a redelivered task nor the sweeper sends it again.
    notification_send_task.apply(args=[planned.pk])
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        notifications_sweep()
    assert len(postmark.calls) == 1


def test_a_connection_dropped_mid_request_is_unknown(flaky, planned):
    flaky.errors = [ConnectionResetError("Connection reset by peer")]
    notification_send_task.apply(args=[planned.pk])
    planned.refresh_from_db()
    assert planned.status == "unknown"
    assert mail.outbox == []


def test_a_refused_recipient_fails_suppresses_the_address_and_the_next_email_is_suppressed(
    postmark, variant, place, commit
):
    postmark.responses[:] = [422]  # Postmark: "inactive recipient"
    with commit():
        order = place({variant: 1}, accepted=True)
    confirmation = Notification.objects.get(kind="confirmation")
    assert confirmation.status == "failed"
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason, suppression.notification) == (
        order.email,
        "refused",
        confirmation,
    )
    with commit():
        backorder_cancel(backorder=order.backorders.get(), actor=Actor.admin("owner"))
    assert Notification.objects.get(kind="cancelled").status == "suppressed"
    assert [call["To"] for call in postmark.calls] == [order.email, order.shop.owner_email]


def test_a_refused_recipient_from_the_fake_provider_is_not_retried(flaky, planned):
    flaky.errors = [AnymailRecipientsRefused()]
    notification_send_task.apply(args=[planned.pk])
    planned.refresh_from_db()
    assert (planned.status, planned.attempts) == ("failed", 1)
    assert Suppression.objects.filter(email=planned.recipient, reason="refused").exists()


def test_an_api_error_that_retrying_cannot_fix_fails_without_suppressing(flaky, planned):
    flaky.errors = [AnymailRequestsAPIError("Bad Request", status_code=400)]
    notification_send_task.apply(args=[planned.pk])
    planned.refresh_from_db()
    assert (planned.status, planned.attempts) == ("failed", 1)
    assert not Suppression.objects.exists()


def test_an_smtp_recipient_refusal_and_a_temporary_smtp_refusal(flaky, planned):
    flaky.errors = [smtplib.SMTPDataError(451, b"4.3.0 Try again later")]
    notification_send_task.apply(args=[planned.pk])
    planned.refresh_from_db()
    assert (planned.status, planned.attempts) == ("sent", 2)


@override_settings(BACKORDERS={"EMAIL_MAX_ATTEMPTS": 3})
def test_an_email_that_never_reaches_the_provider_fails_after_the_most_attempts(flaky, planned):
    flaky.errors = [AnymailRequestsAPIError("Bad Gateway", status_code=502)] * 10
    notification_send_task.apply(args=[planned.pk])
    planned.refresh_from_db()
    assert (planned.status, planned.attempts) == ("failed", 3)
    assert "Gave up after 3 attempts" in planned.last_error
    assert mail.outbox == []


def test_with_default_settings_an_email_answered_503_every_time_fails_after_exactly_8_attempts(
    flaky, planned, caplog
):
    """The row's EMAIL_MAX_ATTEMPTS (8) is the one retry budget: the task keeps retrying while the
    row goes back to pending, and ends normally when the row is marked failed."""
    from backorders.conf import DEFAULTS

    assert DEFAULTS["EMAIL_MAX_ATTEMPTS"] == 8
    flaky.errors = [AnymailRequestsAPIError("Service Unavailable", status_code=503)] * 20
    with caplog.at_level("INFO"):
        result = notification_send_task.apply(args=[planned.pk])  # eager: every retry runs at once
    planned.refresh_from_db()
    assert (planned.status, planned.attempts) == ("failed", 8)
    assert "Gave up after 8 attempts" in planned.last_error
    assert len(flaky.errors) == 20 - 8  # the provider was called exactly 8 times
    assert result.successful() and result.get() == "failed"
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
    assert mail.outbox == []


def test_a_row_stuck_in_sending_becomes_unknown_after_the_timeout_and_is_not_resent(planned):
    Notification.objects.filter(pk=planned.pk).update(status="sending", claimed_at=timezone.now(), attempts=1)
    assert notifications_sweep()["unknown"] == 0  # still within the timeout: a worker may be on it
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert notifications_sweep()["unknown"] == 1
    planned.refresh_from_db()
    assert planned.status == "unknown"
    assert "may or may not have been sent" in planned.last_error
    assert notification_send(notification_id=planned.pk) == "skipped"
    assert mail.outbox == []


def test_a_pending_row_is_enqueued_by_the_sweeper_only_after_waiting(
    planned, django_capture_on_commit_callbacks
):
    assert notifications_sweep()["pending"] == 0  # just planned: its own task is on the way
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        result = notifications_sweep()  # eager: the task runs inside
        assert result == {"unknown": 0, "enqueued": 1, "pending": 1}
        assert notifications_sweep()["pending"] == 0  # sent
    assert len(mail.outbox) == 1


def test_a_broker_outage_at_commit_loses_nothing_and_the_sweeper_sends_it_later(variant, place, commit):
    from config.celery import app
    from tests.conftest import celery_broker

    with celery_broker(app, "redis://127.0.0.1:1/0"), commit():
        order = place({variant: 1}, accepted=True)  # the enqueue fails after commit; no error here
    row = Notification.objects.get()
    assert (row.status, order.backorders.get().status) == ("pending", "waiting")
    assert mail.outbox == []
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        notifications_sweep()
    row.refresh_from_db()
    assert row.status == "sent"
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_row_at_once_send_one_message(variant, place):
    order = place({variant: 1}, accepted=True)  # committed; its callback ran (eager): sent
    row = Notification.objects.get(order=order)
    Notification.objects.filter(pk=row.pk).update(status="pending", sent_at=None)
    mail.outbox.clear()
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(notification_send(notification_id=row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["sent", "skipped"]
    assert len(mail.outbox) == 1


def test_a_batch_sends_each_row_once_and_leaves_a_refused_one_to_the_sweeper(
    flaky, make_backordered, place, commit
):
    from backorders.tasks import notifications_send_task

    orders = [place({make_backordered(f"Item {i}"): 1}, accepted=True) for i in range(3)]
    rows = list(Notification.objects.filter(order__in=orders).order_by("pk"))
    notification_send_task.apply(args=[rows[0].pk])  # already sent: the batch skips it
    flaky.errors = [AnymailRequestsAPIError("Service Unavailable", status_code=503)]
    result = notifications_send_task.apply(args=[[row.pk for row in rows]]).get()
    assert result == {"skipped": 1, "sent": 1, "retry": 1}
    # The 503 one is back to pending: the row decides, the sweeper sends it once it has waited.
    assert sorted(Notification.objects.values_list("status", "attempts")) == [
        ("pending", 1),
        ("sent", 1),
        ("sent", 1),
    ]
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False), commit():
        assert notifications_sweep()["enqueued"] == 1
    assert sorted(Notification.objects.values_list("status", "attempts")) == [
        ("sent", 1),
        ("sent", 1),
        ("sent", 2),
    ]
    assert len(mail.outbox) == 3


def test_a_transaction_with_many_emails_enqueues_them_in_batches(settings, variant, place, commit):
    from unittest import mock

    with commit():
        orders = [place({variant: 1}, accepted=True) for _ in range(5)]
    mail.outbox.clear()
    settings.BACKORDERS = {"EMAIL_SEND_BATCH": 2}
    with (
        mock.patch("backorders.tasks.notifications_send_task.delay") as batch,
        mock.patch("backorders.tasks.notification_send_task.delay") as single,
        commit(),
    ):
        stock_set_available(variant=variant, available=0, actor=PLATFORM)  # 5 units: 5 orders ready
    assert [len(call.args[0]) for call in batch.call_args_list] == [2, 2]
    assert single.call_count == 1
    assert Notification.objects.filter(kind="ready", order__in=orders).count() == 5


def test_a_change_rolled_back_in_a_savepoint_leaves_no_email_and_no_merge_into_its_row(
    make_backordered, place, commit
):
    """Two lines of one order allocated in one transaction make one "ready" email; when the first
    allocation is rolled back (a savepoint), the second gets a row of its own, about itself."""
    from django.db import transaction

    mug, plate = make_backordered("Mug"), make_backordered("Plate")
    with commit():
        order = place({mug: 1, plate: 1}, accepted=True)
    mail.outbox.clear()
    with commit():
        try:
            with transaction.atomic():
                stock_set_available(variant=mug, available=0, actor=Actor.system())
                assert Notification.objects.filter(kind="ready").count() == 1
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        stock_set_available(variant=plate, available=0, actor=Actor.system())
    [row] = Notification.objects.filter(kind="ready")
    assert [item["title"] for item in row.context["items"]] == ["Plate"]
    [message] = mail.outbox
    assert order.number in message.subject and "Plate" in message.body and "Mug" not in message.body
