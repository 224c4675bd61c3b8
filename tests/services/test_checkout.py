import pytest

from backorders.models import Backorder, BackorderMode, Event
from backorders.selectors.availability import availability_quote
from backorders.services.checkout import BackorderRefused
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


@pytest.mark.parametrize(
    ("stock", "fields", "quantity", "expected", "reason"),
    [
        (10, {}, 4, (4, 0, True), ""),
        (2, {"inventory_policy": "continue", "backorder_limit": 5}, 4, (2, 2, True), ""),
        (0, {"inventory_policy": "continue", "backorder_limit": 5}, 6, (0, 6, False), "Only 5 more"),
        (1, {"inventory_policy": "deny"}, 3, (1, 2, False), "cannot be backordered"),
        (1, {"inventory_policy": "continue", "discontinued": True}, 3, (1, 2, False), "discontinued"),
    ],
    ids=["in-stock", "split", "over-limit", "deny", "discontinued"],
)
def test_quote(make_variant, stock, fields, quantity, expected, reason):
    quote = availability_quote(variant=make_variant(stock=stock, **fields), quantity=quantity)
    assert (quote.from_stock, quote.backordered, quote.allowed) == expected
    assert reason in quote.reason
    assert bool(quote.reason) == (not quote.allowed)


def test_quote_names_the_eta_at_the_back_of_the_queue(shop, make_variant):
    from datetime import date

    import time_machine

    shop.restock_lead_days, shop.handling_days = 10, 2
    shop.save()
    variant = make_variant(inventory_policy="continue")
    with time_machine.travel(date(2026, 11, 26)):
        quote = availability_quote(variant=variant, quantity=1)
    assert (quote.eta.date, quote.eta.source) == (date(2026, 12, 8), "lead_time")


def test_quote_is_read_only_and_cheap(make_variant, django_assert_max_num_queries):
    variant = make_variant(stock=1, inventory_policy="continue")
    with django_assert_max_num_queries(0):
        availability_quote(variant=variant, quantity=3)


def test_deny_policy_refuses_a_store_order_beyond_stock(make_variant, place):
    variant = make_variant(stock=1, inventory_policy="deny")
    with pytest.raises(BackorderRefused, match="cannot be backordered"):
        place({variant: 2})
    assert fresh(variant).available == 1


def test_edited_order_reduces_then_cancels_its_backorder_and_releases_units(make_variant, place, shop):
    from backorders.services.audit import Actor
    from backorders.services.checkout import LineInput, order_record
    from tests.factories import at

    variant = make_variant(stock=0, inventory_policy="continue")
    first = place({variant: 3}, order_id=501, accepted=True)
    second = place({variant: 2}, order_id=502, accepted=True)
    line_id = first.lines.get().platform_id

    def edit(quantity, minute):
        order_record(
            shop=shop,
            platform_id=501,
            placed_at=first.placed_at,
            accepted=True,
            lines=[LineInput(platform_id=line_id, variant_id=variant.pk, quantity=quantity)],
            actor=Actor.platform("orders/updated"),
            updated_at=at(100 + minute),
        )

    edit(1, 1)
    backorder = first.backorders.get()
    assert (backorder.quantity, backorder.status) == (1, Backorder.Status.WAITING)
    assert fresh(variant).available == -3
    edit(1, 1)  # the same edit again: no change
    assert first.backorders.get().quantity == 1
    # Stock arrives for 2 units: the first order's 1 and 1 of the second order's 2.
    from backorders.services.stock import stock_set_available

    stock_set_available(variant=variant, available=-1, actor=Actor.system("test"))
    assert first.backorders.get().status == Backorder.Status.ALLOCATED
    assert second.backorders.get().quantity_allocated == 1
    edit(0, 2)  # line removed: the allocated unit goes to the next in line
    assert first.backorders.get().status == Backorder.Status.CANCELLED
    assert second.backorders.get().status == Backorder.Status.ALLOCATED
    variant = fresh(variant)
    assert (variant.available, variant.units_waiting, variant.units_allocated) == (0, 0, 2)


def test_lines_without_variant_are_stored_but_never_backordered(shop, make_variant):
    from backorders.services.audit import Actor
    from backorders.services.checkout import LineInput, order_record
    from tests.factories import at

    order = order_record(
        shop=shop,
        platform_id=9,
        placed_at=at(0),
        accepted=True,
        actor=Actor.platform(),
        lines=[LineInput(platform_id=1, variant_id=None, quantity=2, title="Gift card")],
    )
    assert order.lines.get().title == "Gift card"
    assert not order.backorders.exists()


def test_unknown_or_foreign_variant_is_invalid_input(shop, place):
    from backorders.services.checkout import InvalidOrder
    from tests.factories import ShopFactory, VariantFactory

    foreign = VariantFactory(product__shop=ShopFactory())
    with pytest.raises(InvalidOrder, match="Unknown variant"):
        place({foreign: 1})
    assert not shop.orders.exists()


def test_two_lines_of_one_variant_split_correctly_when_the_platform_level_came_first(make_variant, shop):
    from backorders.services.audit import Actor
    from backorders.services.checkout import LineInput, order_record
    from backorders.services.stock import stock_set_available
    from tests.factories import at

    variant = make_variant(inventory_policy="continue")
    stock_set_available(variant=variant, available=3, updated_at=at(0), actor=Actor.system())
    # 3 on hand, the order takes 3 + 2: the platform reports -2 before we see the order.
    stock_set_available(variant=variant, available=-2, updated_at=at(11), actor=Actor.system())
    order_record(
        shop=shop,
        platform_id=1,
        placed_at=at(10),
        accepted=True,
        actor=Actor.platform(),
        lines=[
            LineInput(platform_id=1, variant_id=variant.pk, quantity=3),
            LineInput(platform_id=2, variant_id=variant.pk, quantity=2),
        ],
    )
    assert [(b.line.platform_id, b.quantity) for b in backorders_of(variant)] == [(2, 2)]
    variant = fresh(variant)
    assert (variant.available, variant.units_waiting) == (-2, 2)


def test_a_cancelled_line_that_grows_again_goes_to_the_back_of_the_queue(make_variant, place, shop):
    """Only units the platform adds beyond what it ordered before wait again; the cancelled
    ones stay cancelled."""
    from backorders.services.audit import Actor
    from backorders.services.checkout import LineInput, order_record
    from backorders.services.lifecycle import backorder_cancel
    from tests.factories import at

    variant = make_variant(inventory_policy="continue")
    order = place({variant: 2}, order_id=700, accepted=True, minute=0)
    place({variant: 1}, order_id=701, accepted=True, minute=1)
    backorder_cancel(backorder=order.backorders.get(), actor=Actor.customer())
    line = order.lines.get()
    assert (line.quantity, line.quantity_cancelled) == (0, 2)
    order_record(
        shop=shop,
        platform_id=700,
        placed_at=order.placed_at,
        accepted=True,
        actor=Actor.platform(),
        updated_at=at(50),
        lines=[LineInput(platform_id=70000, variant_id=variant.pk, quantity=3)],  # one more unit
    )
    reopened = order.backorders.get()
    assert (reopened.status, reopened.quantity, reopened.quantity_allocated) == ("waiting", 1, 0)
    assert backorders_of(variant)[-1] == reopened
    assert fresh(variant).units_waiting == 2


def test_a_platform_reduction_takes_the_units_cancelled_here_first(make_variant, place, shop):
    """The owner refunding a customer's cancellation on the platform lowers the platform's
    quantity: that settles the cancelled units and touches nothing still ordered."""
    from backorders.services.audit import Actor
    from backorders.services.checkout import LineInput, order_record
    from backorders.services.lifecycle import backorder_cancel
    from tests.factories import at

    variant = make_variant(stock=1, inventory_policy="continue")
    order = place({variant: 3}, order_id=710, accepted=True, minute=0)  # 1 from stock, 2 waiting
    backorder_cancel(backorder=order.backorders.get(), actor=Actor.customer())
    assert (fresh(variant).available, fresh(variant).units_waiting) == (0, 0)

    def platform_says(quantity, minute):
        order_record(
            shop=shop,
            platform_id=710,
            placed_at=order.placed_at,
            accepted=True,
            actor=Actor.platform(),
            updated_at=at(minute),
            lines=[LineInput(platform_id=71000, variant_id=variant.pk, quantity=quantity)],
        )

    platform_says(3, 10)  # an unrelated edit (a tag): nothing changes
    platform_says(1, 20)  # the owner refunded the 2 cancelled units on the platform
    line = order.lines.get()
    assert (line.quantity, line.quantity_cancelled) == (1, 0)
    assert order.backorders.get().status == "cancelled"
    assert (fresh(variant).available, fresh(variant).units_waiting) == (0, 0)
    platform_says(0, 30)  # then the last unit, which stock covered, is removed too
    assert (order.lines.get().quantity, fresh(variant).available) == (0, 1)


def test_recording_an_order_costs_a_bounded_number_of_queries(
    make_variant, place, django_assert_max_num_queries
):
    variants = [make_variant(stock=5, inventory_policy="continue") for _ in range(3)]
    short = make_variant(inventory_policy="continue")
    place({variants[0]: 1})  # warm-up: locations and levels exist
    with django_assert_max_num_queries(29):  # about 5 statements per line, 3 for the outbox
        place({variants[0]: 1, variants[1]: 2, variants[2]: 1, short: 2}, accepted=True)
