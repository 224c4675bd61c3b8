""" "Set restock date…" on the variant and product lists: a page says what it would do, confirm
applies it through the services, and only rows the user may change are touched."""

from datetime import timedelta

import pytest
from django.contrib.admin import helpers
from django.core import mail
from django.urls import reverse

from backorders.models import Backorder, Event, Notification, Variant
from tests.conftest import ETA, RESTOCK

NEW = RESTOCK + timedelta(days=30)
VARIANTS = reverse("admin:backorders_variant_changelist")
PRODUCTS = reverse("admin:backorders_product_changelist")


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def two_waiting(make_backordered, place, commit):
    mug, plate = make_backordered("Mug"), make_backordered("Plate")
    with commit():
        place({mug: 1, plate: 1}, accepted=True)
        place({mug: 1}, accepted=True)
    mail.outbox.clear()
    return mug, plate


def post_action(client, url, objs, action="set_restock_date", **data):
    return client.post(
        url, {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(obj.pk) for obj in objs], **data}
    )


def test_the_action_asks_for_a_date_then_says_what_it_moves_then_applies(admin_client, two_waiting, commit):
    mug, plate = two_waiting
    page = post_action(admin_client, VARIANTS, [mug, plate])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="restock_date"' in html and "For 2 variants:" in html and "Mug" in html

    preview = post_action(
        admin_client,
        VARIANTS,
        [mug, plate],
        restock_step="preview",
        restock_date=NEW.isoformat(),
        note="Kiln late",
    )
    assert preview.status_code == 200
    assert "2 customers' ETAs move, 2 will be emailed." in preview.content.decode()
    assert Event.objects.filter(kind="eta_changed").count() == 0  # nothing written yet

    with commit():
        done = post_action(
            admin_client,
            VARIANTS,
            [mug, plate],
            restock_step="confirm",
            restock_date=NEW.isoformat(),
            note="Kiln late",
        )
    assert done.status_code == 302 and done.url == VARIANTS
    messages = [str(m) for m in done.wsgi_request._messages]
    assert messages == ["Restock date set for 2 variant(s); 2 customers' ETAs moved; 2 email(s) queued."]
    assert set(Variant.objects.values_list("restock_date", "restock_note")) == {(NEW, "Kiln late")}
    assert set(Backorder.objects.values_list("eta", flat=True)) == {NEW + timedelta(days=1)}
    events = Event.objects.filter(kind="eta_changed")
    assert events.count() == 3 and {(e.actor_kind, e.actor_name, e.eta_from) for e in events} == {
        ("admin", "admin", ETA)
    }
    assert Notification.objects.filter(kind="eta_changed", status="sent").count() == 2 == len(mail.outbox)


def test_the_product_action_sets_the_products_date(admin_client, make_variant, place, commit):
    bowl = make_variant(
        stock=0, inventory_policy="continue", product__title="Bowl", product__restock_date=RESTOCK
    )
    with commit():
        place({bowl: 1}, accepted=True)
    mail.outbox.clear()
    preview = post_action(
        admin_client, PRODUCTS, [bowl.product], restock_step="preview", restock_date=NEW.isoformat()
    )
    assert "1 customer's ETA moves, 1 will be emailed." in preview.content.decode()
    with commit():
        done = post_action(
            admin_client, PRODUCTS, [bowl.product], restock_step="confirm", restock_date=NEW.isoformat()
        )
    assert done.status_code == 302
    bowl.product.refresh_from_db()
    assert bowl.product.restock_date == NEW and len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("days", "message"), [(-1, "is in the past"), (731, "more than 730 days from today")]
)
def test_a_refused_date_is_shown_on_its_field_and_nothing_changes(
    admin_client, two_waiting, shop, days, message
):
    from django.utils import timezone

    mug, plate = two_waiting
    bad = timezone.localdate(timezone=shop.zoneinfo) + timedelta(days=days)
    for step in ("preview", "confirm"):
        response = post_action(
            admin_client, VARIANTS, [mug, plate], restock_step=step, restock_date=bad.isoformat()
        )
        assert response.status_code == 400
        assert message in response.content.decode()
    assert set(Variant.objects.values_list("restock_date", flat=True)) == {RESTOCK}
    assert Event.objects.filter(kind="eta_changed").count() == 0


def test_a_user_who_may_not_change_a_selected_row_is_refused(
    client, django_user_model, two_waiting, monkeypatch
):
    from backorders.admin.catalog import VariantAdmin

    mug, plate = two_waiting
    user = django_user_model.objects.create_superuser("viewer", "v@example.com", "pw-long-enough-1")
    client.force_login(user)
    # Per-shop scoping answers has_change_permission per row: a row of a shop the user may only view.
    original = VariantAdmin.has_change_permission
    monkeypatch.setattr(
        VariantAdmin,
        "has_change_permission",
        lambda self, request, obj=None: obj is None or obj.pk != plate.pk and original(self, request, obj),
    )
    response = post_action(
        client, VARIANTS, [mug, plate], restock_step="confirm", restock_date=NEW.isoformat()
    )
    assert response.status_code == 403
    assert set(Variant.objects.values_list("restock_date", flat=True)) == {RESTOCK}


def test_rows_outside_the_lists_queryset_are_not_touched(admin_client, two_waiting, monkeypatch):
    """The selection is looked up through get_queryset: ids it does not return are ignored."""
    from backorders.admin.catalog import VariantAdmin

    mug, plate = two_waiting
    original = VariantAdmin.get_queryset
    monkeypatch.setattr(
        VariantAdmin, "get_queryset", lambda self, request: original(self, request).exclude(pk=plate.pk)
    )
    with_plate = post_action(
        admin_client, VARIANTS, [mug, plate], restock_step="confirm", restock_date=NEW.isoformat()
    )
    assert with_plate.status_code == 302
    assert dict(Variant.objects.values_list("pk", "restock_date")) == {mug.pk: NEW, plate.pk: RESTOCK}


def test_the_pages_and_the_change_stay_bounded_for_200_variants(
    admin_client, make_backordered, place, django_assert_max_num_queries
):
    variants = [make_backordered(f"Item {n}") for n in range(200)]
    for variant in variants[:20]:
        place({variant: 1}, accepted=True)
    with django_assert_max_num_queries(12):
        response = post_action(admin_client, VARIANTS, variants)
    assert "For 200 variants:" in response.content.decode()
    with django_assert_max_num_queries(14):
        response = post_action(
            admin_client, VARIANTS, variants, restock_step="preview", restock_date=NEW.isoformat()
        )
    assert "20 customers' ETAs move" in response.content.decode()
    # Applying goes through the policy service variant by variant: a few statements each.
    with django_assert_max_num_queries(200 * 6 + 20 * 6 + 30):
        response = post_action(
            admin_client, VARIANTS, variants, restock_step="confirm", restock_date=NEW.isoformat()
        )
    assert response.status_code == 302
    assert Variant.objects.filter(restock_date=NEW).count() == 200


def test_the_page_is_escaped_and_speaks_german(admin_client, make_backordered, two_waiting):
    hostile = make_backordered('<script>alert("x")</script>')
    response = post_action(admin_client, VARIANTS, [hostile], HTTP_ACCEPT_LANGUAGE="de")
    html = response.content.decode()
    assert '<script>alert("x")</script>' not in html and "&lt;script&gt;" in html
    german = admin_client.post(
        VARIANTS,
        {"action": "set_restock_date", helpers.ACTION_CHECKBOX_NAME: [str(hostile.pk)]},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert "Wiederauffüllungsdatum" in german.content.decode()
