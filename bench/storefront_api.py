"""Storefront API availability under gunicorn (2 workers) on PostgreSQL, 20k products.

    PYTHONPATH=. .venv/bin/python bench/storefront_api.py [--rounds 3] [--seconds 5] [--connections 4]

Two endpoints of one server, each warmed up, then measured in interleaved rounds:

* availability  ``GET /api/v1/storefront/<shop>/products/<ref>/availability`` for products drawn
                from the 20k (by handle or by platform id, half of them in German), each with two
                variants in a mix of states (in stock, low, backorder with an ETA, out of stock);
* bare          a bench-only DRF view answering a constant JSON (same server, same middleware).

Each request carries one of 5,000 client addresses (X-Forwarded-For, one trusted proxy), so the
per-IP throttle counts on the Redis cache as it would for many shoppers without refusing the
bench. Prints requests/second, p50 and p99 of each round and their medians, and the ratio
(target: availability >= 0.5 x bare, p99 < 50 ms). The load comes from Python processes with
keep-alive connections (gunicorn's sync workers close each one: the client reconnects).

Uses its own database (``backorders_bench_storefront``, recreated and vacuumed each run) and
Redis database 10 as the cache (its throttle keys are deleted at the end).
"""

import argparse
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "backorders_bench_storefront"
CACHE = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/10")
SHOP = "bench-storefront.myshopify.com"
PRODUCTS = 20_000
TARGET_RATIO, TARGET_P99_MS = 0.5, 50.0

ENV = {
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"),
    "CACHE_URL": CACHE,
    "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only",
    "DJANGO_SETTINGS_MODULE": "bench.storefront_api_site.settings",
    "CONN_MAX_AGE": "600",
    "LOG_LEVEL": "WARNING",
    "DEBUG": "false",
}


def prepare_database() -> list[str]:
    """A fresh database with one shop of ``PRODUCTS`` products; returns the request paths."""
    import psycopg

    url = ENV["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(ENV)
    import django

    django.setup()
    from datetime import date

    from django.core.management import call_command
    from django.db import connection

    from backorders.models import BackorderMode, Product, Shop, Variant

    call_command("migrate", verbosity=0)
    shop = Shop.objects.create(
        domain=SHOP, name="Bench", owner_email="owner@bench.test", backorder_mode=BackorderMode.ALLOW
    )
    rng = random.Random(7)
    products = Product.objects.bulk_create(
        (
            Product(
                shop=shop,
                platform_id=7_000_000_000 + i,
                handle=f"product-{i}",
                title=f"Product {i}",
                product_type=f"Type {i % 40}",
                vendor=f"Vendor {i % 25}",
                tags=[f"tag-{i % 97}", f"tag-{i % 13}"],
                restock_date=date(2027, 3, 1) if i % 3 == 0 else None,
            )
            for i in range(PRODUCTS)
        ),
        batch_size=5000,
    )
    variants = []
    for product in products:
        for n in range(2):
            available = rng.choice([0, 0, 2, 10, 50])
            variants.append(
                Variant(
                    shop=shop,
                    product=product,
                    platform_id=product.platform_id * 10 + n,
                    sku=f"{product.handle}-{n}",
                    title=("Small", "Large")[n],
                    price="19.99",
                    available=available,
                    inventory_policy=rng.choice(["continue", "deny"]),
                    backorder_limit=rng.choice([None, 10]),
                )
            )
    Variant.objects.bulk_create(variants, batch_size=5000)
    connection.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    paths = []
    for i in rng.sample(range(PRODUCTS), 2000):
        ref = f"product-{i}" if i % 2 else str(7_000_000_000 + i)
        lang = "?lang=de" if i % 4 < 2 else ""
        paths.append(f"/api/v1/storefront/{SHOP}/products/{ref}/availability{lang}")
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [str(gunicorn), "config.wsgi:application", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
        + ["--log-level", "warning", "--timeout", "60"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def _client_process(port: int, paths: list[str], seconds: float, threads: int, seed: int, out) -> None:
    import http.client

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(seed * 100 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        own: list[float] = []
        seen: dict[int, int] = {}
        while time.monotonic() < stop:
            path = rng.choice(paths)
            headers = {"X-Forwarded-For": f"10.{rng.randrange(20)}.{rng.randrange(250)}.1"}
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            own.append(time.perf_counter() - started)
            seen[response.status] = seen.get(response.status, 0) + 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        with lock:
            latencies.extend(own)
            for code, count in seen.items():
                statuses[code] = statuses.get(code, 0) + count

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put((latencies, statuses))


def run_load(port: int, paths: list[str], *, seconds: float, connections: int, processes: int) -> dict:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    per = max(1, connections // processes)
    began = time.monotonic()
    children = [
        multiprocessing.Process(target=_client_process, args=(port, paths, seconds, per, seed, queue))
        for seed in range(processes)
    ]
    for child in children:
        child.start()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    for _ in children:
        own, seen = queue.get()
        latencies += own
        for code, count in seen.items():
            statuses[code] = statuses.get(code, 0) + count
    for child in children:
        child.join()
    elapsed = time.monotonic() - began
    cut = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / elapsed,
        "p50": cut[49] * 1000,
        "p99": cut[98] * 1000,
        "requests": len(latencies),
        "statuses": statuses,
    }


def clear_cache_keys() -> int:
    import redis

    client = redis.Redis.from_url(CACHE)
    keys = list(client.scan_iter(match="*throttle_storefront_*", count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()

    started = time.monotonic()
    paths = prepare_database()
    seeded = time.monotonic() - started
    clear_cache_keys()
    scenarios = [("availability", paths), ("bare", ["/bench/bare"])]
    port = free_port()
    server = start_gunicorn(port, args.workers)
    runs: dict[str, list[dict]] = {name: [] for name, _ in scenarios}
    load = {"connections": args.connections, "processes": args.processes}
    try:
        for _name, targets in scenarios:
            run_load(port, targets, seconds=args.warmup, **load)
        # Rounds interleave the endpoints, so that a noisy neighbour does not favour one.
        for _ in range(args.rounds):
            for name, targets in scenarios:
                runs[name].append(run_load(port, targets, seconds=args.seconds, **load))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    clear_cache_keys()
    if not args.keep:
        import psycopg
        from django.db import connection

        connection.close()
        url = ENV["DATABASE_URL"]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    print(
        f"{PRODUCTS} products ({2 * PRODUCTS} variants, seeded in {seeded:.0f} s); gunicorn {args.workers} "
        f"sync workers; {args.connections} connections from {args.processes} processes; "
        f"{args.rounds} rounds of {args.seconds:g} s per endpoint; {os.cpu_count()} CPUs"
    )
    print(f"{'endpoint':<13} {'round':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9}  statuses")
    medians = {}
    for name, rounds in runs.items():
        for n, r in enumerate(rounds, start=1):
            codes = json.dumps(dict(sorted(r["statuses"].items())))
            figures = f"{r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['requests']:>9}"
            print(f"{name:<13} {n:>5} {figures}  {codes}")
        medians[name] = {key: statistics.median(r[key] for r in rounds) for key in ("rps", "p50", "p99")}
        m = medians[name]
        print(f"{name:<13} {'med':>5} {m['rps']:>8.0f} {m['p50']:>8.2f} {m['p99']:>8.2f}")
    ratio = medians["availability"]["rps"] / medians["bare"]["rps"]
    print(f"availability / bare = {ratio:.2f}")
    ok = ratio >= TARGET_RATIO and medians["availability"]["p99"] < TARGET_P99_MS
    print(
        f"target (availability >= {TARGET_RATIO} x bare, p99 < {TARGET_P99_MS:g} ms): "
        f"{'met' if ok else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
