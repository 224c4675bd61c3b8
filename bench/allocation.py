"""Allocation of one stock rise over N waiting lines, beside a raw set-based UPDATE of the same rows.

    .venv/bin/python bench/allocation.py [--lines 10000] [--rounds 5]

Prints wall time and query count of ``stock_set_available`` (which allocates), and the time of a
raw ``UPDATE … FROM unnest(…)`` over the same rows, with the ratio. Runs on PostgreSQL
(DATABASE_URL, default a local ``backorders_bench`` database).
"""

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from _setup import setup

setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from backorders.models import Backorder, Event, Order, OrderLine, Product, Shop, Variant  # noqa: E402
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
        Order(shop=shop, platform_id=i, placed_at=start + timedelta(seconds=i)) for i in range(lines)
    )
    order_lines = OrderLine.objects.bulk_create(
        OrderLine(shop=shop, order=o, platform_id=1, variant=variant, quantity=1) for o in orders
    )
    Backorder.objects.bulk_create(
        Backorder(shop=shop, order=o, line=line, variant=variant, quantity=1, queued_at=o.placed_at)
        for o, line in zip(orders, order_lines, strict=True)
    )
    Variant.objects.filter(pk=variant.pk).update(units_waiting=lines)
    return Variant.objects.select_related("product", "shop").get(pk=variant.pk)


def reset(variant: Variant, lines: int) -> None:
    with transaction.atomic():
        Backorder.objects.filter(variant=variant).update(quantity_allocated=0, status="waiting")
        Variant.objects.filter(pk=variant.pk).update(units_waiting=lines, units_allocated=0, available=-lines)
        variant.inventory_levels.update(available=-lines)
        Event.objects.filter(backorder__variant=variant).delete()


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
    ours, raw, queries = [], [], 0
    for _ in range(args.rounds):
        reset(variant, args.lines)
        variant = Variant.objects.select_related("product", "shop").get(pk=variant.pk)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            stock_set_available(variant=variant, available=0, actor=Actor.system("bench"))
            ours.append(time.perf_counter() - started)
        queries = len(captured)
        assert Backorder.objects.filter(variant=variant, status="allocated").count() == args.lines
        reset(variant, args.lines)
        raw.append(raw_update(variant))
    ours_ms, raw_ms = statistics.median(ours) * 1000, statistics.median(raw) * 1000
    print(f"allocation of one stock rise over {args.lines} waiting lines (median of {args.rounds}):")
    print(f"  stock_set_available + allocation: {ours_ms:8.1f} ms  {queries} queries (incl. savepoints)")
    print(f"  raw UPDATE … FROM unnest(…):       {raw_ms:8.1f} ms  1 query")
    print(f"  ratio ours / raw:                  {ours_ms / raw_ms:8.2f}x")
    Shop.objects.filter(pk=variant.shop_id).delete()


if __name__ == "__main__":
    main()
