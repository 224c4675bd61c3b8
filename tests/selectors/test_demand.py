"""True daily demand: backordered units count, cancelled ones do not, days are shop-local, and
days the variant could not be ordered are censored rather than zero."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from backorders.models import RestockAlert, Variant
from backorders.selectors.demand import MAX_DAYS, DemandRangeError, demand_daily
from backorders.services.audit import Actor
from backorders.services.checkout import LineInput, order_record
from backorders.services.lifecycle import backorder_cancel, order_cancel
from tests.factories import next_id

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
START = date(2026, 3, 1)


@pytest.fixture
def berlin_shop(shop):
    shop.timezone = "Europe/Berlin"
    shop.save(update_fields=["timezone"])
    return shop


def known_since(variant, day: date) -> Variant:
    Variant.objects.filter(pk=variant.pk).update(
        created_at=datetime(day.year, day.month, day.day, tzinfo=BERLIN)
    )
    return variant


def order(shop, placed_at: datetime, *items):
    return order_record(
        shop=shop,
        platform_id=next_id(),
        placed_at=placed_at,
        lines=[LineInput(platform_id=next_id(), variant_id=v.pk, quantity=q) for v, q in items],
        actor=Actor.platform("orders/create"),
        accepted=True,
        email="c@example.com",
    )


def alert(variant, created_at: datetime, status, alerted_at=None):
    return RestockAlert.objects.create(
        shop=variant.shop,
        variant=variant,
        email=f"{next_id()}@example.com",
        status=status,
        created_at=created_at,
        confirmed_at=created_at if status != RestockAlert.Status.PENDING else None,
        alerted_at=alerted_at,
        expires_at=created_at + timedelta(days=7),
    )


def test_backordered_units_count_cancelled_units_do_not_and_days_are_shop_local(
    berlin_shop, make_variant, django_assert_max_num_queries
):
    shop = berlin_shop
    a = known_since(make_variant(stock=2, inventory_policy="continue"), date(2026, 1, 1))
    b = known_since(make_variant(stock=0, inventory_policy="continue"), date(2026, 1, 1))
    # 5 units of a with 2 in stock: 3 are backordered, all 5 are demand.
    order(shop, datetime(2026, 3, 2, 10, tzinfo=BERLIN), (a, 5))
    # 23:30 UTC on 2 March is 00:30 on 3 March in Berlin.
    order(shop, datetime(2026, 3, 2, 23, 30, tzinfo=ZoneInfo("UTC")), (a, 1), (b, 4))
    # An order the platform cancelled counts nothing.
    gone = order(shop, datetime(2026, 3, 2, 12, tzinfo=BERLIN), (a, 7))
    order_cancel(order=gone, actor=Actor.platform("orders/cancelled"))
    # A customer cancelling the backordered part of a line leaves only the rest as demand.
    partly = order(shop, datetime(2026, 3, 4, 9, tzinfo=BERLIN), (b, 6))
    backorder_cancel(backorder=partly.backorders.get(), actor=Actor.customer("c@example.com"))

    with django_assert_max_num_queries(3):
        history = demand_daily(shop=shop, start=START, end=date(2026, 3, 5))

    assert history.variant_ids.tolist() == sorted([a.pk, b.pk])
    rows = {vid: i for i, vid in enumerate(history.variant_ids.tolist())}
    assert history.demand.shape == (2, 5)
    assert history.demand[rows[a.pk]].tolist() == [0, 5, 1, 0, 0]
    # b: 4 on the 3rd; its 6 on the 4th were all backordered (no stock) and cancelled.
    assert history.demand[rows[b.pk]].tolist() == [0, 0, 4, 0, 0]
    assert not history.censored.any()
    assert history.day(2) == date(2026, 3, 3)


def test_stock_out_spells_from_notify_me_sign_ups_are_censored_not_zero(
    berlin_shop, make_variant, django_assert_max_num_queries
):
    shop = berlin_shop
    v = known_since(make_variant(stock=0), date(2026, 1, 1))
    w = known_since(make_variant(stock=0), date(2026, 1, 1))
    Status = RestockAlert.Status
    # Sold out from the 2nd until the wave on the 5th: days 2, 3, 4 censored, the 5th observed.
    alert(v, datetime(2026, 3, 2, 9, tzinfo=BERLIN), Status.ALERTED, datetime(2026, 3, 5, 8, tzinfo=BERLIN))
    # A sale on the 3rd proves the variant was orderable that day: observed.
    order(shop, datetime(2026, 3, 3, 15, tzinfo=BERLIN), (v, 2))
    # An unsubscribed sign-up proves only its own day (the 7th).
    alert(v, datetime(2026, 3, 7, 9, tzinfo=BERLIN), Status.UNSUBSCRIBED)
    # w: a confirmed sign-up still waiting censors every day from the 6th to the end.
    alert(w, datetime(2026, 3, 6, 9, tzinfo=BERLIN), Status.CONFIRMED)

    with django_assert_max_num_queries(3):
        history = demand_daily(shop=shop, start=START, end=date(2026, 3, 8))

    rows = {vid: i for i, vid in enumerate(history.variant_ids.tolist())}
    cv, cw = history.censored[rows[v.pk]], history.censored[rows[w.pk]]
    assert np.flatnonzero(cv).tolist() == [1, 3, 6]  # 2nd, 4th, 7th of March
    assert history.demand[rows[v.pk], 2] == 2
    assert np.flatnonzero(cw).tolist() == [5, 6, 7]


def test_days_before_the_variant_was_known_are_censored(berlin_shop, make_variant):
    new = known_since(make_variant(), date(2026, 3, 4))
    # Recorded on the 5th, with orders from the 2nd imported: known from the 2nd, and the 3rd
    # without an order is a day of zero demand, not a censored one.
    imported = known_since(make_variant(inventory_policy="continue"), date(2026, 3, 5))
    order(berlin_shop, datetime(2026, 3, 2, 12, tzinfo=BERLIN), (imported, 1))
    order(berlin_shop, datetime(2026, 3, 4, 12, tzinfo=BERLIN), (imported, 2))
    history = demand_daily(shop=berlin_shop, start=START, end=date(2026, 3, 5))
    rows = {vid: i for i, vid in enumerate(history.variant_ids.tolist())}
    assert history.censored[rows[new.pk]].tolist() == [True, True, True, False, False]
    assert history.censored[rows[imported.pk]].tolist() == [True, False, False, False, False]
    assert history.demand[rows[imported.pk]].tolist() == [0, 1, 0, 2, 0]


def test_query_count_does_not_grow_with_variants_orders_or_alerts(
    berlin_shop, make_variant, django_assert_max_num_queries
):
    variants = [
        known_since(make_variant(stock=0, inventory_policy="continue"), date(2026, 1, 1)) for _ in range(6)
    ]
    for day in range(1, 20):
        order(berlin_shop, datetime(2026, 3, day, 12, tzinfo=BERLIN), *[(v, day % 3 + 1) for v in variants])
        alert(variants[day % 6], datetime(2026, 3, day, 1, tzinfo=BERLIN), RestockAlert.Status.EXPIRED)
    with django_assert_max_num_queries(3):
        history = demand_daily(shop=berlin_shop, start=START, end=date(2026, 3, 31))
    assert history.demand.sum() == 6 * sum(day % 3 + 1 for day in range(1, 20))


def test_another_shops_variants_are_not_read(berlin_shop, make_variant):
    from tests.factories import ProductFactory, ShopFactory, VariantFactory

    other = VariantFactory(product=ProductFactory(shop=ShopFactory()))
    mine = make_variant()
    history = demand_daily(shop=berlin_shop, start=START, end=START, variant_ids=[mine.pk, other.pk])
    assert history.variant_ids.tolist() == [mine.pk]


@pytest.mark.parametrize("end", [START - timedelta(days=1), START + timedelta(days=MAX_DAYS)])
def test_a_range_that_is_empty_or_too_long_is_refused(berlin_shop, end):
    with pytest.raises(DemandRangeError):
        demand_daily(shop=berlin_shop, start=START, end=end)


def test_the_refusal_speaks_german_to_a_german_owner(berlin_shop):
    from django.utils import translation

    with (
        translation.override("de"),
        pytest.raises(DemandRangeError, match="höchstens 1098 Tage; angefragt wurden 1099"),
    ):
        demand_daily(shop=berlin_shop, start=START, end=START + timedelta(days=MAX_DAYS))
