"""Restock alerts: double opt-in sign-up, limits, and waves that email each alert exactly once."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from backorders.models import Notification, RestockAlert, RestockAlertWave, Suppression
from backorders.services.alerts import (
    AlertRateLimited,
    AlertRefused,
    AlertStateError,
    alert_confirm,
    alert_signup,
    alert_unsubscribe,
    alert_waves_run,
    alert_waves_sweep,
    alerts_expire,
)
from backorders.services.audit import Actor
from backorders.services.catalog import variant_set_policy
from backorders.services.notifications.outbox import notifications_send
from backorders.services.stock import stock_set_available
from tests.conftest import fresh

pytestmark = pytest.mark.django_db

Status = RestockAlert.Status
SYSTEM = Actor.system("test")


@pytest.fixture
def sold_out(make_variant):
    """Out of stock and not backorderable: the state a sign-up needs."""
    return make_variant(
        stock=0, inventory_policy="deny", product__title="Blue Mug", product__handle="blue-mug"
    )


def confirmed_alerts(variant, count, *, start=None):
    """``count`` confirmed alerts for ``variant``, confirmed one second apart (first = earliest)."""
    start = start or timezone.now() - timedelta(days=1)
    return RestockAlert.objects.bulk_create(
        RestockAlert(
            shop=variant.shop,
            variant=variant,
            email=f"fan{i}@example.com",
            status=Status.CONFIRMED,
            confirmed_at=start + timedelta(seconds=i),
            expires_at=start + timedelta(days=7),
        )
        for i in range(count)
    )


def alert_emails():
    return Notification.objects.filter(kind=Notification.Kind.RESTOCK_ALERT)


# --- Sign-up ---------------------------------------------------------------------------------


def test_signup_creates_a_pending_alert_and_emails_a_confirmation_link(sold_out, commit):
    with commit():
        alert = alert_signup(variant=sold_out, email="  Jane.Doe@Example.COM ", language="de")

    assert (alert.status, alert.email, alert.language) == (Status.PENDING, "jane.doe@example.com", "de")
    assert alert.expires_at - alert.created_at == timedelta(days=7)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jane.doe@example.com"]
    assert "Blue Mug" in message.subject and "Restock-Benachrichtigung" in message.subject
    assert "/backorders/alerts/confirm/" in message.body
    row = Notification.objects.get(kind=Notification.Kind.ALERT_CONFIRM)
    assert (row.alert_id, row.order_id, row.status) == (alert.pk, None, Notification.Status.SENT)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"stock": 10}, "can be ordered now"),  # in stock
        ({"stock": 0, "inventory_policy": "continue"}, "can be ordered now"),  # backorderable
        ({"stock": 0, "inventory_policy": "deny", "discontinued": True}, "discontinued"),
        ({"stock": 0, "inventory_policy": "deny", "product__status": "draft"}, "not on sale"),
    ],
)
def test_signup_is_refused_for_an_item_that_is_not_out_of_stock(make_variant, commit, fields, words):
    variant = make_variant(**fields)
    with commit(), pytest.raises(AlertRefused) as refused:
        alert_signup(variant=variant, email="jane@example.com")
    assert words in refused.value.messages[0]
    assert not RestockAlert.objects.exists() and not Notification.objects.exists()


def test_signup_applies_to_a_variant_over_its_backorder_limit(make_variant, place, commit):
    variant = make_variant(stock=0, inventory_policy="continue", backorder_limit=1)
    place({variant: 1})
    with commit():
        alert = alert_signup(variant=variant, email="jane@example.com")
    assert alert.status == Status.PENDING


@pytest.mark.parametrize(
    "email", ["", "not-an-address", "a@b", "x" * 250 + "@example.com", "jane@exa mple.com"]
)
def test_signup_refuses_an_invalid_address_and_writes_nothing(sold_out, email):
    with pytest.raises(AlertRefused) as refused:
        alert_signup(variant=sold_out, email=email)
    assert "email address" in refused.value.messages[0]
    assert not RestockAlert.objects.exists()


def test_signup_refuses_an_address_the_shop_must_not_email(sold_out, shop):
    Suppression.objects.create(shop=shop, email="jane@example.com", reason=Suppression.Reason.BOUNCED)
    with pytest.raises(AlertRefused) as refused:
        alert_signup(variant=sold_out, email="JANE@example.com")
    assert "another address" in refused.value.messages[0]
    assert not RestockAlert.objects.exists()


def test_signing_up_again_returns_the_active_alert_and_resends_at_most_once_per_interval(sold_out, commit):
    with commit():
        first = alert_signup(variant=sold_out, email="jane@example.com")
    with commit():
        again = alert_signup(variant=sold_out, email="jane@example.com")
    assert again.pk == first.pk
    assert len(mail.outbox) == 1  # within ALERT_CONFIRM_RESEND_SECONDS: not sent again

    with time_machine.travel(timezone.now() + timedelta(minutes=11)), commit():
        later = alert_signup(variant=sold_out, email="jane@example.com")
    assert later.pk == first.pk
    assert len(mail.outbox) == 2
    assert RestockAlert.objects.count() == 1


def test_a_confirmed_alert_is_returned_without_a_new_confirmation(sold_out, commit):
    alert = alert_signup(variant=sold_out, email="jane@example.com")
    alert_confirm(alert=alert)
    before = Notification.objects.count()
    assert alert_signup(variant=sold_out, email="jane@example.com").status == Status.CONFIRMED
    assert Notification.objects.count() == before


def test_one_address_signing_up_too_often_is_rate_limited_in_the_database(make_variant, settings):
    settings.BACKORDERS = {**settings.BACKORDERS, "ALERT_SIGNUPS_PER_EMAIL_PER_HOUR": 3}
    variants = [make_variant(stock=0, inventory_policy="deny") for _ in range(4)]
    for variant in variants[:3]:
        alert_signup(variant=variant, email="jane@example.com")
    with pytest.raises(AlertRateLimited) as limited:
        alert_signup(variant=variants[3], email="Jane@Example.com")
    assert 0 < limited.value.retry_after <= 3600
    assert "try again" in str(limited.value)
    assert RestockAlert.objects.count() == 3
    alert_signup(variant=variants[3], email="other@example.com")  # another address is not limited
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert alert_signup(variant=variants[3], email="jane@example.com").status == Status.PENDING


# --- Confirming, unsubscribing, expiring -------------------------------------------------------


def test_confirming_is_idempotent_and_an_expired_signup_cannot_be_confirmed(sold_out):
    alert = alert_signup(variant=sold_out, email="jane@example.com")
    confirmed = alert_confirm(alert=alert)
    assert confirmed.status == Status.CONFIRMED and confirmed.confirmed_at is not None
    assert alert_confirm(alert=alert).confirmed_at == confirmed.confirmed_at

    late = alert_signup(variant=sold_out, email="late@example.com")
    with time_machine.travel(timezone.now() + timedelta(days=8)), pytest.raises(AlertStateError):
        alert_confirm(alert=late)
    assert fresh_alert(late).status == Status.PENDING


def fresh_alert(alert):
    return RestockAlert.objects.get(pk=alert.pk)


def test_unconfirmed_signups_expire_after_the_setting(sold_out):
    kept = alert_signup(variant=sold_out, email="kept@example.com")
    gone = alert_signup(variant=sold_out, email="gone@example.com")
    alert_confirm(alert=kept)
    assert alerts_expire(now=timezone.now() + timedelta(days=6)) == 0
    assert alerts_expire(now=timezone.now() + timedelta(days=7, seconds=1)) == 1
    assert fresh_alert(gone).status == Status.EXPIRED
    assert fresh_alert(kept).status == Status.CONFIRMED
    # An expired sign-up no longer blocks a new one for the same address and item.
    assert alert_signup(variant=sold_out, email="gone@example.com").pk != gone.pk


def test_unsubscribing_one_or_all_alerts_of_an_address(make_variant):
    a, b, c = (make_variant(stock=0, inventory_policy="deny") for _ in range(3))
    first = alert_signup(variant=a, email="jane@example.com")
    second = alert_signup(variant=b, email="jane@example.com")
    other = alert_signup(variant=c, email="max@example.com")
    assert alert_unsubscribe(alert=first).status == Status.UNSUBSCRIBED
    assert fresh_alert(second).status == Status.PENDING
    alert_unsubscribe(alert=second, all_for_address=True)
    assert fresh_alert(second).status == Status.UNSUBSCRIBED
    assert fresh_alert(other).status == Status.PENDING


# --- Waves -----------------------------------------------------------------------------------


def test_1000_signups_and_80_units_send_exactly_80_alerts_first_come_first_served(sold_out, commit):
    alerts = confirmed_alerts(sold_out, 1000)
    with commit():
        stock_set_available(variant=sold_out, available=80, actor=SYSTEM)

    sent = alert_emails()
    assert sent.count() == 80
    assert len(mail.outbox) == 80
    expected = {alert.email for alert in alerts[:80]}  # the 80 confirmed first
    assert {message.to[0] for message in mail.outbox} == expected
    assert RestockAlert.objects.filter(status=Status.ALERTED).count() == 80
    assert set(RestockAlert.objects.filter(status=Status.ALERTED).values_list("email", flat=True)) == expected
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/backorders/alerts/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    assert "https://acme.myshopify.com/products/blue-mug" in message.body


def test_running_the_wave_again_sends_nothing_twice(sold_out, commit):
    confirmed_alerts(sold_out, 30)
    with commit():
        stock_set_available(variant=sold_out, available=10, actor=SYSTEM)
    assert alert_emails().count() == 10
    with commit():
        assert alert_waves_run(variant_id=sold_out.pk) == 0  # the task delivered twice
        assert alert_waves_sweep() == 0  # nothing due before the interval
    assert alert_emails().count() == 10 and len(mail.outbox) == 10


def test_a_second_wave_goes_out_after_the_interval_only_if_units_remain(sold_out, commit, place):
    confirmed_alerts(sold_out, 30)
    with commit():
        stock_set_available(variant=sold_out, available=10, actor=SYSTEM)
    wave = RestockAlertWave.objects.get(variant=sold_out)
    assert wave.due_at == wave.last_wave_at + timedelta(hours=1)

    with time_machine.travel(timezone.now() + timedelta(minutes=30)), commit():
        assert alert_waves_sweep() == 0
    place({fresh(sold_out): 6})  # six of the ten units sold meanwhile
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)), commit():
        assert alert_waves_sweep() == 1
    assert alert_emails().count() == 14  # 10, then the 4 units left

    place({fresh(sold_out): 4})  # sold out
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=2)), commit():
        alert_waves_sweep()
    assert alert_emails().count() == 14
    assert RestockAlertWave.objects.get(variant=sold_out).due_at is None


def test_the_ratio_setting_scales_a_wave(sold_out, commit, settings):
    settings.BACKORDERS = {**settings.BACKORDERS, "ALERT_RATIO": 1.5}
    confirmed_alerts(sold_out, 100)
    with commit():
        stock_set_available(variant=sold_out, available=7, actor=SYSTEM)
    assert alert_emails().count() == 10  # floor(7 × 1.5)


def test_a_raised_backorder_limit_sends_a_wave_for_the_new_room(make_variant, place, commit):
    variant = make_variant(stock=0, inventory_policy="continue", backorder_limit=2)
    place({variant: 2})  # the limit is reached: out of stock
    confirmed_alerts(fresh(variant), 20)
    with commit():
        variant_set_policy(variant=fresh(variant), backorder_limit=5, actor=SYSTEM)
    assert alert_emails().count() == 3


def test_unlimited_backorders_alert_everyone(make_variant, commit):
    variant = make_variant(stock=0, inventory_policy="deny")
    confirmed_alerts(variant, 25)
    with commit():
        variant_set_policy(variant=variant, backorder_mode="allow", actor=SYSTEM)
    assert alert_emails().count() == 25


def test_a_stock_rise_without_confirmed_alerts_schedules_nothing(
    sold_out, commit, django_assert_max_num_queries
):
    alert_signup(variant=sold_out, email="pending@example.com")  # not confirmed: no wave
    with commit():
        stock_set_available(variant=sold_out, available=5, actor=SYSTEM)
    assert not RestockAlertWave.objects.exists()
    assert not alert_emails().exists()


def test_an_alert_confirmed_after_the_restock_is_due_in_the_next_wave(sold_out, commit):
    pending = alert_signup(variant=sold_out, email="late@example.com")
    with commit():
        stock_set_available(variant=sold_out, available=5, actor=SYSTEM)
    with commit():
        alert_confirm(alert=pending)
    assert alert_emails().filter(recipient="late@example.com").count() == 1


def planned_wave(variant, available):
    """Restock ``variant`` and run its wave, without sending (no commit: the send tasks never
    run); returns the planned emails' ids."""
    stock_set_available(variant=variant, available=available, actor=SYSTEM)
    alert_waves_run(variant_id=variant.pk)
    return list(alert_emails().filter(status=Notification.Status.PENDING).values_list("pk", flat=True))


def test_an_alert_email_for_an_item_sold_out_again_is_held_for_the_next_wave(sold_out, commit):
    confirmed_alerts(sold_out, 3)
    planned = planned_wave(sold_out, 3)
    assert len(planned) == 3
    stock_set_available(variant=fresh(sold_out), available=0, actor=SYSTEM)  # gone before they left

    assert notifications_send(notification_ids=planned) == {"superseded": 3}
    assert mail.outbox == []
    assert RestockAlert.objects.filter(status=Status.CONFIRMED, alerted_at=None).count() == 3

    with time_machine.travel(timezone.now() + timedelta(hours=2)), commit():
        stock_set_available(variant=fresh(sold_out), available=3, actor=SYSTEM)
    assert len(mail.outbox) == 3  # the next wave sends them, each once
    assert RestockAlert.objects.filter(status=Status.ALERTED).count() == 3


def test_an_unsubscribed_alert_is_not_sent_even_if_already_planned(sold_out):
    first, second = confirmed_alerts(sold_out, 2)
    planned = planned_wave(sold_out, 2)
    alert_unsubscribe(alert=first)
    assert notifications_send(notification_ids=planned) == {"superseded": 1, "sent": 1}
    assert [message.to for message in mail.outbox] == [[second.email]]
    assert alert_emails().get(recipient=first.email).status == Notification.Status.SUPERSEDED


def test_a_suppressed_address_is_skipped_and_keeps_no_unit(sold_out, shop, commit):
    first, second, third = confirmed_alerts(sold_out, 3)
    Suppression.objects.create(shop=shop, email=first.email, reason=Suppression.Reason.COMPLAINED)
    with commit():
        stock_set_available(variant=sold_out, available=2, actor=SYSTEM)
    assert sorted(message.to[0] for message in mail.outbox) == sorted([second.email, third.email])


def test_a_wave_costs_a_constant_number_of_queries(sold_out, django_assert_max_num_queries):
    confirmed_alerts(sold_out, 500)
    stock_set_available(variant=sold_out, available=0, actor=SYSTEM)
    RestockAlertWave.objects.create(variant=sold_out, shop=sold_out.shop, due_at=timezone.now())
    Variant = type(sold_out)
    Variant.objects.filter(pk=sold_out.pk).update(available=400)
    with django_assert_max_num_queries(12):
        assert alert_waves_run(variant_id=sold_out.pk) == 400
