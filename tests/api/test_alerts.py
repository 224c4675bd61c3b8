"""Restock-alert sign-up through the storefront API and the App Proxy: the same service, refusals
per field, limits answered 429 with Retry-After, nothing written when refused."""

import time
from urllib.parse import urlencode

import pytest
from django.core import mail

from backorders.models import BackorderMode, RestockAlert
from backorders.platforms.shopify.app_proxy import proxy_signature
from tests.conftest import SECRET
from tests.factories import ProductFactory, ShopFactory, VariantFactory

pytestmark = pytest.mark.django_db


def alerts_url(domain: str) -> str:
    return f"/api/v1/storefront/{domain}/alerts"


@pytest.fixture
def gone(shop, make_variant):
    """Out of stock and not backorderable: notify-me applies."""
    return make_variant(stock=0, backorder_mode=BackorderMode.DENY, platform_id=458, product__handle="gone")


@pytest.fixture
def stocked(make_variant):
    return make_variant(stock=10, platform_id=457, product__handle="stocked")


def test_a_sign_up_is_accepted_pending_confirmation_in_the_customers_language(api, gone, commit):
    with commit():
        response = api.post(
            alerts_url("acme.myshopify.com"),
            {"variant_id": 458, "email": "Ana@Example.com", "language": "de"},
            "application/json",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending_confirmation"
    assert "Posteingang" in body["message"]
    (alert,) = RestockAlert.objects.all()
    assert (alert.variant_id, alert.email, alert.language, alert.status) == (
        gone.pk,
        "ana@example.com",
        "de",
        "pending",
    )
    assert [message.to for message in mail.outbox] == [["ana@example.com"]]
    assert response["Cache-Control"] == "no-store"


def test_a_variant_that_can_be_ordered_is_refused_on_variant_id(api, stocked):
    response = api.post(
        alerts_url("acme.myshopify.com"), {"variant_id": 457, "email": "a@b.example"}, "application/json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["variant_id"] and response.json()["variant_id"][0]
    assert not RestockAlert.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"variant_id": 458, "email": "not-an-address"},
        {"variant_id": 458, "email": ("x" * 250) + "@b.example"},
        {"variant_id": 458},
        {"email": "a@b.example"},
        {"variant_id": "458; drop", "email": "a@b.example"},
        {"variant_id": 458, "email": "a@b.example", "language": "<b>"},
    ],
)
def test_bad_sign_ups_get_400_per_field_and_write_nothing(api, gone, body):
    response = api.post(alerts_url("acme.myshopify.com"), body, "application/json")
    assert response.status_code == 400
    assert response.json() and all(response.json().values())
    assert not RestockAlert.objects.exists()


def test_another_shops_variant_is_404(api, gone):
    other = ShopFactory(domain="other.myshopify.com")
    VariantFactory(product=ProductFactory(shop=other), platform_id=999)
    response = api.post(
        alerts_url("acme.myshopify.com"), {"variant_id": 999, "email": "a@b.example"}, "application/json"
    )
    assert response.status_code == 404 and response.json()["detail"]
    assert not RestockAlert.objects.exists()


def test_too_many_sign_ups_from_one_ip_get_429_with_retry_after(api, gone, settings):
    settings.BACKORDERS = {**settings.BACKORDERS, "ALERT_SIGNUPS_PER_IP": "2/hour"}
    codes = [
        api.post(
            alerts_url("acme.myshopify.com"),
            {"variant_id": 458, "email": f"c{n}@b.example"},
            "application/json",
        ).status_code
        for n in range(3)
    ]
    assert codes == [202, 202, 429]
    assert RestockAlert.objects.count() == 2


def test_too_many_sign_ups_of_one_address_get_429_with_retry_after(api, gone, settings, make_variant):
    settings.BACKORDERS = {**settings.BACKORDERS, "ALERT_SIGNUPS_PER_EMAIL_PER_HOUR": 1}
    other = make_variant(stock=0, backorder_mode=BackorderMode.DENY, platform_id=459)
    first = api.post(
        alerts_url("acme.myshopify.com"), {"variant_id": 458, "email": "a@b.example"}, "application/json"
    )
    assert first.status_code == 202
    again = api.post(
        alerts_url("acme.myshopify.com"),
        {"variant_id": other.platform_id, "email": "a@b.example"},
        "application/json",
    )
    assert again.status_code == 429
    assert int(again["Retry-After"]) > 0 and again.json()["detail"]


def test_the_preflight_for_sign_ups_allows_post_from_the_shops_origin(api, gone):
    response = api.options(
        alerts_url("acme.myshopify.com"),
        headers={"origin": "https://acme.myshopify.com", "access-control-request-method": "POST"},
    )
    assert response.status_code == 204
    assert "POST" in response["Access-Control-Allow-Methods"]


def _signed(shop: str) -> str:
    params = {
        "shop": shop,
        "logged_in_customer_id": "",
        "path_prefix": "/apps/b",
        "timestamp": str(int(time.time())),
    }
    signature = proxy_signature(secret=SECRET, params=[(k, [v]) for k, v in params.items()])
    return urlencode({**params, "signature": signature})


def test_the_app_proxy_signs_up_through_the_same_service_without_csrf(gone, app_secrets):
    from tests.conftest import HttpsClient

    proxy = HttpsClient(enforce_csrf_checks=True)
    body = {"variant_id": 458, "email": "a@b.example", "language": "de"}
    unsigned = proxy.post("/shopify/proxy/alerts?shop=acme.myshopify.com", body, "application/json")
    assert unsigned.status_code == 401
    assert not RestockAlert.objects.exists()
    response = proxy.post(f"/shopify/proxy/alerts?{_signed('acme.myshopify.com')}", body, "application/json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending_confirmation"
    assert RestockAlert.objects.get().email == "a@b.example"
