"""The ETA engine: recomputing every waiting customer's ETA against open purchase orders.

    .venv/bin/python bench/eta_engine.py [--lines 10000] [--pos 20] [--variants 1000] [--rounds 3]

Two figures, each the median of ``--rounds`` runs of ``services.eta.etas_refresh`` (what the task
after a purchase order change runs), every run moving every ETA (the purchase orders' dates
shift by a day between runs) so that all rows are written, audited and planned for email:

1. one variant with ``--lines`` waiting lines (one unit each) against ``--pos`` open purchase
   orders covering them (target: under 1 s), with its statement count;
2. ``--variants`` variants with 10 waiting lines and 2 open purchase orders each, recomputed in
   tasks of ``ETA_REFRESH_BATCH`` variants (target: under 10 s), with the statements per task.

Runs on PostgreSQL (DATABASE_URL, default a local ``backorders_bench`` database).
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
from django.utils import timezone  # noqa: E402

from backorders.conf import get_setting  # noqa: E402
from backorders.models import (  # noqa: E402
    Backorder,
    Order,
    OrderLine,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Shop,
    Supplier,
    Variant,
)
from backorders.services import eta  # noqa: E402
from backorders.services.audit import Actor  # noqa: E402
from backorders.services.eta import etas_refresh  # noqa: E402
from backorders.services.locking import variants_lock  # noqa: E402
from backorders.services.purchasing import variants_supply_refresh  # noqa: E402

ACTOR = Actor.system("bench")
FIRST = timezone.localdate() + timedelta(days=7)


def prepare(shop: Shop, variants: int, lines: int, pos: int) -> list[int]:
    """``variants`` variants, each with ``lines`` waiting one-unit lines and ``pos`` sent
    purchase orders splitting them evenly; returns the variant ids."""
    supplier = Supplier.objects.create(shop=shop, name=f"Bench supplier {time.time_ns()}", lead_time_days=30)
    product = Product.objects.create(shop=shop, title="Bench mug")
    made = Variant.objects.bulk_create(
        Variant(
            shop=shop, product=product, inventory_policy="continue", units_waiting=lines, available=-lines
        )
        for _ in range(variants)
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    orders = Order.objects.bulk_create(
        Order(shop=shop, platform_id=i, placed_at=start + timedelta(seconds=i), email=f"c{i}@example.com")
        for i in range(variants * lines)
    )
    order_lines = OrderLine.objects.bulk_create(
        OrderLine(shop=shop, order=orders[v * lines + i], platform_id=1, variant=variant, quantity=1)
        for v, variant in enumerate(made)
        for i in range(lines)
    )
    Backorder.objects.bulk_create(
        Backorder(
            shop=shop,
            order=line.order,
            line=line,
            variant=line.variant,
            quantity=1,
            queued_at=line.order.placed_at,
        )
        for line in order_lines
    )
    purchase_orders = PurchaseOrder.objects.bulk_create(
        PurchaseOrder(
            shop=shop,
            supplier=supplier,
            number=f"B-{time.time_ns()}-{n}",
            status=PurchaseOrder.Status.SENT,
            expected_on=FIRST + timedelta(days=3 * n),
        )
        for n in range(pos)
    )
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(shop=shop, purchase_order=po, variant=variant, quantity_ordered=lines // pos)
        for variant in made
        for po in purchase_orders
    )
    ids = [variant.pk for variant in made]
    shift(shop, ids, 0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return ids


def shift(shop: Shop, variant_ids: list[int], days: int) -> None:
    """Move every purchase order of ``shop`` to ``days`` after its first date (untimed)."""
    for n, po in enumerate(PurchaseOrder.objects.filter(shop=shop).order_by("pk")):
        PurchaseOrder.objects.filter(pk=po.pk).update(expected_on=FIRST + timedelta(days=3 * (n % 50) + days))
    for start in range(0, len(variant_ids), 500):
        with transaction.atomic():
            variants_supply_refresh(variants=variants_lock(variant_ids[start : start + 500]))


def run(shop: Shop, variant_ids: list[int], rounds: int, *, emails: bool = True) -> tuple[float, int, int]:
    """Median seconds of a full recompute, statements of the first task, ETAs moved; without
    ``emails``, the ETA notification planning (the outbox's read of what each customer was
    told) is left out, to show what each part costs."""
    if not emails:
        with mock.patch.object(eta.notifications, "backorders_notify_eta"):
            return run(shop, variant_ids, rounds)
    times, statements, moved = [], 0, 0
    batch = get_setting("ETA_REFRESH_BATCH")
    for round_ in range(rounds + 1):
        shift(shop, variant_ids, round_ % 2 + 1)
        started = time.perf_counter()
        moved = 0
        for start in range(0, len(variant_ids), batch):
            with CaptureQueriesContext(connection) as captured:
                moved += etas_refresh(variant_ids=variant_ids[start : start + batch], actor=ACTOR)
            statements = statements or len(captured)
        if round_:
            times.append(time.perf_counter() - started)
        else:  # the first round gives the tables history; then statistics, as a live database has
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    return statistics.median(times), statements, moved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--pos", type=int, default=20)
    parser.add_argument("--variants", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    shop = Shop.objects.create(
        domain=f"bench-{time.time_ns()}.myshopify.com", name="Bench", owner_email="b@x.io"
    )
    one = prepare(shop, 1, args.lines, args.pos)
    bare, _, _ = run(shop, one, args.rounds, emails=False)
    seconds, statements, moved = run(shop, one, args.rounds)
    print(f"ETA recompute, median of {args.rounds} (every ETA moves, is audited and planned for email):")
    print(
        f"  1 variant, {args.lines} waiting lines, {args.pos} open POs: {seconds * 1000:8.1f} ms  "
        f"{statements} statements  {moved} ETAs moved  (target < 1 s)"
    )
    print(f"  the same without the ETA email planning:        {bare * 1000:8.1f} ms")
    Shop.objects.filter(pk=shop.pk).delete()
    shop = Shop.objects.create(
        domain=f"bench-{time.time_ns()}.myshopify.com", name="Bench", owner_email="b@x.io"
    )
    many = prepare(shop, args.variants, 10, 2)
    seconds, statements, moved = run(shop, many, args.rounds)
    print(
        f"  {args.variants} variants × 10 lines, 2 POs each:     {seconds * 1000:8.1f} ms  "
        f"{statements} statements per task of {get_setting('ETA_REFRESH_BATCH')}  {moved} ETAs moved  "
        "(target < 10 s)"
    )
    Shop.objects.filter(pk=shop.pk).delete()
    teardown()


if __name__ == "__main__":
    main()
