"""The storefront API: the JSON contract, 404s across shops, bounds, caching, CORS, throttling."""

from datetime import date

import pytest
import time_machine

from backorders.models import BackorderMode, Product, Variant
from tests.api.conftest import availability_url, quote_url
from tests.factories import ProductFactory, ShopFactory, VariantFactory

pytestmark = pytest.mark.django_db

TODAY = "2026-12-01 10:00Z"


@pytest.fixture
def mug(shop, make_variant):
    """A product with a backorderable variant (limit 5, 2 waiting) and an in-stock one."""
    shop.backorder_mode = BackorderMode.ALLOW
    shop.handling_days = 2
    shop.save()
    large = make_variant(
        stock=0,
        product__title="Red mug",
        product__handle="red-mug",
        product__platform_id=123,
        platform_id=456,
        sku="MUG-R",
        title="Large",
        restock_date=date(2026, 12, 10),
        backorder_limit=5,
    )
    Variant.objects.filter(pk=large.pk).update(units_waiting=2, available=-2)
    small = VariantFactory(product=large.product, platform_id=457, sku="MUG-S", title="Small")
    from backorders.services.audit import Actor
    from backorders.services.stock import stock_set_available

    stock_set_available(variant=small, available=10, actor=Actor.system("test"))
    return large.product


@time_machine.travel(TODAY, tick=False)
def test_availability_answers_the_contract_in_german(api, mug):
    response = api.get(availability_url("acme.myshopify.com", "red-mug"), {"lang": "de"})
    assert response.status_code == 200
    body = response.json()
    assert body["shop"] == "acme.myshopify.com" and body["language"] == "de"
    assert body["product"] == {"id": 123, "handle": "red-mug", "title": "Red mug"}
    large, small = body["variants"]
    assert large == {
        "id": 456,
        "sku": "MUG-R",
        "title": "Large",
        "state": "backorder",
        "badge": "Nachbestellt — Versand bis 12. Dez.",
        "can_order": True,
        "quantity_available": None,
        "backorder_units_left": 3,
        "eta": "2026-12-12",
        "eta_source": "manual",
        "eta_text": large["eta_text"],
        "alert_signup": False,
        "alert_waiting": None,
    }
    assert large["eta_text"].startswith("Versand bis Samstag, 12. Dezember 2026")
    assert (small["id"], small["state"], small["badge"], small["eta"]) == (457, "in_stock", "Auf Lager", None)


@time_machine.travel(TODAY, tick=False)
def test_a_product_is_found_by_its_platform_id_too(api, mug):
    by_id = api.get(availability_url("acme.myshopify.com", 123))
    assert by_id.status_code == 200
    assert by_id.json()["product"]["handle"] == "red-mug"
    assert by_id.json()["language"] == "en"  # the shop's language


def test_language_falls_back_to_accept_language_then_to_the_shop(api, mug):
    url = availability_url("acme.myshopify.com", "red-mug")
    assert api.get(url, headers={"accept-language": "fr, de-AT;q=0.8"}).json()["language"] == "de"
    assert api.get(url, {"lang": "fr"}, headers={"accept-language": "de"}).json()["language"] == "de"
    assert api.get(url, {"lang": "fr"}).json()["language"] == "en"
    assert api.get(url, {"lang": "de-CH"}).json()["language"] == "de"


@pytest.mark.parametrize("lang", ["x" * 36, "de_DE", "<script>", "de--x", "1de", ""])
def test_a_malformed_language_is_refused_with_a_message(api, mug, lang):
    response = api.get(availability_url("acme.myshopify.com", "red-mug"), {"lang": lang})
    assert response.status_code == 400
    assert "lang" in response.json()


def test_unknown_or_inactive_shop_and_another_shops_product_are_404(api, mug, shop):
    other = ShopFactory(domain="other.myshopify.com")
    theirs = ProductFactory(shop=other, handle="their-mug", platform_id=999)
    VariantFactory(product=theirs)
    assert api.get(availability_url("other.myshopify.com", "their-mug")).status_code == 200
    for url in (
        availability_url("nobody.myshopify.com", "red-mug"),
        availability_url("acme.myshopify.com", "their-mug"),
        availability_url("acme.myshopify.com", 999),
        availability_url("acme.myshopify.com", "x" * 256),
        availability_url("acme.myshopify.com", 2**70),
    ):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["detail"]
    shop.is_active = False
    shop.save()
    response = api.get(availability_url("acme.myshopify.com", "red-mug"))
    assert response.status_code == 404
    assert response.json() == {"detail": "No active shop has this domain."}


def test_draft_products_are_not_on_the_storefront(api, mug):
    Product.objects.filter(pk=mug.pk).update(status=Product.Status.DRAFT)
    assert api.get(availability_url("acme.myshopify.com", "red-mug")).status_code == 404


def test_shown_stock_counts_appear_only_when_the_shop_shows_them(api, mug, shop):
    url = availability_url("acme.myshopify.com", "red-mug")
    assert api.get(url).json()["variants"][1]["quantity_available"] is None
    shop.show_quantity_available = True
    shop.save()
    assert api.get(url).json()["variants"][1]["quantity_available"] == 10


# --- Caching ------------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_get_is_publicly_cacheable_with_an_etag_and_answers_304(api, mug, settings):
    settings.BACKORDERS = {**settings.BACKORDERS, "STOREFRONT_CACHE_SECONDS": 45}
    url = availability_url("acme.myshopify.com", "red-mug")
    first = api.get(url)
    assert first["Cache-Control"] == "public, max-age=45"
    assert set(first["Vary"].replace(" ", "").split(",")) >= {"Origin", "Accept-Language"}
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = api.get(url, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and again["Cache-Control"] == "public, max-age=45"
    assert api.get(url, headers={"if-none-match": f'W/{etag}, "other"'}).status_code == 304
    assert api.get(url, headers={"if-none-match": '"stale"'}).status_code == 200
    # Another language is other content: another ETag.
    assert api.get(url, {"lang": "de"})["ETag"] != etag


def test_the_etag_changes_with_stock_with_policy_and_with_the_day(api, mug):
    url = availability_url("acme.myshopify.com", "red-mug")
    large = Variant.objects.get(platform_id=456)
    with time_machine.travel(TODAY, tick=False):
        etag = api.get(url)["ETag"]
        assert api.get(url)["ETag"] == etag  # nothing changed: the same
        Variant.objects.filter(pk=large.pk).update(units_waiting=3)  # one more unit waits
        after_stock = api.get(url)["ETag"]
        assert after_stock != etag
        Variant.objects.filter(pk=large.pk).update(restock_date=date(2026, 12, 20))  # the owner's ETA
        after_eta = api.get(url)["ETag"]
        assert after_eta != after_stock
        Variant.objects.filter(pk=large.pk).update(backorder_mode=BackorderMode.DENY)  # the policy
        after_policy = api.get(url)
        assert after_policy["ETag"] != after_eta
        assert after_policy.json()["variants"][0]["state"] == "out_of_stock"
        Variant.objects.filter(pk=large.pk).update(backorder_mode="", restock_date=date(2026, 11, 1))
        passed_date = api.get(url)["ETag"]
    with time_machine.travel("2026-12-02 10:00Z", tick=False):
        # A passed restock date means "today + handling days": tomorrow, another ETA.
        assert api.get(url)["ETag"] != passed_date


def test_errors_and_posts_are_not_publicly_cached(api, mug):
    assert "public" not in api.get(availability_url("acme.myshopify.com", "nope")).get("Cache-Control", "")
    response = api.post(
        quote_url("acme.myshopify.com"), {"lines": [{"variant_id": 457, "quantity": 1}]}, "application/json"
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


# --- CORS ---------------------------------------------------------------------------------------


def test_cors_allows_the_shops_own_origins_only(api, mug, shop):
    shop.storefront_url = "https://shop.example.com"
    shop.storefront_origins = ["https://www.example.com"]
    shop.save()
    url = availability_url("acme.myshopify.com", "red-mug")
    for origin in ("https://acme.myshopify.com", "https://shop.example.com", "https://www.example.com"):
        response = api.get(url, headers={"origin": origin})
        assert response["Access-Control-Allow-Origin"] == origin
        assert "ETag" in response["Access-Control-Expose-Headers"]
        assert "Access-Control-Allow-Credentials" not in response
    for origin in (
        "https://evil.example",
        "http://acme.myshopify.com",
        "null",
        "https://other.myshopify.com",
    ):
        response = api.get(url, headers={"origin": origin})
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response


def test_another_shops_origin_is_not_allowed(api, mug):
    ShopFactory(domain="other.myshopify.com")
    response = api.get(
        availability_url("acme.myshopify.com", "red-mug"), headers={"origin": "https://other.myshopify.com"}
    )
    assert "Access-Control-Allow-Origin" not in response


def test_preflight_for_the_quote_is_answered_for_the_shops_origin_only(api, mug):
    headers = {
        "origin": "https://acme.myshopify.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    response = api.options(quote_url("acme.myshopify.com"), headers=headers)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://acme.myshopify.com"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Content-Type" in response["Access-Control-Allow-Headers"]
    assert int(response["Access-Control-Max-Age"]) > 0
    foreign = api.options(
        quote_url("acme.myshopify.com"), headers={**headers, "origin": "https://evil.example"}
    )
    assert not any(name.startswith("Access-Control-Allow") for name in foreign.headers)


def test_the_api_sets_no_cookie_and_needs_no_csrf_token(mug):
    from tests.conftest import HttpsClient

    strict = HttpsClient(enforce_csrf_checks=True)
    response = strict.post(
        quote_url("acme.myshopify.com"), {"lines": [{"variant_id": 457, "quantity": 1}]}, "application/json"
    )
    assert response.status_code == 200
    assert not response.cookies


# --- Throttling ---------------------------------------------------------------------------------


def test_too_many_requests_from_one_address_get_429_with_retry_after(api, mug, settings):
    settings.BACKORDERS = {**settings.BACKORDERS, "STOREFRONT_RATE": "3/minute"}
    url = availability_url("acme.myshopify.com", "red-mug")
    assert [api.get(url).status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get(url)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["detail"]
    # Another address is counted on its own; a forged X-Forwarded-For does not make one.
    assert api.get(url, headers={"x-forwarded-for": "203.0.113.9"}).status_code == 429
    assert api.get(url, REMOTE_ADDR="198.51.100.7").status_code == 200


# --- The quote ----------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_quote_answers_per_line_with_checkouts_rules(api, mug):
    response = api.post(
        quote_url("acme.myshopify.com"),
        {"lines": [{"variant_id": 456, "quantity": 2}, {"variant_id": 457, "quantity": 4}], "language": "de"},
        "application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["allowed"] is True
    backordered, from_stock = body["lines"]
    assert {
        k: backordered[k] for k in ("variant_id", "quantity", "from_stock", "backordered", "allowed")
    } == {
        "variant_id": 456,
        "quantity": 2,
        "from_stock": 0,
        "backordered": 2,
        "allowed": True,
    }
    assert (backordered["state"], backordered["eta"], backordered["eta_source"]) == (
        "backorder",
        "2026-12-12",
        "manual",
    )
    assert backordered["eta_text"].startswith("Versand bis Samstag, 12. Dezember 2026")
    assert (
        from_stock["from_stock"],
        from_stock["backordered"],
        from_stock["eta"],
        from_stock["eta_text"],
    ) == (
        4,
        0,
        None,
        "",
    )


def test_quote_over_the_backorder_limit_is_refused_with_the_reason(api, mug):
    response = api.post(
        quote_url("acme.myshopify.com"), {"lines": [{"variant_id": 456, "quantity": 4}]}, "application/json"
    )
    body = response.json()
    assert response.status_code == 200 and body["allowed"] is False
    (line,) = body["lines"]
    assert (line["allowed"], line["backordered"]) == (False, 4)
    assert "3" in line["reason"]


def test_quote_agrees_with_what_checkout_records(api, mug, place):
    large = Variant.objects.select_related("product", "shop").get(platform_id=456)
    quoted = api.post(
        quote_url("acme.myshopify.com"), {"lines": [{"variant_id": 456, "quantity": 3}]}, "application/json"
    ).json()
    assert quoted["allowed"] is True
    place({large: 3})
    large.refresh_from_db()
    assert large.units_waiting == 5
    again = api.post(
        quote_url("acme.myshopify.com"), {"lines": [{"variant_id": 456, "quantity": 1}]}, "application/json"
    ).json()
    assert again["allowed"] is False


def test_quote_names_the_line_of_an_unknown_or_foreign_variant(api, mug):
    other = ShopFactory(domain="other.myshopify.com")
    foreign = VariantFactory(product=ProductFactory(shop=other), platform_id=777)
    response = api.post(
        quote_url("acme.myshopify.com"),
        {"lines": [{"variant_id": 456, "quantity": 1}, {"variant_id": foreign.platform_id, "quantity": 1}]},
        "application/json",
    )
    assert response.status_code == 400
    errors = response.json()["lines"]
    assert errors[0] == {}
    assert "Line 2" in errors[1]["variant_id"][0] and "777" in errors[1]["variant_id"][0]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"lines": []},
        {"lines": [{"variant_id": 456, "quantity": 0}]},
        {"lines": [{"variant_id": 456, "quantity": 10_001}]},
        {"lines": [{"variant_id": 456, "quantity": "two"}]},
        {"lines": [{"variant_id": -1, "quantity": 1}]},
        {"lines": [{"variant_id": 2**64, "quantity": 1}]},
        {"lines": [{"variant_id": 456 + i, "quantity": 1} for i in range(101)]},
        {"lines": [{"variant_id": 456, "quantity": 1}, {"variant_id": 456, "quantity": 1}]},
        {"lines": [{"variant_id": 456, "quantity": 1}], "language": "x" * 40},
        {"lines": "456"},
    ],
)
def test_bad_quote_bodies_get_400_with_a_message(api, mug, body):
    response = api.post(quote_url("acme.myshopify.com"), body, "application/json")
    assert response.status_code == 400
    assert response.json()


def test_a_quote_body_that_is_not_json_gets_400(api, mug):
    response = api.post(quote_url("acme.myshopify.com"), "lines=1", "application/x-www-form-urlencoded")
    assert response.status_code == 415
    response = api.post(quote_url("acme.myshopify.com"), "{nope", "application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
