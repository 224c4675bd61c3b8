"""Allocation of one stock rise over N waiting lines, beside a raw set-based UPDATE of the same rows.

    .venv/bin/python bench/allocation.py [--lines 10000] [--rounds 5]

Every line is its own order with a customer address, so the stock rise also plans N "ready to
ship" emails in the same transaction (the outbox). Prints wall time and query count of
``stock_set_available`` (which allocates and plans the emails), the same without the emails, and
the time of a raw ``UPDATE … FROM unnest(…)`` over the same rows, with the ratios. Runs on
PostgreSQL (DATABASE_URL, default a local ``backorders_bench`` database), after a first round
and ANALYZE so that the audit and email tables hold history, as in a live database.
"""

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from unittest import mock

from _setup import setup, teardown

setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from backorders.models import Backorder, Order, OrderLine, Product, Shop, Variant  # noqa: E402
from backorders.services import stock  # noqa: E402
from backorders.services.audit import Actor  # noqa: E402
from backorders.services.stock import stock_set_available  # noqa: E402


def prepare(lines: int) -> Variant:
    shop = Shop.objects.create(
        domain=f"bench-{time.time_ns()}.myshopify.com", name="Bench", owner_email="b@x.io"
    )
    product = Product.objects.create(shop=shop, title="Bench mug")
    variant = Variant.objects.create(shop=shop, product=product, inventory_policy="continue")
    stock_set_available(variant=variant, available=-lines, actor=Actor.system("bench"))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    orders = Order.objects.bulk_create(
        Order(
            shop=shop, platform_id=i, placed_at=start + timedelta(seconds=i), email=f"customer{i}@example.com"
        )
        for i in range(lines)
    )
    order_lines = OrderLine.objects.bulk_create(
        OrderLine(shop=shop, order=o, platform_id=1, variant=variant, quantity=1) for o in orders
    )
    Backorder.objects.bulk_create(
        Backorder(shop=shop, order=o, line=line, variant=variant, quantity=1, queued_at=o.placed_at)
        for o, line in zip(orders, order_lines, strict=True)
    )
    Variant.objects.filter(pk=variant.pk).update(units_waiting=lines)
    analyze()
    return Variant.objects.select_related("product", "shop").get(pk=variant.pk)


def timed(variant: Variant) -> float:
    started = time.perf_counter()
    stock_set_available(variant=variant, available=0, actor=Actor.system("bench"))
    return time.perf_counter() - started


def reset(variant: Variant, lines: int) -> Variant:
    """Every line waiting again, nothing allocated; returns the variant as the services load it.
    The audit events and emails of earlier rounds stay, as history stays in a live database (the
    next round's changes are new events, so their emails are new too)."""
    with transaction.atomic():
        Backorder.objects.filter(variant=variant).update(quantity_allocated=0, status="waiting")
        Variant.objects.filter(pk=variant.pk).update(units_waiting=lines, units_allocated=0, available=-lines)
        variant.inventory_levels.update(available=-lines)
    return Variant.objects.select_related("product", "shop").get(pk=variant.pk)


def analyze() -> None:
    """Planner statistics, as a live database has them (autovacuum keeps them current there)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def raw_update(variant: Variant) -> float:
    ids = list(Backorder.objects.filter(variant=variant).values_list("pk", flat=True))
    quantities = [1] * len(ids)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE backorders_backorder AS b SET quantity_allocated = v.q, status = 'allocated' "
            "FROM unnest(%s::bigint[], %s::int[]) AS v(id, q) WHERE b.id = v.id",
            [ids, quantities],
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    variant = prepare(args.lines)
    # A first round, so that the audit and email tables hold history before the statistics are
    # taken: measured on empty-looking tables, PostgreSQL plans their lookups as sequential scans.
    timed(reset(variant, args.lines))
    analyze()
    ours, bare, raw, queries = [], [], [], 0
    for _ in range(args.rounds):
        variant = reset(variant, args.lines)
        with CaptureQueriesContext(connection) as captured:
            ours.append(timed(variant))
        queries = len(captured)
        assert Backorder.objects.filter(variant=variant, status="allocated").count() == args.lines
        # The same without planning the 10,000 "ready to ship" emails, to show what each part costs.
        variant = reset(variant, args.lines)
        with mock.patch.object(stock.notifications, "backorders_notify_status"):
            bare.append(timed(variant))
        reset(variant, args.lines)
        raw.append(raw_update(variant))
    ours_ms, bare_ms, raw_ms = (statistics.median(times) * 1000 for times in (ours, bare, raw))
    print(f"allocation of one stock rise over {args.lines} waiting lines (median of {args.rounds}):")
    print(f"  stock_set_available, allocation and email outbox: {ours_ms:8.1f} ms  {queries} queries")
    print(f"  the same without planning the emails:             {bare_ms:8.1f} ms")
    print(f"  raw UPDATE … FROM unnest(…):                      {raw_ms:8.1f} ms  1 query")
    print(f"  ratio ours / raw:                                 {ours_ms / raw_ms:8.2f}x")
    print(f"  ratio without emails / raw:                       {bare_ms / raw_ms:8.2f}x")
    Shop.objects.filter(pk=variant.shop_id).delete()
    teardown()


if __name__ == "__main__":
    main()
