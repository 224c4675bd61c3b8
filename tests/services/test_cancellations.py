"""Cancellations made here (customer, owner) against later edits by the platform: whatever the
interleaving, a cancelled unit never waits again and every counter stays right."""

import itertools

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorders.models import Backorder, BackorderMode, Cancellation, Notification, OrderLine
from backorders.services.audit import Actor
from backorders.services.checkout import LineInput, order_record
from backorders.services.lifecycle import BackorderStateError, backorder_cancel
from backorders.services.reconcile import stock_reconcile
from backorders.services.stock import stock_set_available
from tests.conftest import assert_invariants, fresh
from tests.factories import ProductFactory, ShopFactory, VariantFactory, at

operation = st.one_of(
    st.tuples(st.just("platform"), st.integers(0, 6)),  # the platform states the line's quantity
    st.tuples(st.just("customer"), st.just(0)),
    st.tuples(st.just("owner"), st.just(0)),
    st.tuples(st.just("restock"), st.integers(-2, 4)),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operations=st.lists(operation, min_size=1, max_size=20), first=st.integers(1, 5), stock=st.integers(0, 3)
)
def test_no_interleaving_of_cancels_and_platform_edits_revives_a_cancelled_unit(db, operations, first, stock):
    with transaction.atomic():
        _run(operations, first, stock)
        transaction.set_rollback(True)


def _run(operations, first, stock):
    shop = ShopFactory()
    variant = VariantFactory(product=ProductFactory(shop=shop), backorder_mode=BackorderMode.ALLOW)
    stock_set_available(variant=variant, available=stock, actor=Actor.system())
    minutes = itertools.count(1)

    def platform_says(quantity):
        return order_record(
            shop=shop,
            platform_id=1,
            placed_at=at(0),
            updated_at=at(next(minutes)),
            email="c@example.com",
            accepted=True,
            actor=Actor.platform("orders/updated"),
            lines=[LineInput(platform_id=11, variant_id=variant.pk, quantity=quantity)],
        )

    order = platform_says(first)
    ordered, cancelled_here = first, 0  # the reference model: the platform's quantity, units cancelled here
    for kind, n in operations:
        line = OrderLine.objects.get(order=order)
        backorder = Backorder.objects.filter(line=line).first()
        was_cancelled = backorder is not None and backorder.status == Backorder.Status.CANCELLED
        confirmations = Notification.objects.filter(kind="confirmation").count()
        if kind == "platform":
            increase = n > ordered
            if n < ordered:
                cancelled_here -= min(ordered - n, cancelled_here)
            ordered = n
            platform_says(n)
            if not increase:
                # No new waiting unit, so no new confirmation, and a cancelled one stays cancelled.
                assert Notification.objects.filter(kind="confirmation").count() == confirmations
                if was_cancelled:
                    backorder.refresh_from_db()
                    assert backorder.status == Backorder.Status.CANCELLED
        elif kind in ("customer", "owner"):
            if backorder is None:
                continue
            actor = Actor.customer("c@example.com") if kind == "customer" else Actor.admin("owner")
            try:
                backorder_cancel(backorder=backorder, actor=actor)
            except BackorderStateError:
                assert backorder.status not in Backorder.Status.open()
                continue
            cancelled_here += backorder.quantity
        else:
            stock_set_available(variant=variant, available=fresh(variant).available + n, actor=Actor.system())
        line.refresh_from_db()
        assert (line.quantity, line.quantity_cancelled) == (ordered - cancelled_here, cancelled_here)
        open_units = sum(
            b.quantity for b in Backorder.objects.filter(line=line, status__in=Backorder.Status.open())
        )
        assert open_units <= line.quantity  # nothing waits beyond what is still ordered
        assert_invariants(variant)
    # Every cancellation made here is there to settle, with its actor.
    assert sum(c.quantity for c in Cancellation.objects.filter(order=order)) >= cancelled_here
    assert stock_reconcile(shop=shop) == []
