"""product_alternatives: pins first, hidden never, then the ranking, only what is in stock now,
in exactly one query."""

from datetime import UTC, datetime

import pytest

from backorders.models import AlternativeOverride, Product, ProductAlternative, Variant
from backorders.selectors.alternatives import product_alternatives
from backorders.selectors.availability import AvailabilityState, availability_state, policy_resolve
from tests.factories import ProductFactory, ShopFactory, VariantFactory

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def page(shop):
    """The product a customer looks at, loaded as a product page loads it (shop attached)."""
    product = ProductFactory(shop=shop, title="Blue mug")
    VariantFactory(product=product, available=0)
    return Product.objects.select_related("shop").get(pk=product.pk)


def candidate(shop, *, stock=5, price="10.00", **fields):
    product = ProductFactory(shop=shop, **fields)
    VariantFactory(product=product, available=stock, price=price)
    return product


def rank(page, *products, higher_tier=()):
    ProductAlternative.objects.bulk_create(
        ProductAlternative(
            shop=page.shop,
            product=page,
            alternative=alternative,
            score=1.0 - n / 100,
            rank=n,
            higher_tier=alternative in higher_tier,
            computed_at=NOW,
        )
        for n, alternative in enumerate(products, start=1)
    )


def override(page, alternative, kind, position=0):
    return AlternativeOverride.objects.create(
        shop=page.shop, product=page, alternative=alternative, kind=kind, position=position
    )


def titles(found):
    return [alt.product.title for alt in found]


def test_ranked_alternatives_in_rank_order_with_their_score_and_tier(shop, page):
    a, b, c = (candidate(shop, title=t) for t in "abc")
    rank(page, b, c, a, higher_tier=[c])
    found = product_alternatives(product=page, limit=4)
    assert titles(found) == ["b", "c", "a"]
    assert [alt.higher_tier for alt in found] == [False, True, False]
    assert [alt.pinned for alt in found] == [False, False, False]
    assert found[0].score == pytest.approx(0.99)


def test_only_what_a_customer_can_buy_now_from_stock(shop, page):
    in_stock = candidate(shop, title="in stock")
    untracked = candidate(shop, title="untracked", stock=0)
    Variant.objects.filter(product=untracked).update(inventory_tracked=False)
    backorderable = candidate(shop, title="backorder", stock=-2)
    Variant.objects.filter(product=backorderable).update(inventory_policy="continue")
    sold_out = candidate(shop, title="sold out", stock=0)
    discontinued = candidate(shop, title="discontinued", discontinued=True)
    archived = candidate(shop, title="archived", status=Product.Status.ARCHIVED)
    draft = candidate(shop, title="draft", status=Product.Status.DRAFT)
    variant_gone = candidate(shop, title="variant archived")
    Variant.objects.filter(product=variant_gone).update(is_archived=True)
    variant_discontinued = candidate(shop, title="variant discontinued")
    Variant.objects.filter(product=variant_discontinued).update(discontinued=True)
    rank(
        page,
        backorderable,
        sold_out,
        discontinued,
        archived,
        draft,
        variant_gone,
        variant_discontinued,
        untracked,
        in_stock,
    )
    found = product_alternatives(product=page, limit=10)
    assert titles(found) == ["untracked", "in stock"]
    for alt in found:
        assert availability_state(alt.variant) == AvailabilityState.IN_STOCK


def test_the_variant_linked_is_the_cheapest_one_in_stock(shop, page):
    product = ProductFactory(shop=shop, title="many")
    VariantFactory(product=product, price="5.00", available=0)  # cheapest, but sold out
    dearer = VariantFactory(product=product, price="12.00", available=3)
    cheaper = VariantFactory(product=product, price="9.00", available=1)
    VariantFactory(product=product, price="7.00", available=4, is_archived=True)
    rank(page, product)
    [alt] = product_alternatives(product=page)
    assert alt.variant.pk == cheaper.pk
    Variant.objects.filter(pk=cheaper.pk).update(available=0)
    [alt] = product_alternatives(product=page)
    assert alt.variant.pk == dearer.pk


def test_pins_come_first_in_position_order_hidden_never(shop, page):
    a, b, c, d, e = (candidate(shop, title=t) for t in "abcde")
    rank(page, a, b, c, d)
    override(page, d, AlternativeOverride.Kind.PIN, position=2)
    override(page, e, AlternativeOverride.Kind.PIN, position=1)  # pinned, never ranked
    override(page, a, AlternativeOverride.Kind.HIDE)
    found = product_alternatives(product=page, limit=4)
    assert titles(found) == ["e", "d", "b", "c"]
    assert [alt.pinned for alt in found] == [True, True, False, False]
    assert found[0].score == 0.0 and not found[0].higher_tier


def test_a_pin_out_of_stock_is_not_shown(shop, page):
    a = candidate(shop, title="a")
    pinned = candidate(shop, title="pinned", stock=0)
    rank(page, a)
    override(page, pinned, AlternativeOverride.Kind.PIN, position=0)
    assert titles(product_alternatives(product=page)) == ["a"]


def test_limit_is_respected_and_bounded(shop, page):
    products = [candidate(shop, title=f"p{n:02}") for n in range(8)]
    rank(page, *products)
    assert titles(product_alternatives(product=page, limit=3)) == ["p00", "p01", "p02"]
    assert len(product_alternatives(product=page, limit=0)) == 1
    assert len(product_alternatives(product=page, limit=10_000)) == 8


def test_never_another_shops_product_nor_itself(shop, page):
    other = ShopFactory()
    foreign = candidate(other, title="foreign")
    mine = candidate(shop, title="mine")
    VariantFactory(product=page, available=4)  # the page's own product is in stock too
    rank(page, mine)
    # Rows that no service writes, as a corrupted table would hold them.
    ProductAlternative.objects.create(
        shop=shop, product=page, alternative=foreign, score=1, rank=0, computed_at=NOW
    )
    override(page, foreign, AlternativeOverride.Kind.PIN)
    assert titles(product_alternatives(product=page, limit=10)) == ["mine"]


def test_a_product_without_alternatives_gets_none(page):
    assert product_alternatives(product=page) == []


def _catalog(shop, page, size):
    products = Product.objects.bulk_create(
        Product(shop=shop, title=f"bulk {n}", product_type="Mugs") for n in range(size)
    )
    Variant.objects.bulk_create(
        Variant(shop=shop, product=p, price=10 + n % 7, available=n % 4) for n, p in enumerate(products)
    )
    ranked = products[:: max(size // 20, 1)][:20]
    rank(page, *ranked)
    override(page, products[-1], AlternativeOverride.Kind.PIN, position=0)
    override(page, ranked[0], AlternativeOverride.Kind.HIDE)


@pytest.mark.parametrize("size", [30, 3000])
def test_exactly_one_query_at_any_catalog_size_with_nothing_more_to_render(
    shop, page, size, django_assert_num_queries
):
    _catalog(shop, page, size)
    with django_assert_num_queries(1):
        found = product_alternatives(product=page, limit=4)
        rendered = [(str(alt.variant), policy_resolve(alt.variant), alt.product.shop.domain) for alt in found]
    assert len(rendered) == 4
    assert found[0].pinned


def test_one_query_also_when_the_page_product_has_no_shop_loaded(shop, page, django_assert_num_queries):
    _catalog(shop, page, 30)
    bare = Product.objects.get(pk=page.pk)
    with django_assert_num_queries(1):
        found = product_alternatives(product=bare, limit=4)
        assert [policy_resolve(alt.variant) for alt in found]
    assert found[0].variant.shop.pk == shop.pk
