"""The shop's life cycle on the platform under replay and late delivery: reconnecting reactivates,
an uninstall or shop redact from before the latest connection changes nothing (and says so in the
admin), a genuine shop redact still erases, and an erased shop's privacy webhooks end with 200."""

import io
import threading
import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import formats, timezone

from backorders.models import (
    Backorder,
    Event,
    InventoryLevel,
    Location,
    Notification,
    Order,
    OrderLine,
    Product,
    Shop,
    Variant,
    WebhookDelivery,
)
from backorders.services.privacy import ShopRedactRefused, shop_redact
from backorders.services.shops import StaleShopEvent, shop_connect, shop_deactivate, shop_upsert
from tests.conftest import OLD_SECRET
from tests.factories import ProductFactory, ShopFactory

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status

# The timeline of every scenario (the factory's shop was connected on 2026-10-01).
UNINSTALLED = "2026-11-02T17:00:00.123456789Z"  # the fixtures' trigger time: the uninstall
RECONNECTED = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # the owner reinstalls, within 48 h
REDACT_DUE = "2026-11-04T17:00:00Z"  # the platform's shop redact, 48 h after the uninstall
LATER = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DATA = (Product, Variant, Location, InventoryLevel, Order, OrderLine, Backorder, Event, Notification)


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ordered(deliver):
    """A catalog and an order with a waiting backorder (and its confirmation email)."""
    assert deliver("products/create", "products_create").status_code == 200
    assert deliver("orders/create", "orders_create").status_code == 200
    assert Backorder.objects.exists() and Notification.objects.exists()


def at_time(value: str) -> dict[str, str]:
    return {"X-Shopify-Triggered-At": value}


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in DATA}


def reconnect(shop: Shop, moment: datetime = RECONNECTED) -> str:
    out = io.StringIO()
    with time_machine.travel(moment, tick=False):
        call_command("backorders_add_shop", shop.domain, name=shop.name, email=shop.owner_email, stdout=out)
    return out.getvalue()


def last(topic: str) -> WebhookDelivery:
    return WebhookDelivery.objects.filter(topic=topic).order_by("-pk").first()


# Reconnecting


def test_reconnecting_an_uninstalled_shop_reactivates_it_and_its_webhooks_get_200_again(
    deliver, ordered, shop
):
    deliver("app/uninstalled", "app_uninstalled", headers=at_time(UNINSTALLED))
    assert deliver("orders/updated", "orders_updated").status_code == 401

    output = reconnect(shop)

    assert output.startswith(f"Reactivated shop {shop.domain}")
    assert "webhooks are accepted again" in output
    shop.refresh_from_db()
    assert (shop.is_active, shop.connected_at, shop.uninstalled_at) == (True, RECONNECTED, None)
    assert deliver("orders/updated", "orders_updated").status_code == 200
    assert last("orders/updated").status == Status.PROCESSED


def test_connecting_a_new_shop_records_when(db):
    with time_machine.travel(RECONNECTED, tick=False):
        shop, created, reactivated = shop_connect(
            domain="new.myshopify.com", name="New", owner_email="o@new.example"
        )
    assert (created, reactivated, shop.is_active, shop.connected_at) == (True, False, True, RECONNECTED)


def test_reconnecting_an_active_shop_moves_its_connection_time_but_editing_settings_does_not(shop):
    connected = shop.connected_at

    shop_upsert(domain=shop.domain, name="Renamed", owner_email=shop.owner_email, currency="EUR")
    shop.refresh_from_db()
    assert (shop.name, shop.connected_at) == ("Renamed", connected)

    output = reconnect(shop)
    shop.refresh_from_db()
    assert output.startswith(f"Updated shop {shop.domain}")
    assert shop.connected_at == RECONNECTED


def test_ticking_active_again_by_hand_counts_as_a_reconnection(shop):
    shop_deactivate(shop=shop, uninstalled_at=datetime(2026, 11, 2, 17, 0, tzinfo=UTC))

    with time_machine.travel(RECONNECTED, tick=False):
        shop_upsert(domain=shop.domain, name=shop.name, owner_email=shop.owner_email, is_active=True)

    shop.refresh_from_db()
    assert (shop.is_active, shop.connected_at, shop.uninstalled_at) == (True, RECONNECTED, None)


def test_shop_connect_refuses_to_be_told_is_active(db):
    with pytest.raises(TypeError, match="always activates"):
        shop_connect(domain="x.myshopify.com", name="X", owner_email="o@x.example", is_active=False)
    assert not Shop.objects.exists()


# Replayed and late notices after a reconnection


def test_the_old_uninstall_and_shop_redact_delivered_again_after_reconnecting_change_nothing(
    deliver, ordered, shop
):
    deliver("app/uninstalled", "app_uninstalled", headers=at_time(UNINSTALLED))
    reconnect(shop)
    before = counts()

    # The same notices again under new webhook ids, with their original trigger times: a replay
    # of the uninstall, and the shop redact that the platform sends 48 h after it.
    assert deliver("app/uninstalled", "app_uninstalled", headers=at_time(UNINSTALLED)).status_code == 200
    assert deliver("shop/redact", "shop_redact", headers=at_time(UNINSTALLED)).status_code == 200
    assert deliver("shop/redact", "shop_redact", headers=at_time(REDACT_DUE)).status_code == 200

    shop.refresh_from_db()
    assert (shop.is_active, shop.connected_at, shop.uninstalled_at) == (True, RECONNECTED, None)
    assert counts() == before
    assert all(value > 0 for value in before.values()), before
    uninstall = last("app/uninstalled")
    assert uninstall.status == Status.REJECTED
    assert uninstall.last_error.startswith("Not applied, a late or replayed uninstall")
    assert "2026-11-02 17:00:00 UTC" in uninstall.last_error
    assert "2026-11-03 09:00:00 UTC" in uninstall.last_error
    redacts = WebhookDelivery.objects.filter(topic="shop/redact")
    assert [d.status for d in redacts] == [Status.REJECTED, Status.REJECTED]
    assert all(d.last_error.startswith("Nothing deleted: the shop is connected") for d in redacts)
    assert deliver("orders/updated", "orders_updated").status_code == 200


def test_an_uninstall_delivered_late_after_a_reconnection_is_refused(deliver, ordered, shop):
    """The uninstall is still in the platform's retries when the owner has already reconnected."""
    reconnect(shop)

    deliver("app/uninstalled", "app_uninstalled", headers=at_time(UNINSTALLED))

    shop.refresh_from_db()
    assert shop.is_active is True
    assert last("app/uninstalled").status == Status.REJECTED


def test_an_uninstall_after_the_reconnection_still_deactivates(deliver, ordered, shop):
    deliver("app/uninstalled", "app_uninstalled", headers=at_time(UNINSTALLED))
    reconnect(shop)

    deliver("app/uninstalled", "app_uninstalled", headers=at_time("2026-11-10T08:00:00Z"))

    shop.refresh_from_db()
    assert (shop.is_active, shop.uninstalled_at) == (False, datetime(2026, 11, 10, 8, 0, tzinfo=UTC))
    assert last("app/uninstalled").status == Status.PROCESSED
    assert deliver("orders/updated", "orders_updated").status_code == 401


def test_the_refusals_are_listed_with_their_reason_in_the_webhook_deliveries_admin(
    deliver, ordered, shop, admin_client
):
    deliver("app/uninstalled", "app_uninstalled", headers=at_time(UNINSTALLED))
    reconnect(shop)
    deliver("app/uninstalled", "app_uninstalled", headers=at_time(UNINSTALLED))
    deliver("shop/redact", "shop_redact", headers=at_time(REDACT_DUE))
    changelist = reverse("admin:backorders_webhookdelivery_changelist")

    response = admin_client.get(changelist, {"status": "rejected"})

    assert response.status_code == 200
    assert {d.topic for d in response.context["cl"].result_list} == {"app/uninstalled", "shop/redact"}
    page = response.content.decode()
    assert "Not applied, a late or replayed uninstall" in page
    assert "Nothing deleted: the shop is connected" in page
    refused = last("shop/redact")
    detail = admin_client.get(reverse("admin:backorders_webhookdelivery_change", args=[refused.pk]))
    assert refused.last_error in detail.content.decode()
    shop_page = admin_client.get(reverse("admin:backorders_shop_changelist")).content.decode()
    assert formats.localize(timezone.template_localtime(RECONNECTED)) in shop_page  # connected at


# A genuine shop redact


def test_shop_redact_after_a_genuine_uninstall_still_erases_everything(deliver, ordered, shop):
    deliver("app/uninstalled", "app_uninstalled", headers=at_time(UNINSTALLED))

    assert deliver("shop/redact", "shop_redact", headers=at_time(REDACT_DUE)).status_code == 200

    assert not Shop.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert counts() == dict.fromkeys(counts(), 0)


def test_a_shop_redact_from_an_earlier_installation_is_refused_and_the_new_one_erases(deliver, ordered, shop):
    deliver("app/uninstalled", "app_uninstalled", headers=at_time(UNINSTALLED))
    reconnect(shop)
    deliver("app/uninstalled", "app_uninstalled", headers=at_time("2026-11-10T08:00:00Z"))

    deliver("shop/redact", "shop_redact", headers=at_time(REDACT_DUE))  # the first uninstall's
    assert Shop.objects.filter(pk=shop.pk, is_active=False).exists()
    assert last("shop/redact").last_error.startswith("Nothing deleted, a late or replayed shop redact")

    deliver("shop/redact", "shop_redact", headers=at_time("2026-11-12T08:00:00Z"))
    assert not Shop.objects.exists()


def test_shop_redact_of_a_shop_made_inactive_by_hand_waits_for_the_uninstall(deliver, ordered, shop):
    shop_upsert(domain=shop.domain, name=shop.name, owner_email=shop.owner_email, is_active=False)

    deliver("shop/redact", "shop_redact", headers=at_time(REDACT_DUE))

    assert Shop.objects.filter(pk=shop.pk).exists()
    assert "made inactive by hand" in last("shop/redact").last_error


def test_a_delivery_without_a_trigger_time_counts_from_when_it_was_received(deliver, ordered, shop):
    """Documented fallback: no ``X-Shopify-Triggered-At`` (the platform always sends one) = the
    moment we received it, the latest the event can have happened."""
    reconnect(shop)

    with time_machine.travel(LATER, tick=False):
        deliver("app/uninstalled", "app_uninstalled", headers=at_time(None))

    shop.refresh_from_db()
    assert (shop.is_active, shop.uninstalled_at) == (False, LATER)


def test_the_services_refuse_without_writing(shop):
    before = datetime(2026, 9, 1, tzinfo=UTC)
    with pytest.raises(StaleShopEvent):
        shop_deactivate(shop=shop, uninstalled_at=before)
    with pytest.raises(ShopRedactRefused, match="the shop is connected"):
        shop_redact(shop=shop, requested_at=LATER)
    shop.refresh_from_db()
    assert (shop.is_active, shop.uninstalled_at) == (True, None)


# After the erasure


def test_privacy_webhooks_for_an_erased_shop_are_answered_200_and_store_nothing(deliver, ordered, shop):
    deliver("app/uninstalled", "app_uninstalled", headers=at_time(UNINSTALLED))
    redact = {**at_time(REDACT_DUE), "X-Shopify-Webhook-Id": "b1c2d3e4-redact"}
    deliver("shop/redact", "shop_redact", headers=redact)
    assert not Shop.objects.exists()

    assert deliver("shop/redact", "shop_redact", headers=redact).status_code == 200  # a retry
    assert deliver("shop/redact", "shop_redact", headers=at_time(REDACT_DUE)).status_code == 200
    assert deliver("customers/redact", "customers_redact").status_code == 200
    assert deliver("customers/data_request", "customers_data_request").status_code == 200
    assert deliver("shop/redact", "shop_redact", secret=OLD_SECRET).status_code == 200  # rotation

    assert not Shop.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_an_erased_shops_other_webhooks_and_badly_signed_privacy_ones_stay_401(deliver):
    stranger = "erased.myshopify.com"
    assert deliver("orders/create", "orders_create", shop_domain=stranger).status_code == 401
    assert deliver("app/uninstalled", "app_uninstalled", shop_domain=stranger).status_code == 401
    assert (
        deliver("shop/redact", "shop_redact", shop_domain=stranger, secret="not-the-app").status_code == 401
    )
    assert (
        deliver(
            "customers/redact",
            "customers_redact",
            shop_domain=stranger,
            headers={"X-Shopify-Hmac-Sha256": "forged"},
        ).status_code
        == 401
    )
    assert not WebhookDelivery.objects.exists()
    assert not Shop.objects.filter(domain=stranger).exists()


# A reconnection racing an erasure (PostgreSQL: the shop's row lock orders them)


def _racing(first, second) -> tuple[object, object]:
    """Run ``first`` in a transaction held open until ``second`` (in another thread) is waiting
    for a lock, then commit it; return what each returned (or raised)."""
    holding, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}
    pid: list[int] = []

    def run_first() -> None:
        try:
            with transaction.atomic():
                results["first"] = first()
                holding.set()
                assert release.wait(timeout=30), "the second transaction never waited for the lock"
        except BaseException as exc:
            results["first"] = exc
        finally:
            holding.set()
            connection.close()

    def run_second() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid.append(cursor.fetchone()[0])
            results["second"] = second()
        except BaseException as exc:
            results["second"] = exc
        finally:
            connection.close()

    one = threading.Thread(target=run_first)
    one.start()
    assert holding.wait(timeout=30)
    two = threading.Thread(target=run_second)
    two.start()
    for _ in range(3000):  # until the second one waits for the first one's lock (or has finished)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid[0]] if pid else [0]
            )
            row = cursor.fetchone()
        if (row and row[0] == "Lock") or not two.is_alive():
            break
        time.sleep(0.01)
    release.set()
    one.join(timeout=60)
    two.join(timeout=60)
    return results["first"], results["second"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_shop_redact_waiting_behind_a_reconnection_finds_the_shop_active_and_deletes_nothing():
    shop = ShopFactory(domain="racing.myshopify.com")
    ProductFactory(shop=shop)
    shop_deactivate(shop=shop, uninstalled_at=datetime(2026, 11, 2, 17, 0, tzinfo=UTC))
    redact_due = datetime(2026, 11, 4, 17, 0, tzinfo=UTC)

    connected, redacted = _racing(
        lambda: shop_connect(domain=shop.domain, name=shop.name, owner_email=shop.owner_email),
        lambda: shop_redact(shop=shop, requested_at=redact_due),
    )

    assert not isinstance(connected, BaseException), connected
    assert isinstance(redacted, ShopRedactRefused), redacted
    assert Shop.objects.filter(pk=shop.pk, is_active=True).exists()
    assert Product.objects.filter(shop=shop).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reconnection_waiting_behind_a_shop_redact_starts_a_new_shop_from_nothing():
    shop = ShopFactory(domain="racing.myshopify.com")
    ProductFactory(shop=shop)
    shop_deactivate(shop=shop, uninstalled_at=datetime(2026, 11, 2, 17, 0, tzinfo=UTC))
    redact_due = datetime(2026, 11, 4, 17, 0, tzinfo=UTC)

    redacted, connected = _racing(
        lambda: shop_redact(shop=shop, requested_at=redact_due),
        lambda: shop_connect(domain=shop.domain, name=shop.name, owner_email=shop.owner_email),
    )

    assert redacted > 0
    assert connected.created is True, connected
    new = Shop.objects.get(domain=shop.domain)
    assert (new.pk != shop.pk, new.is_active) == (True, True)
    assert not Product.objects.exists()
