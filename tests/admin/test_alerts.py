"""Restock alerts in the admin: the list (filters, search), stopping alerts, the funnel page and
the previews of the two alert emails."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from backorders.models import Notification, RestockAlert
from tests.conftest import HttpsClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(admin_user):
    client = HttpsClient()
    client.force_login(admin_user)
    return client


@pytest.fixture
def alerts(make_variant):
    variant = make_variant(stock=0, inventory_policy="deny", sku="MUG-1", product__title="Mug <b>")
    now = timezone.now()
    return [
        RestockAlert.objects.create(
            shop=variant.shop,
            variant=variant,
            email=f"fan{i}@example.com",
            status=status,
            confirmed_at=now if status != "pending" else None,
            alerted_at=now if status == "alerted" else None,
            expires_at=now + timedelta(days=7),
        )
        for i, status in enumerate(["pending", "confirmed", "alerted"])
    ]


def test_the_alert_list_filters_and_searches_by_email_and_sku(owner, alerts, django_assert_max_num_queries):
    url = reverse("admin:backorders_restockalert_changelist")
    with django_assert_max_num_queries(15):
        page = owner.get(url).content.decode()
    assert all(alert.email in page for alert in alerts)
    assert "Mug &lt;b&gt;" in page and "Mug <b>" not in page
    confirmed = owner.get(url + "?status__exact=confirmed").content.decode()
    assert "fan1@example.com" in confirmed and "fan0@example.com" not in confirmed
    assert "fan2@example.com" in owner.get(url + "?q=fan2").content.decode()
    assert owner.get(url + "?q=MUG-1").content.decode().count("@example.com") >= 3


def test_the_stop_action_unsubscribes_active_alerts(owner, alerts):
    url = reverse("admin:backorders_restockalert_changelist")
    owner.post(url, {"action": "stop", "_selected_action": [alert.pk for alert in alerts]})
    statuses = dict(RestockAlert.objects.values_list("email", "status"))
    assert statuses == {
        "fan0@example.com": "unsubscribed",
        "fan1@example.com": "unsubscribed",
        "fan2@example.com": "alerted",  # already sent: left as it was
    }


def test_the_funnel_page_shows_each_variant(owner, alerts, django_assert_max_num_queries):
    url = reverse("admin:backorders_restockalert_funnel")
    with django_assert_max_num_queries(10):
        response = owner.get(url)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r["funnel"].signed_up, r["funnel"].confirmed, r["funnel"].alerted) for r in rows] == [(3, 2, 1)]
    assert "Mug &lt;b&gt;" in response.content.decode()


def test_the_funnel_is_for_superusers_only(client, alerts, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    browser = HttpsClient()
    browser.force_login(staff)
    assert browser.get(reverse("admin:backorders_restockalert_funnel")).status_code == 404


@pytest.mark.parametrize("kind", [Notification.Kind.ALERT_CONFIRM, Notification.Kind.RESTOCK_ALERT])
@pytest.mark.parametrize("language", ["en", "de"])
def test_the_alert_emails_preview(owner, shop, kind, language):
    response = owner.get(reverse("admin:backorders_notification_preview_kind", args=[kind, language]))
    assert response.status_code == 200
    text = response.context["rendered"].text
    assert "Stoneware Mug" in text
    assert "/backorders/alerts/" in text
    assert (
        "https://acme.myshopify.com/products/stoneware-mug" in text or kind == Notification.Kind.ALERT_CONFIRM
    )
