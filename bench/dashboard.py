"""The owner's dashboard and the backorder list at N backorders: wall time and query count.

    .venv/bin/python bench/dashboard.py [--backorders 100000] [--rounds 5]

Writes N backorders of one shop (100 variants, 20 lines an order, ages up to 100 days, a mix of
statuses and ETAs, one audit event each) by bulk insert, ANALYZEs, then renders the dashboard
(the admin's index) and the backorder list (default order: flagged, overdue, oldest; and
filtered to overdue) through Django's test client as a superuser. Prints the median and worst
wall time and the query count of each page. PostgreSQL (DATABASE_URL, default a local
``backorders_bench`` database).
"""

import argparse
import statistics
import time
from datetime import timedelta

from _setup import setup, teardown

setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from backorders.models import Backorder, Event, Order, OrderLine, Product, Shop, Variant  # noqa: E402


def prepare(n: int) -> Shop:
    shop = Shop.objects.create(
        domain=f"bench-{time.time_ns()}.myshopify.com", name="Bench", owner_email="b@x.io"
    )
    now = timezone.now()
    today = timezone.localdate(timezone=shop.zoneinfo)
    variants = [
        Variant.objects.create(
            shop=shop, product=Product.objects.create(shop=shop, title=f"Item {i}"), sku=f"SKU-{i}"
        )
        for i in range(100)
    ]
    per_order = 20
    orders = Order.objects.bulk_create(
        Order(
            shop=shop,
            platform_id=i,
            number=f"#{i}",
            email=f"c{i}@example.com",
            placed_at=now - timedelta(days=i % 100, minutes=i),
        )
        for i in range(n // per_order)
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            shop=shop, order=orders[i // per_order], platform_id=i, variant=variants[i % 100], quantity=2
        )
        for i in range(len(orders) * per_order)
    )
    statuses = ["waiting", "waiting", "waiting", "allocated", "fulfilled", "cancelled"]
    backorders = Backorder.objects.bulk_create(
        Backorder(
            shop=shop,
            order=line.order,
            line=line,
            variant=line.variant,
            quantity=2,
            quantity_allocated=2 if statuses[i % 6] == "allocated" else 0,
            status=statuses[i % 6],
            queued_at=line.order.placed_at,
            eta=today + timedelta(days=(i % 40) - 20),
            flagged=i % 97 == 0,
        )
        for i, line in enumerate(lines)
    )
    Event.objects.bulk_create(
        Event(shop=shop, backorder=bo, kind="created", actor_kind="platform") for bo in backorders
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return shop


def measure(client: Client, url: str, rounds: int) -> tuple[float, float, int]:
    times, queries = [], 0
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return statistics.median(times), max(times), queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backorders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = ["testserver"]
    shop = prepare(args.backorders)
    user = get_user_model().objects.filter(
        username="bench-owner"
    ).first() or get_user_model().objects.create_superuser("bench-owner", "b@x.io", "bench-only-password")
    client = Client()
    client.force_login(user)
    pages = {
        "dashboard": f"/admin/?shop={shop.pk}",
        "backorder list": f"/admin/backorders/backorder/?shop__id__exact={shop.pk}",
        "backorder list, overdue": f"/admin/backorders/backorder/?overdue=yes&shop__id__exact={shop.pk}",
    }
    print(f"{args.backorders} backorders, {args.rounds} rounds (first request warms the connection)")
    client.get(pages["dashboard"])
    for name, url in pages.items():
        median, worst, queries = measure(client, url, args.rounds)
        print(f"{name:<26} median {median * 1000:7.1f} ms   worst {worst * 1000:7.1f} ms   {queries} queries")
    Shop.objects.filter(pk=shop.pk).delete()
    teardown()


if __name__ == "__main__":
    main()
