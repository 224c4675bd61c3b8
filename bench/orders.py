"""Order recording throughput: N orders of 3 lines, every other one with a short line.

    .venv/bin/python bench/orders.py [--orders 1000]

Single process, PostgreSQL (DATABASE_URL, default a local ``backorders_bench`` database), with
the broker up (CELERY_BROKER_URL, default Redis database 14, emptied afterwards), as in
production: the emails the orders cause are queued for a worker, not sent in this process.
Prints orders/second and statements per order.
"""

import argparse
import time
from datetime import UTC, datetime, timedelta

from _setup import setup, teardown

setup()

from django.db import connection  # noqa: E402

from backorders.models import Backorder, Product, Shop, Variant  # noqa: E402
from backorders.services.audit import Actor  # noqa: E402
from backorders.services.checkout import LineInput, order_record  # noqa: E402
from backorders.services.stock import stock_set_available  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    shop = Shop.objects.create(
        domain=f"bench-{time.time_ns()}.myshopify.com", name="Bench", owner_email="b@x.io"
    )
    stocked, empty = [], []
    for i in range(20):
        product = Product.objects.create(shop=shop, title=f"Product {i}")
        variant = Variant.objects.create(shop=shop, product=product, inventory_policy="continue")
        if i % 2 == 0:
            stock_set_available(variant=variant, available=10 * args.orders, actor=Actor.system("bench"))
            stocked.append(variant)
        else:
            stock_set_available(variant=variant, available=0, actor=Actor.system("bench"))
            empty.append(variant)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    actor = Actor.platform("orders/create")
    statements = 0

    def count(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        for n in range(args.orders):
            picks = [stocked[n % 10], stocked[(n + 3) % 10], (empty if n % 2 else stocked)[(n + 5) % 10]]
            order_record(
                shop=shop,
                platform_id=n + 1,
                placed_at=start + timedelta(seconds=n),
                lines=[
                    LineInput(platform_id=i + 1, variant_id=v.pk, quantity=1) for i, v in enumerate(picks)
                ],
                actor=actor,
                accepted=True,
                email=f"c{n}@example.com",
            )
        elapsed = time.perf_counter() - started
    backorders = Backorder.objects.filter(shop=shop).count()
    print(f"order recording: {args.orders} orders x 3 lines, {backorders} backorders created")
    print(f"  {args.orders / elapsed:8.1f} orders/s   {elapsed * 1000 / args.orders:6.2f} ms/order")
    print(f"  {statements / args.orders:8.1f} statements/order")
    shop.delete()
    teardown()


if __name__ == "__main__":
    main()
