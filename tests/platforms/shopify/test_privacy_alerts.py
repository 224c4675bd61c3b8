"""The privacy topics and restock alerts: a redact erases the sign-ups, a data request exports
them, a shop redact deletes them with the shop."""

import pytest

from backorders.models import AlertSignupCounter, CustomerDataRequest, Notification, RestockAlert, Shop
from backorders.services.alerts import alert_confirm, alert_signup
from backorders.services.audit import Actor
from backorders.services.stock import stock_set_available
from tests.platforms.shopify.test_privacy import EMAIL, OTHER, rows_mentioning
from tests.platforms.shopify.test_privacy import customer_history as customer_history  # the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerts(make_variant, commit):
    """Jane signed up for two items (one alerted after a restock), Max for one."""
    sold_out = make_variant(stock=0, inventory_policy="deny", product__title="Green Teapot")
    other = make_variant(stock=0, inventory_policy="deny", product__title="Red Teapot")
    with commit():
        jane = alert_signup(variant=sold_out, email=EMAIL.upper())
        alert_confirm(alert=jane)
        alert_signup(variant=other, email=EMAIL)
        alert_signup(variant=other, email=OTHER)
    with commit():
        stock_set_available(variant=sold_out, available=1, actor=Actor.system("test"))
    assert Notification.objects.filter(kind=Notification.Kind.RESTOCK_ALERT, recipient=EMAIL).exists()
    return sold_out, other


def test_customers_redact_erases_the_sign_ups_and_every_trace_of_them(deliver, alerts, customer_history):
    assert RestockAlert.objects.filter(email=EMAIL).count() == 2

    deliver("customers/redact", "customers_redact")

    assert rows_mentioning(EMAIL) == []
    assert not RestockAlert.objects.filter(email__iexact=EMAIL).exists()
    assert RestockAlert.objects.filter(email=OTHER).count() == 1  # another customer's stays
    assert AlertSignupCounter.objects.count() == 1  # only Max's sign-up count is left
    assert Notification.objects.filter(kind=Notification.Kind.ALERT_CONFIRM, recipient="").count() == 2


def test_customers_data_request_exports_the_sign_ups_with_their_emails(deliver, alerts):
    deliver("customers/data_request", "customers_data_request")
    export = CustomerDataRequest.objects.get().export
    exported = sorted(export["restock_alerts"], key=lambda alert: alert["item"])
    assert [(a["item"], a["status"]) for a in exported] == [
        ("Green Teapot", "alerted"),
        ("Red Teapot", "pending"),
    ]
    assert {mail["kind"] for mail in exported[0]["emails"]} == {"alert_confirm", "restock_alert"}
    assert OTHER not in str(export)


def test_shop_redact_deletes_the_sign_ups(deliver, shop, alerts):
    deliver("app/uninstalled", "app_uninstalled", headers={"X-Shopify-Triggered-At": "2026-11-02T17:00:00Z"})
    deliver("shop/redact", "shop_redact", headers={"X-Shopify-Triggered-At": "2026-11-04T17:00:00Z"})
    assert not Shop.objects.filter(pk=shop.pk).exists()
    assert not RestockAlert.objects.exists() and not AlertSignupCounter.objects.exists()
