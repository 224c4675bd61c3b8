"""A restock-alert wave: N confirmed sign-ups, U units restocked, one wave planned.

    .venv/bin/python bench/alerts_wave.py [--signups 10000] [--units 1000] [--rounds 3]

Prints, per round, the wall time and query count of ``alert_waves_run`` (lock, pick the first
U alerts by confirmation time, mark them alerted, write their U outbox rows), and of a second
run of the same task (which finds no wave due), with the median. The emails themselves are
queued for a worker (Redis), not sent in the measured process. Runs on PostgreSQL
(DATABASE_URL, default a local ``backorders_bench`` database).
"""

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from _setup import setup, teardown

setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from backorders.models import Product, RestockAlert, RestockAlertWave, Shop, Variant  # noqa: E402
from backorders.services.alerts import alert_waves_run  # noqa: E402


def prepare(signups: int, units: int) -> Variant:
    shop = Shop.objects.create(domain=f"bench-{time.time_ns()}.myshopify.com", name="Bench")
    product = Product.objects.create(shop=shop, title="Bench teapot", handle="bench-teapot")
    variant = Variant.objects.create(shop=shop, product=product, inventory_policy="deny", available=units)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    RestockAlert.objects.bulk_create(
        (
            RestockAlert(
                shop=shop,
                variant=variant,
                email=f"fan{i}@example.com",
                status=RestockAlert.Status.CONFIRMED,
                confirmed_at=start + timedelta(seconds=i),
                expires_at=start + timedelta(days=7),
            )
            for i in range(signups)
        ),
        batch_size=5000,
    )
    RestockAlertWave.objects.create(variant=variant, shop=shop, due_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE backorders_restockalert")
    return variant


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signups", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times, again = [], []
    for round_ in range(1, args.rounds + 1):
        variant = prepare(args.signups, args.units)
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            planned = alert_waves_run(variant_id=variant.pk)
            took = time.perf_counter() - began
        began = time.perf_counter()
        second = alert_waves_run(variant_id=variant.pk)
        repeat = time.perf_counter() - began
        times.append(took)
        again.append(repeat)
        print(
            f"round {round_}: {args.signups} sign-ups, {args.units} units -> {planned} alerts planned "
            f"in {took * 1000:.1f} ms ({len(queries)} queries); run again: {second} in {repeat * 1000:.1f} ms"
        )
        Shop.objects.filter(pk=variant.shop_id).delete()
    print(
        f"median: wave {statistics.median(times) * 1000:.1f} ms "
        f"({statistics.median(times) / args.units * 1e6:.0f} µs per alert), "
        f"repeated run {statistics.median(again) * 1000:.1f} ms"
    )
    teardown()


if __name__ == "__main__":
    main()
