"""API tokens in the admin: created with the key shown once, listed without it, revoked."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from backorders.models import ApiToken
from tests.conftest import HttpsClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(admin_user):
    client = HttpsClient()
    client.force_login(admin_user)
    return client


def test_a_token_is_created_with_its_key_shown_once_and_the_key_works(owner, shop):
    answer = owner.post(reverse("admin:backorders_apitoken_add"), {"shop": shop.pk, "name": "ERP sync"})
    assert answer.status_code == 302
    [message] = [str(m) for m in get_messages(answer.wsgi_request) if "copy it now" in str(m)]
    key = re.search(r"bko_[A-Za-z0-9_-]+", message).group()
    token = ApiToken.objects.get()
    assert (token.name, token.shop, token.created_by) == ("ERP sync", shop, "Admin user: admin")
    shown = owner.get(answer.url).content.decode()  # the page the owner lands on shows it
    assert key in shown
    listing = owner.get(reverse("admin:backorders_apitoken_changelist")).content.decode()
    assert token.prefix in listing and key not in listing  # and never again
    page = owner.get(reverse("admin:backorders_apitoken_change", args=[token.pk])).content.decode()
    assert key not in page
    api = HttpsClient(headers={"Authorization": f"Bearer {key}"})
    assert api.get("/api/v1/manage/variants").status_code == 200


def test_an_empty_name_is_refused_on_its_field(owner, shop):
    answer = owner.post(reverse("admin:backorders_apitoken_add"), {"shop": shop.pk, "name": "  "})
    assert answer.status_code == 200
    assert "name" in answer.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_revoking_a_token_refuses_its_key_at_once(owner, shop):
    from backorders.services.audit import Actor
    from backorders.services.shops import api_token_create

    created = api_token_create(shop=shop, name="Old script", actor=Actor.admin("owner"))
    answer = owner.post(
        reverse("admin:backorders_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [created.token.pk]},
    )
    assert answer.status_code == 302
    created.token.refresh_from_db()
    assert created.token.revoked_at is not None
    api = HttpsClient(headers={"Authorization": f"Bearer {created.key}"})
    assert api.get("/api/v1/manage/variants").status_code == 401
