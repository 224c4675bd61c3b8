from datetime import date

import pytest
import time_machine

from backorders import signals
from backorders.models import Backorder, Event
from backorders.services.audit import Actor
from backorders.services.catalog import variant_set_policy
from backorders.services.lifecycle import (
    BackorderStateError,
    Tracking,
    backorder_cancel,
    backorder_fulfill,
    order_cancel,
    order_fulfill,
)
from backorders.services.stock import stock_set_available
from tests.conftest import fresh

SYSTEM = Actor.system("test")


@pytest.fixture
def waiting(make_variant, place):
    """One order of 2 units with 1 in stock: a waiting backorder of 1."""
    variant = make_variant(stock=1, inventory_policy="continue")
    order = place({variant: 2}, accepted=True)
    return order, order.backorders.get(), variant


def test_full_story_waiting_allocated_fulfilled_with_tracking(waiting):
    order, backorder, variant = waiting
    stock_set_available(variant=variant, available=0, actor=Actor.platform("inventory_levels/update"))
    backorder.refresh_from_db()
    assert backorder.status == Backorder.Status.ALLOCATED

    order_fulfill(
        order=order, actor=Actor.platform("fulfillments/create"), tracking=Tracking("UPS", "1Z999", "")
    )

    backorder.refresh_from_db()
    assert backorder.status == Backorder.Status.FULFILLED
    assert (backorder.tracking_company, backorder.tracking_number) == ("UPS", "1Z999")
    variant = fresh(variant)
    assert (variant.units_waiting, variant.units_allocated, variant.available) == (0, 0, 0)
    assert list(backorder.events.values_list("kind", "actor_kind")) == [
        ("created", "platform"),
        ("allocated", "platform"),
        ("fulfilled", "platform"),
    ]


def test_partial_shipment_keeps_the_backorder_open_until_the_line_ships_in_full(waiting):
    order, backorder, variant = waiting
    line = order.lines.get()
    order_fulfill(order=order, actor=Actor.platform(), shipped={line.platform_id: 1})  # the covered unit
    backorder.refresh_from_db()
    assert backorder.status == Backorder.Status.WAITING
    order_fulfill(order=order, actor=Actor.platform(), shipped={line.platform_id: 1})  # repeated report
    backorder.refresh_from_db()
    assert backorder.status == Backorder.Status.WAITING
    order_fulfill(order=order, actor=Actor.platform(), shipped={line.platform_id: 2})
    backorder.refresh_from_db()
    assert backorder.status == Backorder.Status.FULFILLED


@pytest.mark.parametrize("end", ["cancel", "fulfil"])
def test_illegal_transitions_raise_and_change_nothing(waiting, end):
    _, backorder, variant = waiting
    if end == "cancel":
        backorder_cancel(backorder=backorder, actor=Actor.admin("owner"))
    else:
        backorder_fulfill(backorder=backorder, actor=Actor.admin("owner"))
    before = (fresh(variant).available, Event.objects.count())
    with pytest.raises(BackorderStateError, match="cannot be"):
        backorder_cancel(backorder=backorder, actor=Actor.admin("owner"))
    with pytest.raises(BackorderStateError, match="cannot be fulfilled"):
        backorder_fulfill(backorder=backorder, actor=Actor.admin("owner"))
    assert (fresh(variant).available, Event.objects.count()) == before


def test_order_cancel_releases_every_unit_and_is_idempotent(make_variant, place):
    variant = make_variant(stock=1, inventory_policy="continue")
    first = place({variant: 3}, accepted=True)
    second = place({variant: 1}, accepted=True)
    assert fresh(variant).available == -3

    order_cancel(order=first, actor=Actor.platform("orders/cancelled"), reason="customer")
    order_cancel(order=first, actor=Actor.platform("orders/cancelled"), reason="customer")

    assert first.backorders.get().status == Backorder.Status.CANCELLED
    # 3 units released: available 0, and the unit that was on hand now goes to the second order.
    assert second.backorders.get().status == Backorder.Status.ALLOCATED
    variant = fresh(variant)
    assert (variant.available, variant.units_waiting, variant.units_allocated) == (0, 0, 1)
    assert first.backorders.get().events.filter(kind="cancelled").count() == 1


def test_owner_restock_date_moves_waiting_etas_with_an_event(shop, waiting):
    _, backorder, variant = waiting
    shop.handling_days = 2
    shop.save()
    with time_machine.travel(date(2026, 11, 26)):
        variant_set_policy(
            variant=fresh(variant), restock_date=date(2026, 12, 10), actor=Actor.admin("owner")
        )
    backorder.refresh_from_db()
    assert (backorder.eta, backorder.eta_source) == (date(2026, 12, 12), "manual")
    event = backorder.events.get(kind="eta_changed")
    assert (event.eta_from, event.eta_to, event.actor_name) == (None, date(2026, 12, 12), "owner")


def test_signals_are_sent_after_commit_only(make_variant, place, django_capture_on_commit_callbacks):
    variant = make_variant(inventory_policy="continue")
    received = []

    def listener(sender, backorder, **kwargs):
        received.append(backorder.pk)

    signals.backorder_created.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            place({variant: 1}, accepted=True)
        assert received == []
        for callback in callbacks:
            callback()
        assert received == [Backorder.objects.get().pk]
    finally:
        signals.backorder_created.disconnect(listener)
