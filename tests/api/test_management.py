"""The management API: a shop's API token, its variants' policies and restock dates, and nothing
of another shop."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from backorders.models import ApiToken, BackorderMode, Event, Variant
from backorders.services.audit import Actor
from backorders.services.shops import api_token_create, api_token_revoke
from tests.conftest import HttpsClient
from tests.factories import ProductFactory, ShopFactory, VariantFactory

pytestmark = pytest.mark.django_db

VARIANTS = "/api/v1/manage/variants"
RESTOCK = "/api/v1/manage/restock-dates"


def today(shop):
    return timezone.localdate(timezone=shop.zoneinfo)


@pytest.fixture
def key(shop):
    return api_token_create(shop=shop, name="ERP sync", actor=Actor.admin("owner")).key


@pytest.fixture
def api(key):
    return HttpsClient(headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def other_shop_variant(db):
    other = ShopFactory(domain="other.myshopify.com")
    return VariantFactory(product=ProductFactory(shop=other), platform_id=999_001)


@pytest.fixture
def waiting(shop, make_variant, place, commit):
    """A backorderable variant with two customers waiting."""
    shop.backorder_mode = BackorderMode.ALLOW
    shop.restock_lead_days = 10
    shop.save()
    variant = make_variant(stock=0, platform_id=555_001, sku="MUG-RED")
    with commit():
        place({variant: 1})
        place({variant: 2})
    mail.outbox.clear()
    return variant


def test_no_key_or_a_wrong_one_is_401_and_says_how_to_send_one(shop):
    anonymous = HttpsClient()
    answer = anonymous.get(VARIANTS)
    assert answer.status_code == 401
    assert "Authorization: Bearer" in answer.json()["detail"]
    assert answer["WWW-Authenticate"].startswith("Bearer")
    wrong = HttpsClient(headers={"Authorization": "Bearer bko_not-a-key"})
    assert wrong.get(VARIANTS).status_code == 401


def test_a_revoked_key_and_a_key_of_an_uninstalled_shop_are_refused(shop, key, api):
    assert api.get(VARIANTS).status_code == 200
    api_token_revoke(token=ApiToken.objects.get())
    assert api.get(VARIANTS).status_code == 401
    second = api_token_create(shop=shop, name="Second", actor=Actor.admin("owner")).key
    shop.is_active = False
    shop.save()
    assert HttpsClient(headers={"Authorization": f"Bearer {second}"}).get(VARIANTS).status_code == 401


def test_only_a_digest_of_the_key_is_stored(shop, key):
    token = ApiToken.objects.get()
    assert key.startswith("bko_") and len(key) > 40
    assert key not in {token.key_digest, token.prefix, token.name}
    assert key.startswith(token.prefix)


def test_the_list_shows_the_shops_variants_with_policy_and_counts(api, waiting, other_shop_variant):
    answer = api.get(VARIANTS)
    assert answer.status_code == 200
    assert answer["Cache-Control"] == "no-store"
    [row] = answer.json()["results"]
    assert row["id"] == 555_001 and row["sku"] == "MUG-RED"
    assert row["units_waiting"] == 3 and row["state"] == "backorder"
    assert row["policy"]["backorder_mode"] is None  # inherits
    assert row["effective_policy"]["backorder_mode"] == "allow"
    assert row["effective_policy"]["restock_lead_days"] == 10
    assert api.get(VARIANTS, {"sku": "NOPE"}).json()["results"] == []


def test_the_list_pages_in_a_constant_number_of_queries(api, shop, django_assert_max_num_queries):
    product = ProductFactory(shop=shop)
    VariantFactory.create_batch(120, product=product)
    with django_assert_max_num_queries(4):
        first = api.get(VARIANTS, {"page_size": 100}).json()
    assert len(first["results"]) == 100
    second = api.get(first["next"].split("testserver")[1]).json()
    assert len(second["results"]) == 20 and second["next"] is None


def test_another_shops_variant_is_404_to_read_and_to_change(api, other_shop_variant):
    url = f"{VARIANTS}/{other_shop_variant.platform_id}"
    assert api.get(url).status_code == 404
    answer = api.patch(url, {"backorder_limit": 1}, content_type="application/json")
    assert answer.status_code == 404
    other_shop_variant.refresh_from_db()
    assert other_shop_variant.backorder_limit is None
    answer = api.post(
        RESTOCK,
        {"items": [{"variant": other_shop_variant.platform_id, "restock_date": "2030-01-01"}]},
        content_type="application/json",
    )
    assert answer.status_code == 404
    other_shop_variant.refresh_from_db()
    assert other_shop_variant.restock_date is None


def test_a_policy_change_moves_the_waiting_customers_etas_audited_as_the_token(api, waiting, commit):
    new_date = today(waiting.shop) + timedelta(days=30)
    with commit():
        answer = api.patch(
            f"{VARIANTS}/{waiting.platform_id}",
            {"restock_date": new_date.isoformat(), "restock_note": " Container delayed "},
            content_type="application/json",
        )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["policy"]["restock_date"] == new_date.isoformat()
    assert answer.json()["policy"]["restock_note"] == "Container delayed"
    handling = timedelta(days=answer.json()["effective_policy"]["handling_days"])
    events = Event.objects.filter(kind=Event.Kind.ETA_CHANGED)
    assert events.count() == 2
    assert {(e.actor_kind, e.actor_name, e.eta_to) for e in events} == {
        ("api", "ERP sync", new_date + handling)
    }
    assert len(mail.outbox) == 2  # each waiting customer hears of the later date


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"backorder_limit": -1}, "backorder_limit"),
        ({"backorder_limit": 10**9}, "backorder_limit"),
        ({"backorder_mode": "sometimes"}, "backorder_mode"),
        ({"handling_days": 400}, "handling_days"),
        ({"restock_date": "2020-01-01"}, "restock_date"),
        ({"restock_date": "not a date"}, "restock_date"),
        ({"restock_note": "x" * 256}, "restock_note"),
        ({}, "non_field_errors"),
    ],
)
def test_a_bad_value_is_400_naming_the_field_and_changes_nothing(api, waiting, body, field):
    answer = api.patch(f"{VARIANTS}/{waiting.platform_id}", body, content_type="application/json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert str(answer.json()[field][0])
    fresh = Variant.objects.get(pk=waiting.pk)
    assert (fresh.backorder_limit, fresh.backorder_mode, fresh.restock_date) == (None, "", None)
    assert not Event.objects.filter(kind=Event.Kind.ETA_CHANGED).exists()


def test_restock_dates_for_many_variants_apply_together(api, waiting, make_variant, commit):
    other = make_variant(stock=0, platform_id=555_002)
    when = today(waiting.shop) + timedelta(days=20)
    with commit():
        answer = api.post(
            RESTOCK,
            {
                "items": [
                    {
                        "variant": waiting.platform_id,
                        "restock_date": when.isoformat(),
                        "restock_note": "Ship",
                    },
                    {"variant": other.platform_id, "restock_date": when.isoformat()},
                ]
            },
            content_type="application/json",
        )
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"variants": 2}
    assert set(Variant.objects.values_list("restock_date", flat=True)) == {when}
    assert Event.objects.filter(kind=Event.Kind.ETA_CHANGED, actor_kind="api").count() == 2


def test_one_refused_restock_item_changes_nothing_and_is_named_by_its_index(api, waiting, make_variant):
    other = make_variant(stock=0, platform_id=555_002)
    good = (today(waiting.shop) + timedelta(days=5)).isoformat()
    answer = api.post(
        RESTOCK,
        {
            "items": [
                {"variant": waiting.platform_id, "restock_date": good},
                {"variant": other.platform_id, "restock_date": "2020-01-01"},
            ]
        },
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert "items[1].restock_date" in answer.json()
    assert set(Variant.objects.values_list("restock_date", flat=True)) == {None}
    assert not Event.objects.filter(kind=Event.Kind.ETA_CHANGED).exists()


def test_a_variant_listed_twice_or_too_many_items_are_refused(api, waiting):
    item = {"variant": waiting.platform_id, "restock_date": None}
    answer = api.post(RESTOCK, {"items": [item, item]}, content_type="application/json")
    assert answer.status_code == 400 and "twice" in str(answer.json()["items"])
    answer = api.post(RESTOCK, {"items": [item] * 501}, content_type="application/json")
    assert answer.status_code == 400
    answer = api.post(RESTOCK, {"items": []}, content_type="application/json")
    assert answer.status_code == 400


def test_the_schema_documents_the_bearer_key(client):
    schema = client.get("/api/schema/", secure=True, headers={"Accept": "application/json"}).json()
    assert schema["components"]["securitySchemes"]["ShopApiKey"]["scheme"] == "bearer"
    assert {"/api/v1/manage/variants", "/api/v1/manage/restock-dates"} <= set(schema["paths"])


@pytest.mark.parametrize(
    ("query", "field"),
    [({"page_size": "0"}, "page_size"), ({"page_size": "501"}, "page_size"), ({"cursor": "nope"}, "cursor")],
)
def test_a_bad_page_size_or_cursor_is_400_naming_it(api, shop, query, field):
    answer = api.get(VARIANTS, query)
    assert answer.status_code == 400
    assert field in answer.json()


def test_a_token_is_limited_to_its_rate(api, settings):
    settings.BACKORDERS = {**getattr(settings, "BACKORDERS", {}), "MANAGEMENT_API_RATE": "2/minute"}
    assert api.get(VARIANTS).status_code == 200
    assert api.get(VARIANTS).status_code == 200
    answer = api.get(VARIANTS)
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) > 0
