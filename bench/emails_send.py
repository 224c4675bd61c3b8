"""Sending N queued emails through one real Celery worker on Redis, with anymail's test backend.

    .venv/bin/python bench/emails_send.py [--emails 10000] [--concurrency 2] [--pool prefork] [--per-row]

Plans N confirmation emails (one per order, two items each, a quarter of them German), enqueues
their sending on Redis as the sweeper does (tasks of EMAIL_SEND_BATCH emails; ``--per-row``: one
task per email), then starts one ``celery -A config worker`` (settings
``bench/_emails_worker_settings.py``: the project's, with anymail's test backend and database
connections reused across tasks) and waits until every row is ``sent``. Prints messages per
second (first claim to last send, as the worker recorded them) and the worker's queries per
message, which is a constant: claim, read, record the outcome.

Runs on PostgreSQL (DATABASE_URL, default a local ``backorders_bench_emails`` database) and Redis
DB 13 (CELERY_BROKER_URL), both its own: benchmarks of other areas may run at the same time.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/backorders_bench_emails")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")

from _setup import ROOT, setup  # noqa: E402

setup()

from django.db.models import Max, Min  # noqa: E402
from django.utils import timezone  # noqa: E402

from backorders.conf import get_setting  # noqa: E402
from backorders.models import Backorder, Notification, Order, OrderLine, Product, Shop, Variant  # noqa: E402
from backorders.services.notifications import notifications_enqueue  # noqa: E402
from backorders.tasks import notification_send_task  # noqa: E402
from config.celery import app  # noqa: E402

QUEUE = "bench-emails"


def prepare(count: int) -> list[int]:
    """N orders, each with two backordered lines and a pending confirmation row."""
    shop = Shop.objects.create(
        domain=f"bench-{time.time_ns()}.myshopify.com", name="Bench Shop", owner_email="owner@bench.test"
    )
    product = Product.objects.create(shop=shop, title="Stoneware Mug")
    variants = [
        Variant.objects.create(shop=shop, product=product, title=title, sku=f"MUG-{title.upper()}")
        for title in ("Blue", "Green")
    ]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    orders = Order.objects.bulk_create(
        Order(
            shop=shop,
            platform_id=i,
            number=f"#{10_000 + i}",
            email=f"customer{i}@bench.test",
            customer_name=f"Customer {i}",
            customer_locale="de" if i % 4 == 0 else "en",
            placed_at=start + timedelta(seconds=i),
        )
        for i in range(count)
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(shop=shop, order=order, platform_id=j, variant=variant, quantity=j + 1)
        for order in orders
        for j, variant in enumerate(variants)
    )
    eta = datetime(2027, 3, 2, tzinfo=UTC).date()
    Backorder.objects.bulk_create(
        Backorder(
            shop=shop,
            order=line.order,
            line=line,
            variant=line.variant,
            quantity=line.quantity,
            queued_at=line.order.placed_at,
            eta=eta,
            eta_source="manual",
        )
        for line in lines
    )
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        Notification(
            shop=shop,
            kind=Notification.Kind.CONFIRMATION,
            recipient=order.email,
            order=order,
            language=order.customer_locale,
            context={
                "order_number": order.number,
                "customer_name": order.customer_name,
                "items": [
                    {
                        "id": j,
                        "title": f"Stoneware Mug — {v.title}",
                        "sku": v.sku,
                        "quantity": j + 1,
                        "eta": eta.isoformat(),
                        "eta_source": "manual",
                    }
                    for j, v in enumerate(variants)
                ],
            },
            dedupe_key=f"bench {order.pk}",
            due_at=now,
        )
        for order in orders
    )
    return [row.pk for row in rows]


def start_worker(pool: str, concurrency: int, query_dir: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench._emails_worker_settings",
        "PYTHONPATH": str(ROOT),
        "BENCH_QUERY_DIR": query_dir,
        "LOG_LEVEL": "ERROR",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}"]
    command += [f"--concurrency={concurrency}", f"--queues={QUEUE}", "--loglevel=ERROR"]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--per-row", action="store_true", help="one task per email instead of the batches the sweeper sends"
    )
    args, _unknown = parser.parse_known_args()  # `make bench` passes every script the same args
    app.conf.task_always_eager = False
    app.conf.task_routes = {
        "backorders.tasks.notification_send_task": {"queue": QUEUE},
        "backorders.tasks.notifications_send_task": {"queue": QUEUE},
    }
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(QUEUE)

    started = time.perf_counter()
    ids = prepare(args.emails)
    print(f"planned {len(ids)} emails in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    if args.per_row:
        with app.producer_or_acquire() as producer:
            for pk in ids:
                notification_send_task.apply_async((pk,), producer=producer)
    else:  # what the sweeper (and a transaction with several emails) does
        notifications_enqueue(ids)
    published = time.perf_counter() - started
    mode = "one task per email" if args.per_row else f"tasks of {get_setting('EMAIL_SEND_BATCH')} emails"
    print(f"enqueued {len(ids)} emails on Redis ({mode}) in {published:.1f} s")

    rows = Notification.objects.filter(pk__in=ids)
    with tempfile.TemporaryDirectory() as query_dir:
        worker = start_worker(args.pool, args.concurrency, query_dir)
        try:
            deadline = time.monotonic() + 600
            while rows.filter(status="sent").count() < len(ids) and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
        queries = sum(int(path.read_text()) for path in Path(query_dir).glob("*.count"))
    span = rows.aggregate(first=Min("claimed_at"), last=Max("sent_at"))
    elapsed = (span["last"] - span["first"]).total_seconds()
    sent = rows.filter(status="sent").count()
    once = rows.filter(status="sent", attempts=1).count()
    print(
        f"sent {sent}/{len(ids)} emails (each provider call once: {once == len(ids)}) through one worker "
        f"({args.pool}, concurrency {args.concurrency}) in {elapsed:.1f} s: "
        f"{sent / elapsed:,.0f} messages/s, {queries / max(sent, 1):.2f} queries/message"
    )
    Shop.objects.filter(pk=rows.first().shop_id).delete()


if __name__ == "__main__":
    main()
