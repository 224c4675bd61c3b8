"""The App Proxy: the platform's signature (the documented vector), the 90-second window, the shop
from the signed parameter, the same JSON as the API, and the Liquid badge."""

import time
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from backorders.models import BackorderMode, Variant
from backorders.platforms.shopify.app_proxy import proxy_message, proxy_signature, proxy_signature_valid
from tests.conftest import OLD_SECRET, SECRET, HttpsClient
from tests.factories import ProductFactory, ShopFactory, VariantFactory

pytestmark = pytest.mark.django_db

VECTOR_QUERY = (
    "extra=1&extra=2&shop=shop-name.myshopify.com&path_prefix=%2Fapps%2Fawesome_reviews"
    "&timestamp=1317327555&logged_in_customer_id=1"
)
VECTOR_SIGNATURE = "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"


def test_the_documented_vector_verifies():
    query = QueryDict(VECTOR_QUERY)
    assert proxy_message(query.lists()) == (
        b"extra=1,2logged_in_customer_id=1path_prefix=/apps/awesome_reviews"
        b"shop=shop-name.myshopify.comtimestamp=1317327555"
    )
    assert proxy_signature(secret="hush", params=query.lists()) == VECTOR_SIGNATURE
    signed = QueryDict(f"{VECTOR_QUERY}&signature={VECTOR_SIGNATURE}")
    assert proxy_signature_valid(query=signed, secrets=["hush"])
    assert proxy_signature_valid(query=signed, secrets=["other", "hush"])
    assert not proxy_signature_valid(query=signed, secrets=["other"])
    assert not proxy_signature_valid(query=signed, secrets=[""])
    tampered = QueryDict(f"{VECTOR_QUERY.replace('extra=2', 'extra=3')}&signature={VECTOR_SIGNATURE}")
    assert not proxy_signature_valid(query=tampered, secrets=["hush"])


def test_empty_values_are_kept_in_the_signed_message():
    query = QueryDict("logged_in_customer_id=&shop=a.myshopify.com")
    assert proxy_message(query.lists()) == b"logged_in_customer_id=shop=a.myshopify.com"


def signed_query(shop: str, *, secret: str = SECRET, timestamp: int | None = None, **extra: str) -> str:
    params = {
        "shop": shop,
        "logged_in_customer_id": "",
        "path_prefix": "/apps/backorders",
        "timestamp": str(int(time.time()) if timestamp is None else timestamp),
        **extra,
    }
    pairs = [(key, [value]) for key, value in params.items()]
    return urlencode({**params, "signature": proxy_signature(secret=secret, params=pairs)})


@pytest.fixture
def proxy():
    return HttpsClient()


@pytest.fixture
def mug(shop, make_variant):
    shop.backorder_mode = BackorderMode.ALLOW
    shop.save()
    variant = make_variant(
        stock=0,
        product__title="Red <b>mug</b> {{ shop.secret }} {% raw %}",
        product__handle="red-mug",
        product__platform_id=123,
        platform_id=456,
    )
    return variant.product


AVAILABILITY = "/shopify/proxy/products/red-mug/availability"


def test_a_signed_request_gets_the_same_json_as_the_api(proxy, mug):
    response = proxy.get(f"{AVAILABILITY}?{signed_query('acme.myshopify.com', lang='de')}")
    assert response.status_code == 200, response.content
    api = proxy.get("/api/v1/storefront/acme.myshopify.com/products/red-mug/availability?lang=de")
    assert response.json() == api.json()
    assert response["Cache-Control"].startswith("private, max-age=")
    assert "Access-Control-Allow-Origin" not in response
    assert "Set-Cookie" not in response


def test_the_previous_secret_still_verifies_during_a_rotation(proxy, mug):
    query = signed_query("acme.myshopify.com", secret=OLD_SECRET)
    assert proxy.get(f"{AVAILABILITY}?{query}").status_code == 200


def test_a_shop_with_its_own_secret_is_verified_with_that_secret_only(proxy, mug, shop):
    shop.webhook_secret = "custom-app-secret"
    shop.save()
    assert proxy.get(f"{AVAILABILITY}?{signed_query('acme.myshopify.com')}").status_code == 401
    own = signed_query("acme.myshopify.com", secret="custom-app-secret")
    assert proxy.get(f"{AVAILABILITY}?{own}").status_code == 200


@pytest.mark.parametrize(
    "make_query",
    [
        lambda: signed_query("acme.myshopify.com", secret="wrong"),
        lambda: signed_query("acme.myshopify.com").replace("backorders", "other"),  # tampered prefix
        lambda: signed_query("acme.myshopify.com") + "&extra=1",  # a parameter added
        lambda: signed_query("acme.myshopify.com").split("&signature=")[0],  # no signature
        lambda: signed_query("acme.myshopify.com", timestamp=int(time.time()) - 91),
        lambda: signed_query("acme.myshopify.com", timestamp=int(time.time()) + 91),
        lambda: signed_query("acme.myshopify.com", timestamp="soon"),  # type: ignore[arg-type]
        lambda: "shop=acme.myshopify.com",
        lambda: signed_query("acme.myshopify.com", pad="x" * 5000),
    ],
    ids=[
        "wrong-secret",
        "tampered",
        "added",
        "unsigned",
        "91s-old",
        "91s-ahead",
        "no-timestamp",
        "bare",
        "long",
    ],
)
def test_bad_or_old_signatures_get_401(proxy, mug, make_query):
    response = proxy.get(f"{AVAILABILITY}?{make_query()}")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_an_89_second_old_signature_still_verifies(proxy, mug):
    query = signed_query("acme.myshopify.com", timestamp=int(time.time()) - 89)
    assert proxy.get(f"{AVAILABILITY}?{query}").status_code == 200


def test_the_shop_is_the_signed_one_and_another_shops_product_is_404(proxy, mug, shop):
    other = ShopFactory(domain="other.myshopify.com")
    VariantFactory(product=ProductFactory(shop=other, handle="their-mug"))
    their = "/shopify/proxy/products/their-mug/availability"
    assert proxy.get(f"{their}?{signed_query('acme.myshopify.com')}").status_code == 404
    assert proxy.get(f"{their}?{signed_query('other.myshopify.com')}").status_code == 200
    # Signed for a shop we do not serve: 404 (unsigned: 401, telling nothing).
    assert proxy.get(f"{AVAILABILITY}?{signed_query('nobody.myshopify.com')}").status_code == 404
    shop.is_active = False
    shop.save()
    assert proxy.get(f"{AVAILABILITY}?{signed_query('acme.myshopify.com')}").status_code == 404


def test_liquid_format_renders_an_escaped_badge(proxy, mug):
    Variant.objects.filter(product=mug).update(backorder_mode=BackorderMode.DENY)
    Variant.objects.filter(product=mug).update(title="{{ 7 | times: 6 }} <img src=x onerror=alert(1)>")
    response = proxy.get(f"{AVAILABILITY}?{signed_query('acme.myshopify.com', format='liquid', lang='de')}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/liquid")
    body = response.content.decode()
    assert "Nicht vorrätig" in body or "Ausverkauft" in body
    assert 'data-backorders-variant="456"' in body
    assert "{" not in body.replace("{%", "").replace("{{", "") and "{{" not in body and "{%" not in body
    assert "<img" not in body and "<b>" not in body
    assert (
        'data-backorders-title="&#123;&#123; 7 | times: 6 &#125;&#125; &lt;img src=x onerror=alert(1)&gt;"'
        in body
    )


def test_liquid_errors_are_escaped_too(proxy, mug):
    response = proxy.get(
        f"/shopify/proxy/products/nope/availability?{signed_query('acme.myshopify.com', format='liquid')}"
    )
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/liquid")
    assert "backorders-error" in response.content.decode()
