"""The outbox in the admin: list, filters, search, resend, suppressions, and the email preview."""

import pytest
from django.core import mail
from django.urls import reverse

from backorders.models import Notification, Suppression
from tests.conftest import HttpsClient


@pytest.fixture
def owner(admin_user):
    client = HttpsClient()
    client.force_login(admin_user)
    return client


@pytest.fixture
def failed(flaky, variant, place, commit):
    from anymail.exceptions import AnymailRequestsAPIError

    flaky.errors = [AnymailRequestsAPIError("Bad Request", status_code=400)]
    with commit():
        order = place({variant: 1}, accepted=True)
    row = Notification.objects.get(order=order)
    assert row.status == "failed"
    return row


def test_the_outbox_lists_filters_and_searches(owner, failed):
    url = reverse("admin:backorders_notification_changelist")
    for query in ("", "?status__exact=failed", "?kind__exact=confirmation", f"?q={failed.recipient}"):
        response = owner.get(url + query)
        assert response.status_code == 200
        assert failed.recipient in response.content.decode()
    assert failed.recipient not in owner.get(url + "?status__exact=sent").content.decode()
    assert "Preview emails" in owner.get(url).content.decode()
    detail = owner.get(reverse("admin:backorders_notification_change", args=[failed.pk]))
    assert detail.status_code == 200 and "Bad Request" in detail.content.decode()


def test_resend_sends_a_failed_email_again_and_leaves_sent_ones_alone(owner, failed, variant, place, commit):
    with commit():
        place({variant: 1}, accepted=True)
    sent = Notification.objects.get(status="sent")
    mail.outbox.clear()
    with commit():
        response = owner.post(
            reverse("admin:backorders_notification_changelist"),
            {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    assert response.status_code == 200
    content = response.content.decode()
    assert "1 email will be sent again." in content and "1 email was skipped" in content
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("sent", 1)
    assert [m.to for m in mail.outbox] == [[failed.recipient]]


def test_every_kind_can_be_previewed_in_every_shipped_language(owner, shop, settings):
    index = owner.get(reverse("admin:backorders_notification_preview"))
    assert index.status_code == 200
    for kind in Notification.Kind.values:
        for language, _name in settings.LANGUAGES:
            url = reverse("admin:backorders_notification_preview_kind", args=[kind, language])
            page = owner.get(url)
            assert page.status_code == 200, (kind, language)
            assert "Text part" in page.content.decode() or "Textteil" in page.content.decode()
            html = owner.get(url + "?part=html")
            assert html.status_code == 200 and html["X-Frame-Options"] == "SAMEORIGIN"
            assert "<html" in html.content.decode()
    assert (
        owner.get(reverse("admin:backorders_notification_preview_kind", args=["nope", "en"])).status_code
        == 404
    )


def test_a_suppression_can_be_removed_by_the_owner(owner, shop):
    suppression = Suppression.objects.create(shop=shop, email="x@example.com", reason="bounced")
    assert owner.get(reverse("admin:backorders_suppression_changelist")).status_code == 200
    response = owner.post(
        reverse("admin:backorders_suppression_delete", args=[suppression.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Suppression.objects.exists()


def test_staff_without_superuser_rights_see_no_email(django_user_model, failed):
    staff = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client = HttpsClient()
    client.force_login(staff)
    assert client.get(reverse("admin:backorders_notification_changelist")).status_code == 403
    assert client.get(reverse("admin:backorders_notification_preview")).status_code in (403, 404)


def test_the_shops_email_settings_are_editable_in_the_admin(owner, shop):
    page = owner.get(reverse("admin:backorders_shop_change", args=[shop.pk])).content.decode()
    for field in (
        "eta_change_threshold_days",
        "apology_threshold_days",
        "apology_incentive",
        "followup_days",
        "payment_text_en",
        "payment_text_de",
    ):
        assert f'name="{field}"' in page
