from datetime import timedelta

import pytest
from django.db import connection

from backorders.models import Backorder, Event, Notification, Order, OrderLine, Variant
from backorders.services.audit import Actor
from backorders.services.lifecycle import backorder_cancel
from backorders.services.stock import stock_set_available
from tests.conftest import fresh
from tests.factories import at

SYSTEM = Actor.system("test")


def queue(variant):
    return list(Backorder.objects.filter(variant=variant).order_by("queued_at", "pk"))


def test_fifo_at_the_boundary_no_small_line_jumps_the_queue(make_variant, place):
    variant = make_variant(inventory_policy="continue")
    for quantity in (2, 1, 3, 1, 2):
        place({variant: quantity}, accepted=True)
    assert fresh(variant).available == -9

    stock_set_available(variant=variant, available=-4, updated_at=at(500), actor=SYSTEM)  # 5 units arrive

    assert [(b.quantity, b.quantity_allocated, b.status) for b in queue(variant)] == [
        (2, 2, "allocated"),
        (1, 1, "allocated"),
        (3, 2, "waiting"),
        (1, 0, "waiting"),
        (2, 0, "waiting"),
    ]
    events_before = Event.objects.count()
    stock_set_available(variant=variant, available=-4, updated_at=at(500), actor=SYSTEM)  # replayed
    assert Event.objects.count() == events_before
    assert sum(b.quantity_allocated for b in queue(variant)) == 5


def test_stock_model_platform_sold_beyond_stock(make_variant, place):
    """-2 with 2 waiting: none to give; 5 arrive (available 3): both waiting units, 3 stay free."""
    variant = make_variant(stock=3, inventory_policy="continue")
    place({variant: 5}, accepted=True)
    variant = fresh(variant)
    assert (variant.available, variant.units_waiting) == (-2, 2)

    stock_set_available(variant=variant, available=3, actor=SYSTEM)

    variant = fresh(variant)
    assert (variant.available, variant.units_waiting, variant.units_allocated) == (3, 0, 2)
    assert queue(variant)[0].status == Backorder.Status.ALLOCATED
    # The 3 left are free for the next order: no backorder for it.
    place({variant: 3}, accepted=True)
    assert len(queue(variant)) == 1


def test_stock_model_platform_inventory_update_after_the_order_agrees_with_us(make_variant, place):
    variant = make_variant(inventory_policy="continue")
    stock_set_available(variant=variant, available=3, updated_at=at(0), actor=SYSTEM)
    place({variant: 5}, accepted=True, minute=10)
    # The platform then reports its own count, which already includes the order.
    stock_set_available(variant=variant, available=-2, updated_at=at(11), actor=SYSTEM)
    variant = fresh(variant)
    assert (variant.available, variant.units_waiting) == (-2, 2)


def test_stock_model_platform_inventory_update_before_the_order_is_not_counted_twice(make_variant, place):
    variant = make_variant(inventory_policy="continue")
    stock_set_available(variant=variant, available=-2, updated_at=at(11), actor=SYSTEM)  # already counts it
    place({variant: 5}, accepted=True, minute=10)
    variant = fresh(variant)
    assert (variant.available, variant.units_waiting) == (-2, 2)
    assert queue(variant)[0].quantity == 2


def test_stock_model_store_checkout_uses_the_same_arithmetic(make_variant, place):
    variant = make_variant(stock=3, inventory_policy="continue")
    place({variant: 5})  # a Django store, no platform timestamps
    assert fresh(variant).available == -2
    stock_set_available(variant=variant, available=3, actor=SYSTEM)
    assert queue(variant)[0].status == Backorder.Status.ALLOCATED


def test_cancelled_allocation_goes_to_the_next_in_line(make_variant, place):
    variant = make_variant(inventory_policy="continue")
    place({variant: 2}, accepted=True)
    place({variant: 1}, accepted=True)
    stock_set_available(variant=variant, available=-2, actor=SYSTEM)  # one unit arrives
    first, second = queue(variant)
    assert (first.quantity_allocated, second.quantity_allocated) == (1, 0)

    backorder_cancel(backorder=first, actor=Actor.customer("c@example.com"), reason="Changed my mind")

    first, second = queue(variant)
    assert first.status == Backorder.Status.CANCELLED
    assert second.status == Backorder.Status.ALLOCATED
    variant = fresh(variant)
    assert (variant.available, variant.units_waiting, variant.units_allocated) == (0, 0, 1)
    cancelled = first.events.get(kind=Event.Kind.CANCELLED)
    assert (cancelled.actor_kind, cancelled.actor_name, cancelled.note) == (
        "customer",
        "c@example.com",
        "Changed my mind",
    )


def _waiting_lines(variant, count):
    """``count`` one-unit backorders waiting for ``variant``, written in bulk."""
    shop = variant.shop
    stock_set_available(variant=variant, available=-count, actor=SYSTEM)  # nobody waits yet
    orders = Order.objects.bulk_create(
        Order(
            shop=shop,
            platform_id=10_000 + i,
            placed_at=at(0) + timedelta(seconds=i),
            email=f"customer{i}@example.com",
        )
        for i in range(count)
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(shop=shop, order=o, platform_id=1, variant=variant, quantity=1) for o in orders
    )
    Backorder.objects.bulk_create(
        Backorder(shop=shop, order=o, line=line, variant=variant, quantity=1, queued_at=o.placed_at)
        for o, line in zip(orders, lines, strict=True)
    )
    Variant.objects.filter(pk=variant.pk).update(units_waiting=count)
    return fresh(variant)


@pytest.mark.parametrize("count", [100, pytest.param(10_000, marks=pytest.mark.postgres)])
def test_allocating_a_large_stock_rise_uses_a_constant_number_of_queries(
    make_variant, count, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    variant = _waiting_lines(make_variant(inventory_policy="continue"), count)
    with (
        # 3 of them plan the emails (the backorders, the rows, their items); SQLite splits the
        # rows' INSERT in two, under its limit of bound variables.
        django_assert_max_num_queries(16 if connection.vendor == "sqlite" else 15),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        stock_set_available(variant=variant, available=0, actor=SYSTEM)
    variant = fresh(variant)
    assert (variant.units_waiting, variant.units_allocated) == (0, count)
    assert Backorder.objects.filter(variant=variant, status="allocated").count() == count
    assert Event.objects.filter(kind=Event.Kind.ALLOCATED).count() == count
    # Every customer gets a "ready to ship" email, queued by a constant number of after-commit
    # callbacks (one per change, not one per email: each looks at the whole batch).
    assert Notification.objects.filter(kind=Notification.Kind.READY).count() == count
    assert len(callbacks) <= 3
