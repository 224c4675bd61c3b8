"""The storefront endpoints cost a fixed number of queries, whatever the product's number of
variants, the cart's number of lines and the catalog's size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backorders.models import Product, Variant
from tests.api.conftest import availability_url, quote_url
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

# The shop with the product (one join), its variants; the throttle is on the cache.
AVAILABILITY_QUERIES = 2


def _product_with_variants(shop, n: int, *, handle: str) -> Product:
    product = ProductFactory(shop=shop, handle=handle)
    Variant.objects.bulk_create(
        Variant(product=product, shop=shop, platform_id=product.platform_id * 100 + i, sku=f"{handle}-{i}")
        for i in range(n)
    )
    return product


def _bulk_products(shop, n: int, *, start: int) -> None:
    Product.objects.bulk_create(
        (
            Product(shop=shop, platform_id=start + i, handle=f"bulk-{start + i}", title=f"Bulk {i}")
            for i in range(n)
        ),
        batch_size=5000,
    )


def _queries(api, url: str, **kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, **kwargs) if not kwargs.get("data") else api.post(url, **kwargs)
    assert response.status_code == 200, response.content
    return len(captured)


def test_availability_costs_the_same_with_1_and_50_variants(api, shop, django_assert_max_num_queries):
    _product_with_variants(shop, 1, handle="one")
    _product_with_variants(shop, 50, handle="fifty")
    one = _queries(api, availability_url(shop.domain, "one"))
    with django_assert_max_num_queries(AVAILABILITY_QUERIES):
        response = api.get(availability_url(shop.domain, "fifty"))
    assert len(response.json()["variants"]) == 50
    assert _queries(api, availability_url(shop.domain, "fifty")) == one == AVAILABILITY_QUERIES


def test_availability_costs_the_same_with_1k_and_20k_products(api, shop, django_assert_max_num_queries):
    _product_with_variants(shop, 3, handle="mug")
    _bulk_products(shop, 1_000, start=10_000_000)
    small = _queries(api, availability_url(shop.domain, "mug"))
    by_id_small = _queries(api, availability_url(shop.domain, Product.objects.get(handle="mug").platform_id))
    _bulk_products(shop, 19_000, start=20_000_000)
    assert Product.objects.filter(shop=shop).count() == 20_001
    with django_assert_max_num_queries(AVAILABILITY_QUERIES):
        api.get(availability_url(shop.domain, "mug"))
    assert _queries(api, availability_url(shop.domain, "mug")) == small
    by_id = _queries(api, availability_url(shop.domain, Product.objects.get(handle="mug").platform_id))
    assert by_id == by_id_small == small


def test_a_quote_costs_the_same_with_1_and_100_lines(api, shop, django_assert_max_num_queries):
    _product_with_variants(shop, 100, handle="many")
    ids = list(Variant.objects.filter(shop=shop).values_list("platform_id", flat=True))

    def quote(lines: list[int]) -> int:
        body = {"lines": [{"variant_id": i, "quantity": 1} for i in lines]}
        with CaptureQueriesContext(connection) as captured:
            response = api.post(quote_url(shop.domain), body, "application/json")
        assert response.status_code == 200, response.content
        assert len(response.json()["lines"]) == len(lines)
        return len(captured)

    one = quote(ids[:1])
    with django_assert_max_num_queries(2):  # the shop, the variants with their products
        quote(ids)
    assert quote(ids) == one
