"""The restock-alert pages: sign-up form target, confirmation (POST only), one-click unsubscribe."""

import re

import pytest
from django.core import mail
from django.core.cache import cache

from backorders.models import RestockAlert
from backorders.services.alerts import alert_confirm, alert_signup
from backorders.services.notifications import links
from tests.conftest import HttpsClient

pytestmark = pytest.mark.django_db

SIGNUP = "/backorders/alerts/signup/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()


@pytest.fixture
def client():
    return HttpsClient()


@pytest.fixture
def sold_out(make_variant):
    return make_variant(
        stock=0, inventory_policy="deny", product__title="Blue <Mug>", product__handle="blue-mug"
    )


def test_signup_form_post_creates_a_pending_alert_and_says_check_your_inbox(client, sold_out, commit):
    with commit():
        response = client.post(
            SIGNUP, {"variant": sold_out.pk, "email": "Jane@Example.com", "language": "de"}
        )
    assert response.status_code == 200
    assert "Sehen Sie in Ihr Postfach" in response.content.decode()
    assert "Blue &lt;Mug&gt;" in response.content.decode()  # escaped
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    alert = RestockAlert.objects.get()
    assert (alert.email, alert.status, alert.language) == ("jane@example.com", "pending", "de")
    assert len(mail.outbox) == 1


def test_signup_by_shop_domain_and_platform_variant_id(client, sold_out, shop):
    response = client.post(
        SIGNUP, {"shop": shop.domain, "platform_variant": sold_out.platform_id, "email": "jane@example.com"}
    )
    assert response.status_code == 200
    assert RestockAlert.objects.filter(variant=sold_out).exists()


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        ({"variant": "abc", "email": "jane@example.com"}, 400, "whole number"),
        ({"variant": "999999999", "email": "jane@example.com"}, 404, "not found"),
        ({"email": "jane@example.com"}, 400, "Say which item"),
        ({"variant": "{v}", "email": "nope"}, 400, "valid email address"),
        ({"variant": "{v}", "email": "x" * 400}, 400, "too long"),
        ({"variant": "{v}", "shop": "other.myshopify.com", "email": "jane@example.com"}, 404, "not found"),
    ],
)
def test_bad_signups_get_a_4xx_with_a_message_and_change_nothing(client, sold_out, data, status, words):
    data = {key: value.replace("{v}", str(sold_out.pk)) for key, value in data.items()}
    response = client.post(SIGNUP, data)
    assert response.status_code == status
    assert words in response.content.decode()
    assert not RestockAlert.objects.exists()


def test_signup_for_an_orderable_item_is_refused_with_400(client, make_variant):
    variant = make_variant(stock=5)
    response = client.post(SIGNUP, {"variant": variant.pk, "email": "jane@example.com"})
    assert response.status_code == 400
    assert "can be ordered now" in response.content.decode()


def test_signup_needs_a_csrf_token_and_a_post():
    strict = HttpsClient(enforce_csrf_checks=True)
    assert strict.post(SIGNUP, {"variant": "1", "email": "jane@example.com"}).status_code == 403
    assert strict.get(SIGNUP).status_code == 405


def test_signups_from_one_ip_are_throttled_with_retry_after(client, make_variant, settings):
    settings.BACKORDERS = {**settings.BACKORDERS, "ALERT_SIGNUPS_PER_IP": "2/hour"}
    variant = make_variant(stock=0, inventory_policy="deny")
    for n in range(2):
        assert client.post(SIGNUP, {"variant": variant.pk, "email": f"a{n}@example.com"}).status_code == 200
    response = client.post(SIGNUP, {"variant": variant.pk, "email": "a3@example.com"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert RestockAlert.objects.count() == 2
    other_ip = client.post(SIGNUP, {"variant": variant.pk, "email": "a4@example.com"}, REMOTE_ADDR="10.0.0.9")
    assert other_ip.status_code == 200


def test_one_address_over_its_limit_gets_429(client, make_variant, settings):
    settings.BACKORDERS = {**settings.BACKORDERS, "ALERT_SIGNUPS_PER_EMAIL_PER_HOUR": 1}
    first, second = (make_variant(stock=0, inventory_policy="deny") for _ in range(2))
    assert client.post(SIGNUP, {"variant": first.pk, "email": "jane@example.com"}).status_code == 200
    response = client.post(
        SIGNUP, {"variant": second.pk, "email": "jane@example.com"}, REMOTE_ADDR="10.0.0.2"
    )
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def confirm_path(alert):
    return links.alert_confirm_url(alert).removeprefix(links.site_url())


def test_the_confirmation_link_confirms_only_on_post(sold_out, commit):
    with commit():
        alert_signup(variant=sold_out, email="jane@example.com")
    path = re.search(r"https?://[^/\s]+(/backorders/alerts/confirm/[^\s]+/)", mail.outbox[0].body).group(1)
    browser = HttpsClient(enforce_csrf_checks=True)
    page = browser.get(path)  # what a mail scanner does
    assert page.status_code == 200
    assert RestockAlert.objects.get().status == "pending"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    referer = {"Referer": f"https://testserver{path}"}  # an HTTPS form post carries its page
    response = browser.post(path, {"csrfmiddlewaretoken": token}, headers=referer)
    assert response.status_code == 200
    assert RestockAlert.objects.get().status == "confirmed"
    assert browser.post(path, {"csrfmiddlewaretoken": token}, headers=referer).status_code == 200  # twice


def test_a_tampered_or_expired_confirmation_link_opens_an_error_page(client, sold_out, settings):
    alert = alert_signup(variant=sold_out, email="jane@example.com")
    assert client.get(confirm_path(alert)[:-3] + "x/").status_code == 404
    settings.BACKORDERS = {**settings.BACKORDERS, "ALERT_CONFIRM_EXPIRY_DAYS": -1}
    assert client.get(confirm_path(alert)).status_code == 410
    assert client.post(confirm_path(alert)).status_code == 410
    assert RestockAlert.objects.get().status == "pending"


def test_one_click_unsubscribe_works_without_a_csrf_token(sold_out):
    alert = alert_signup(variant=sold_out, email="jane@example.com")
    alert_confirm(alert=alert)
    path = links.alert_unsubscribe_url(alert).removeprefix(links.site_url())
    browser = HttpsClient(enforce_csrf_checks=True)
    assert browser.get(path).status_code == 200
    assert RestockAlert.objects.get().status == "confirmed"  # a GET changes nothing
    response = browser.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert RestockAlert.objects.get().status == "unsubscribed"
    assert browser.get(path[:-4] + "abc/").status_code == 404
