import pytest

from backorders.models import Backorder, BackorderMode, Event
from backorders.services.checkout import BackorderRefused, availability_quote
from tests.conftest import fresh


def backorders_of(variant):
    return list(Backorder.objects.filter(variant=variant).order_by("queued_at", "pk"))


def test_order_within_stock_creates_no_backorder_and_lowers_available(make_variant, place):
    variant = make_variant(stock=5)
    place({variant: 3})
    variant = fresh(variant)
    assert variant.available == 2
    assert backorders_of(variant) == []


def test_short_line_becomes_backorder_for_the_uncovered_part(make_variant, place):
    variant = make_variant(stock=3, backorder_mode=BackorderMode.ALLOW)
    order = place({variant: 5})
    [backorder] = backorders_of(variant)
    assert backorder.order == order
    assert backorder.quantity == 2
    assert backorder.status == Backorder.Status.WAITING
    variant = fresh(variant)
    assert (variant.available, variant.units_waiting) == (-2, 2)
    assert backorder.events.get().kind == Event.Kind.CREATED


def test_store_checkout_over_limit_is_refused_and_writes_nothing(make_variant, place, shop):
    variant = make_variant(stock=0, backorder_mode=BackorderMode.ALLOW, backorder_limit=2)
    other = make_variant(stock=10)
    with pytest.raises(BackorderRefused, match="Only 2 more"):
        place([(other, 1), (variant, 3)])
    assert shop.orders.count() == 0
    assert fresh(other).available == 10
    assert fresh(variant).units_waiting == 0


def test_platform_order_over_limit_is_recorded_and_flagged(make_variant, place):
    variant = make_variant(stock=0, backorder_mode=BackorderMode.ALLOW, backorder_limit=2)
    place({variant: 3}, accepted=True)
    [backorder] = backorders_of(variant)
    assert backorder.quantity == 3
    assert backorder.flagged
    assert "Only 2 more" in backorder.flag_reason
    assert set(backorder.events.values_list("kind", flat=True)) == {Event.Kind.CREATED, Event.Kind.FLAGGED}


def test_quote_splits_stock_and_backorder(make_variant):
    variant = make_variant(stock=2, backorder_mode=BackorderMode.ALLOW, backorder_limit=5)
    quote = availability_quote(variant=variant, quantity=4)
    assert (quote.from_stock, quote.backordered, quote.allowed) == (2, 2, True)


def test_replayed_order_has_its_effect_once(make_variant, place):
    variant = make_variant(stock=1, backorder_mode=BackorderMode.ALLOW)
    place({variant: 3}, order_id=77, accepted=True)
    place({variant: 3}, order_id=77, accepted=True)
    assert len(backorders_of(variant)) == 1
    assert fresh(variant).available == -2
