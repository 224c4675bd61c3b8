"""alternatives_compute ranks by type, tags, vendor, price and title within blocks; the owner's
pins and hides; recomputation when the catalog changes."""

import random
from decimal import Decimal

import pytest
from django.test import override_settings

from backorders.beat import beat_schedule
from backorders.models import AlternativeOverride, Product, ProductAlternative, Variant
from backorders.services import alternatives as service
from backorders.services.alternatives import (
    AlternativeRefused,
    alternative_hide,
    alternative_override_remove,
    alternative_pin,
    alternatives_compute,
    alternatives_refresh,
)
from backorders.services.audit import Actor
from backorders.services.catalog import (
    ProductData,
    VariantData,
    product_archive,
    product_set_policy,
    product_upsert,
)
from backorders.tasks import alternatives_compute_task
from tests.factories import ProductFactory, ShopFactory, VariantFactory, next_id

OWNER = Actor.admin("owner")


def make(shop, title, *, price="20.00", product_type="Mugs", vendor="Acme", tags=(), **fields):
    product = ProductFactory(
        shop=shop, title=title, product_type=product_type, vendor=vendor, tags=list(tags), **fields
    )
    VariantFactory(product=product, price=price, available=5)
    return product


def ranking(product):
    return list(
        ProductAlternative.objects.filter(product=product)
        .order_by("rank")
        .values_list("alternative__title", flat=True)
    )


def test_similar_products_rank_above_less_similar_ones(shop):
    mug = make(shop, "Blue ceramic mug", tags=["ceramic", "blue", "kitchen"])
    twin = make(shop, "Red ceramic mug", tags=["ceramic", "red", "kitchen"], price="22.00")
    same_type = make(shop, "Steel camping mug", tags=["outdoor"], vendor="Other", price="35.00")
    other_type = make(shop, "Ceramic bowl", product_type="Bowls", tags=["ceramic", "kitchen"], price="21.00")
    unrelated = make(shop, "Garden hose", product_type="Garden", vendor="Other", tags=["garden"])
    written = alternatives_compute(shop=shop)
    assert ranking(mug) == ["Red ceramic mug", "Ceramic bowl", "Steel camping mug"]
    assert "Garden hose" not in ranking(mug)  # shares no block: never even compared
    assert ranking(unrelated) == []
    assert written == ProductAlternative.objects.filter(shop=shop).count()
    first = ProductAlternative.objects.get(product=mug, alternative=twin)
    assert first.rank == 1 and 0.5 < first.score <= 1.0
    assert ProductAlternative.objects.get(product=mug, alternative=other_type).score < first.score
    assert not ProductAlternative.objects.filter(
        product=mug, alternative=same_type, higher_tier=False
    ).exists()


def test_higher_tier_is_the_same_type_at_125_percent_of_the_price_or_more(shop):
    mug = make(shop, "Mug", price="20.00")
    make(shop, "Just above", price="25.00")
    make(shop, "Just below", price="24.99")
    make(shop, "Bowl", price="40.00", product_type="Bowls", tags=["x"])
    mug.tags = ["x"]
    mug.save()
    alternatives_compute(shop=shop)
    tiers = dict(
        ProductAlternative.objects.filter(product=mug).values_list("alternative__title", "higher_tier")
    )
    assert tiers == {"Just above": True, "Just below": False, "Bowl": False}


def test_the_price_is_the_midpoint_of_the_variants_on_sale(shop):
    mug = make(shop, "Mug", price="20.00")
    spread = make(shop, "Spread", price="10.00")
    VariantFactory(product=spread, price="40.00")  # midpoint 25.00: higher tier
    VariantFactory(product=spread, price="900.00", is_archived=True)
    alternatives_compute(shop=shop)
    assert ProductAlternative.objects.get(product=mug, alternative=spread).higher_tier


def test_only_active_non_discontinued_products_of_the_shop_are_candidates_never_itself(shop):
    mug = make(shop, "Mug")
    make(shop, "Draft", status=Product.Status.DRAFT)
    make(shop, "Archived", status=Product.Status.ARCHIVED)
    gone = make(shop, "Discontinued", discontinued=True)
    ProductFactory(shop=shop, title="No variant")
    make(ShopFactory(), "Elsewhere")
    make(shop, "Fine")
    alternatives_compute(shop=shop)
    assert ranking(mug) == ["Fine"]
    # A discontinued product is not offered, but its own page gets alternatives.
    assert ranking(gone) == ["Fine", "Mug"] or ranking(gone) == ["Mug", "Fine"]
    assert not ProductAlternative.objects.filter(product=mug, alternative=mug).exists()


@override_settings(BACKORDERS={"ALTERNATIVES_KEPT": 3})
def test_keeps_the_best_n_and_a_higher_tier_one_if_none_made_the_cut(shop):
    mug = make(shop, "Mug mug", price="20.00", tags=["a", "b"])
    for n in range(6):
        make(shop, f"Mug mug {n}", price="20.00", tags=["a", "b"])
    make(shop, "Premium", price="60.00")
    alternatives_compute(shop=shop)
    rows = list(ProductAlternative.objects.filter(product=mug).order_by("rank"))
    assert len(rows) == 3
    assert [row.rank for row in rows] == [1, 2, 3]
    assert rows[-1].alternative.title == "Premium" and rows[-1].higher_tier
    assert all(not row.higher_tier for row in rows[:-1])


@override_settings(BACKORDERS={"ALTERNATIVES_BLOCK_WINDOW": 2})
def test_a_large_block_offers_only_the_window_around_the_price(shop, monkeypatch):
    mug = make(shop, "Mug", price="100.00", product_type="Mugs")
    for n in range(40):
        make(shop, f"m{n:02}", price=str(60 + 2 * n), product_type="Mugs", vendor="V", tags=[])
    compared: list[int] = []
    real = service._Blocks.candidates

    def spy(self, item):
        found = real(self, item)
        if item.pk == mug.pk:
            compared.extend(found)
        return found

    monkeypatch.setattr(service._Blocks, "candidates", spy)
    alternatives_compute(shop=shop, product_ids=[mug.pk])
    prices = sorted(
        Variant.objects.filter(product_id__in=set(compared) - {mug.pk}).values_list("price", flat=True)
    )
    # 2W + 1 block positions from two below its price (the mug's own slot among them: m20 costs
    # 100 too), plus the first few of the band from 125 up (higher tier).
    near = [p for p in prices if p < 125]
    assert near == [Decimal("96.00"), Decimal("98.00"), Decimal("100.00"), Decimal("102.00")]
    assert [p for p in prices if p >= 125] == [Decimal(str(p)) for p in range(126, 140, 2)][
        : service.HIGHER_TIER_WINDOW
    ]


def test_a_subset_gets_the_same_lists_as_a_whole_shop_run(shop):
    products = [
        make(shop, f"Item {n} {'red' if n % 2 else 'blue'}", price=str(10 + n), tags=[f"t{n % 3}", "all"])
        for n in range(12)
    ]
    make(shop, "Other type", product_type="Bowls", tags=["t1"])
    alternatives_compute(shop=shop)
    whole = {p.pk: ranking(p) for p in products}
    ProductAlternative.objects.all().delete()
    alternatives_compute(shop=shop, product_ids=[products[3].pk, products[7].pk])
    assert ranking(products[3]) == whole[products[3].pk]
    assert ranking(products[7]) == whole[products[7].pk]
    assert ranking(products[0]) == []


def test_running_twice_writes_the_same_lists(shop):
    for n in range(5):
        make(shop, f"Item {n}", price=str(10 + n))
    first = alternatives_compute(shop=shop)
    before = list(
        ProductAlternative.objects.order_by("product", "rank").values_list("product", "alternative", "rank")
    )
    assert alternatives_compute(shop=shop) == first
    after = list(
        ProductAlternative.objects.order_by("product", "rank").values_list("product", "alternative", "rank")
    )
    assert before == after


def test_a_product_no_longer_active_loses_its_list(shop):
    mug, other = make(shop, "Mug"), make(shop, "Other")
    alternatives_compute(shop=shop)
    assert ranking(mug) == ["Other"]
    Product.objects.filter(pk=mug.pk).update(status=Product.Status.DRAFT)
    alternatives_compute(shop=shop)
    assert ranking(mug) == [] and ranking(other) == []


def test_neighbours_that_listed_a_changed_product_are_recomputed(shop):
    mug, cup, other = make(shop, "Mug"), make(shop, "Cup"), make(shop, "Other", product_type="Bowls")
    alternatives_compute(shop=shop)
    assert "Mug" in ranking(cup)
    Product.objects.filter(pk=mug.pk).update(product_type="Vases")
    alternatives_compute(shop=shop, product_ids=[mug.pk], include_neighbours=True)
    assert "Mug" not in ranking(cup)  # cup listed it: recomputed without it
    Product.objects.filter(pk=other.pk).update(product_type="Vases")
    Product.objects.filter(pk=mug.pk).update(product_type="Mugs")
    alternatives_compute(shop=shop, product_ids=[mug.pk], include_neighbours=True)
    assert ranking(cup) == ["Mug"]  # its new block offers it to cup: recomputed with it


def _product_data(title, *, product_type="Mugs", tags="a, b", platform_id=None):
    return ProductData(
        platform_id=platform_id or next_id(),
        title=title,
        product_type=product_type,
        tags=tags,
        variants=[VariantData(platform_id=next_id(), price=Decimal("20.00"))],
    )


def test_product_upsert_archive_and_discontinue_enqueue_a_recompute_after_commit(
    shop, django_capture_on_commit_callbacks, monkeypatch
):
    sent: list[tuple] = []
    monkeypatch.setattr(alternatives_compute_task, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        product = product_upsert(shop=shop, data=_product_data("Mug"))
    assert sent == [(shop.pk, [product.pk])]
    with django_capture_on_commit_callbacks(execute=True):
        product_set_policy(product=product, actor=OWNER, discontinued=True)
        product_set_policy(product=product, actor=OWNER, handling_days=3)  # not a catalog change
    assert sent[1:] == [(shop.pk, [product.pk])]
    with django_capture_on_commit_callbacks(execute=True):
        product_archive(product=product, actor=Actor.platform("products/delete"))
    assert sent[2:] == [(shop.pk, [product.pk])]


def test_the_task_recomputes_the_upserted_product_and_its_neighbours(
    shop, django_capture_on_commit_callbacks
):
    cup = make(shop, "Cup", tags=["a"])
    with django_capture_on_commit_callbacks(execute=True):  # CELERY_TASK_ALWAYS_EAGER in tests
        mug = product_upsert(shop=shop, data=_product_data("Mug"))
    assert ranking(mug) == ["Cup"]
    assert ranking(cup) == ["Mug"]
    with django_capture_on_commit_callbacks(execute=True):
        product_archive(product=mug, actor=Actor.platform("products/delete"))
    assert ranking(cup) == [] and ranking(mug) == []


def test_the_task_leaves_an_unknown_or_inactive_shop_alone(shop):
    make(shop, "Mug"), make(shop, "Cup")
    shop.is_active = False
    shop.save()
    assert alternatives_compute_task.run(shop.pk) == 0
    assert alternatives_refresh(shop_id=10**9) == 0
    assert not ProductAlternative.objects.exists()
    shop.is_active = True
    shop.save()
    assert alternatives_compute_task.run(shop.pk) == 2


def test_nightly_enqueues_one_recompute_per_active_shop(shop, monkeypatch):
    ShopFactory(is_active=False)
    second = ShopFactory()
    sent: list[tuple] = []
    monkeypatch.setattr(alternatives_compute_task, "delay", lambda *args: sent.append(args))
    from backorders.tasks import alternatives_nightly_task

    assert alternatives_nightly_task.run() == 2
    assert sent == [(shop.pk,), (second.pk,)]
    entry = beat_schedule()["backorders-alternatives-nightly"]
    assert entry["task"] == "backorders.tasks.alternatives_nightly_task"


# --- Pins and hides ---------------------------------------------------------------------------


def test_pin_then_hide_then_remove_one_override_per_pair(shop):
    mug, cup = make(shop, "Mug"), make(shop, "Cup")
    pin = alternative_pin(product=mug, alternative=cup, position=2, actor=OWNER)
    assert (pin.kind, pin.position, pin.actor_name, pin.shop_id) == ("pin", 2, "owner", shop.pk)
    hide = alternative_hide(product=mug, alternative=cup, actor=OWNER)
    assert hide.pk == pin.pk and hide.kind == AlternativeOverride.Kind.HIDE
    assert AlternativeOverride.objects.count() == 1
    assert alternative_override_remove(product=mug, alternative=cup, actor=OWNER)
    assert not alternative_override_remove(product=mug, alternative=cup, actor=OWNER)
    assert not AlternativeOverride.objects.exists()


@pytest.mark.parametrize("case", ["other shop", "itself", "position"])
def test_an_override_that_cannot_be_right_is_refused_and_nothing_written(shop, case):
    mug = make(shop, "Mug")
    alternative = {
        "other shop": make(ShopFactory(), "Foreign"),
        "itself": mug,
        "position": make(shop, "Cup"),
    }[case]
    position = 1000 if case == "position" else 0
    with pytest.raises(AlternativeRefused) as refused:
        alternative_pin(product=mug, alternative=alternative, position=position, actor=OWNER)
    field = "position" if case == "position" else "alternative"
    assert field in refused.value.message_dict
    with pytest.raises(AlternativeRefused):
        alternative_hide(product=mug, alternative=alternative if case != "position" else mug, actor=OWNER)
    assert not AlternativeOverride.objects.exists()


def test_a_recompute_never_touches_the_owners_overrides(shop):
    mug, cup = make(shop, "Mug"), make(shop, "Cup")
    alternative_pin(product=mug, alternative=cup, position=0, actor=OWNER)
    alternatives_compute(shop=shop)
    assert AlternativeOverride.objects.filter(product=mug, alternative=cup, kind="pin").exists()


@pytest.mark.postgres
def test_blocks_by_tag_use_the_json_index_lookup_on_postgresql(shop):
    mug = make(shop, "Mug", product_type="", tags=["rare"])
    make(shop, "Cup", product_type="Cups", tags=["rare"])
    make(shop, "Noise", product_type="Cups", tags=["common"])
    universe = service._neighbourhood(shop, [mug.pk])
    assert universe is not None
    titles = set(Product.objects.filter(universe, shop=shop).values_list("title", flat=True))
    assert titles == {"Mug", "Cup"}


def test_the_ranking_scores_exactly_as_pair_score_and_is_higher_tier_say(shop):
    """The ranking loop inlines both for speed; they must not drift apart."""
    rng = random.Random(5)
    for _n in range(60):
        make(
            shop,
            " ".join(rng.sample(["blue", "red", "mug", "cup", "tall", "oak", "set"], 3)),
            price=str(rng.choice([5, 9, 10, 12, 20, 40])),
            product_type=rng.choice(["Mugs", "Cups", ""]),
            vendor=rng.choice(["A", "B", ""]),
            tags=rng.sample(["a", "b", "c", "d", "e"], rng.randint(0, 3)),
        )
    items = service._catalog(shop, None)
    blocks = service._Blocks(items.values(), 30)
    checked = 0
    for item in items.values():
        for pk, score, higher in service._rank(item, items, blocks, 100):
            assert score == pytest.approx(service.pair_score(item, items[pk]), abs=1e-6)
            assert higher == service.is_higher_tier(item, items[pk])
            checked += 1
    assert checked > 500
