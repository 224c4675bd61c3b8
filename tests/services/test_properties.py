"""Random sequences of orders, stock changes, cancellations and shipments keep the invariants."""

import itertools

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorders.models import Backorder, BackorderMode
from backorders.services.audit import Actor
from backorders.services.checkout import LineInput, order_record
from backorders.services.lifecycle import backorder_cancel, order_fulfill
from backorders.services.reconcile import stock_reconcile
from backorders.services.stock import stock_set_available
from tests.conftest import assert_invariants, fresh
from tests.factories import ProductFactory, ShopFactory, VariantFactory, at

operation = st.one_of(
    st.tuples(st.just("order"), st.integers(1, 4)),
    st.tuples(st.just("restock"), st.integers(-3, 6)),  # a count correction may also lower stock
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("ship"), st.integers(0, 50)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=25), initial=st.integers(0, 5))
def test_random_histories_keep_the_stock_invariants(db, operations, initial):
    with transaction.atomic():  # each example starts from an empty database
        _run(operations, initial)
        transaction.set_rollback(True)


def _run(operations, initial):
    shop = ShopFactory()
    variant = VariantFactory(product=ProductFactory(shop=shop), backorder_mode=BackorderMode.ALLOW)
    stock_set_available(variant=variant, available=initial, actor=Actor.system())
    expected_available = initial
    ids = itertools.count(1)
    for step, (kind, n) in enumerate(operations):
        variant = fresh(variant)
        if kind == "order":
            order_id = next(ids)
            order_record(
                shop=shop,
                platform_id=order_id,
                placed_at=at(step),
                accepted=True,
                actor=Actor.platform(),
                lines=[LineInput(platform_id=order_id, variant_id=variant.pk, quantity=n)],
            )
            expected_available -= n
        elif kind == "restock":
            stock_set_available(variant=variant, available=variant.available + n, actor=Actor.system())
            expected_available += n
        else:
            status = Backorder.Status.WAITING if kind == "cancel" else Backorder.Status.ALLOCATED
            candidates = list(Backorder.objects.filter(variant=variant, status=status).order_by("pk"))
            if not candidates:
                continue
            backorder = candidates[n % len(candidates)]
            if kind == "cancel":
                backorder_cancel(backorder=backorder, actor=Actor.customer())
                expected_available += backorder.quantity
            else:
                order_fulfill(order=backorder.order, actor=Actor.platform())
        variant = assert_invariants(variant)
        assert variant.available == expected_available
    assert stock_reconcile(shop=shop) == []
