"""Races on the real PostgreSQL: every thread has its own connection and transaction."""

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from backorders.models import Backorder, BackorderMode, Variant
from backorders.services import checkout
from backorders.services.audit import Actor
from backorders.services.checkout import BackorderRefused, LineInput, order_record
from backorders.services.lifecycle import BackorderStateError, backorder_cancel
from backorders.services.reconcile import stock_reconcile
from backorders.services.stock import stock_set_available
from tests.factories import ProductFactory, ShopFactory, VariantFactory, at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(count, work):
    """Run ``work(i)`` in ``count`` threads started together; return results or exceptions."""
    barrier = threading.Barrier(count)

    def call(i):
        try:
            barrier.wait()
            return work(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


@pytest.fixture
def slow_critical_section(monkeypatch):
    """Sleep inside the locked section, so that a missing lock would show as an oversell."""
    original = checkout.refusal_reason

    def slow(*args, **kwargs):
        time.sleep(0.005)
        return original(*args, **kwargs)

    monkeypatch.setattr(checkout, "refusal_reason", slow)


def buy(shop, variants, order_id, minute=0):
    return order_record(
        shop=shop,
        platform_id=order_id,
        placed_at=at(minute),
        lines=[LineInput(platform_id=i + 1, variant_id=v.pk, quantity=1) for i, v in enumerate(variants)],
        actor=Actor.store("checkout"),
    )


def test_fifty_concurrent_checkouts_never_oversell_the_backorder_limit(slow_critical_section):
    shop = ShopFactory()
    variant = VariantFactory(
        product=ProductFactory(shop=shop), backorder_mode=BackorderMode.ALLOW, backorder_limit=10
    )

    results = run_in_threads(50, lambda i: buy(shop, [variant], order_id=i + 1, minute=i))

    refused = [r for r in results if isinstance(r, BackorderRefused)]
    errors = [r for r in results if isinstance(r, Exception) and not isinstance(r, BackorderRefused)]
    assert errors == []
    assert len(refused) == 40
    assert all("Only 0 more" in r.reason for r in refused)
    assert Backorder.objects.filter(variant=variant).count() == 10
    variant.refresh_from_db()
    assert (variant.units_waiting, variant.available) == (10, -10)


def test_opposite_carts_never_deadlock(slow_critical_section, caplog):
    shop = ShopFactory()
    a, b = (VariantFactory(product=ProductFactory(shop=shop), inventory_policy="continue") for _ in range(2))
    caplog.set_level(logging.WARNING, logger="backorders.services.locking")

    results = run_in_threads(20, lambda i: buy(shop, [a, b] if i % 2 else [b, a], order_id=i + 1, minute=i))

    assert [r for r in results if isinstance(r, Exception)] == []
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]  # no deadlock even retried
    for variant in (a, b):
        variant.refresh_from_db()
        assert (variant.available, variant.units_waiting) == (-20, 20)


def test_concurrent_rises_cancellations_and_orders_allocate_each_unit_once_in_order():
    shop = ShopFactory()
    variant = VariantFactory(product=ProductFactory(shop=shop), inventory_policy="continue")
    for i in range(30):
        buy(shop, [variant], order_id=1000 + i, minute=i)
    arrived = 0
    lock = threading.Lock()
    rng = random.Random(7)
    plan = [rng.choice(["rise", "cancel", "order"]) for _ in range(40)]

    def act(i):
        nonlocal arrived
        kind = plan[i]
        if kind == "order":
            return buy(shop, [variant], order_id=2000 + i, minute=100 + i)
        if kind == "cancel":
            candidates = list(Backorder.objects.filter(variant=variant, status__in=Backorder.Status.open()))
            try:
                return backorder_cancel(backorder=rng.choice(candidates), actor=Actor.customer())
            except BackorderStateError:
                return None  # another thread cancelled it first: the guard held
        current = Variant.objects.get(pk=variant.pk)
        # Race-free "one unit arrives": the platform reports its absolute count with a newer timestamp.
        with lock:
            arrived += 1
        return stock_set_available(
            variant=current, available=current.available + 1, updated_at=at(1000 + i), actor=Actor.system()
        )

    results = run_in_threads(len(plan), act)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert stock_reconcile() == []  # counters agree with the rows
    variant.refresh_from_db()
    open_backorders = list(Backorder.objects.filter(variant=variant, status__in=Backorder.Status.open()))
    assert variant.units_allocated == sum(b.quantity_allocated for b in open_backorders)
    # FIFO: no waiting line holds units while an earlier one is not complete.
    queue = sorted(open_backorders, key=lambda b: (b.queued_at, b.pk))
    seen_incomplete = False
    for backorder in queue:
        if seen_incomplete:
            assert backorder.quantity_allocated == 0
        if backorder.quantity_allocated < backorder.quantity:
            seen_incomplete = True
    # Never stock left unallocated while someone waits.
    assert not (variant.available > 0 and variant.units_waiting > 0)


# --- Restock alert waves: two workers given the same wave send each alert once ---


def test_two_threads_running_the_same_wave_plan_each_alert_once():
    from datetime import timedelta

    from django.utils import timezone

    from backorders.models import Notification, RestockAlert, RestockAlertWave
    from backorders.services.alerts import alert_waves_run

    shop = ShopFactory(domain="alerts.myshopify.com")
    variant = VariantFactory(product=ProductFactory(shop=shop), inventory_policy="deny")
    start = timezone.now() - timedelta(days=1)
    RestockAlert.objects.bulk_create(
        RestockAlert(
            shop=shop,
            variant=variant,
            email=f"fan{i}@example.com",
            status=RestockAlert.Status.CONFIRMED,
            confirmed_at=start + timedelta(seconds=i),
            expires_at=start + timedelta(days=7),
        )
        for i in range(200)
    )
    Variant.objects.filter(pk=variant.pk).update(available=50)
    RestockAlertWave.objects.create(variant=variant, shop=shop, due_at=timezone.now())

    results = run_in_threads(4, lambda i: alert_waves_run(variant_id=variant.pk))

    assert sorted(results) == [0, 0, 0, 50], results
    emails = Notification.objects.filter(kind=Notification.Kind.RESTOCK_ALERT)
    assert emails.count() == 50
    assert emails.values("recipient").distinct().count() == 50
    assert RestockAlert.objects.filter(status=RestockAlert.Status.ALERTED).count() == 50
