"""Webhook ingest under gunicorn (2 workers) on PostgreSQL, with the Redis broker up.

    PYTHONPATH=. .venv/bin/python bench/webhooks_ingest.py [--rounds 3] [--seconds 4] [--connections 4]

Four endpoints of one server, each warmed up, then measured in interleaved rounds (medians):

* new        signed ``orders/create`` deliveries, each with its own webhook id: verified,
             stored, processing enqueued on Redis (no worker runs: ingest only);
* duplicate  the same delivery again and again (answered from the unique constraint);
* bare       a bench-only view that reads the body and answers JSON;
* insert     a bench-only view that INSERTs the body and commits: the floor for receiving durably.

Prints requests/second, p50 and p99 latency of each, the CPU time one request costs the web
workers and PostgreSQL (from /proc), and the ratios to the INSERT baseline (target:
new ≥ 0.8 × insert, p99 < 50 ms). Load comes from ``wrk`` when installed
(``apt-get install wrk``), else from Python threads. Uses its own database
(``backorders_bench_webhooks``, recreated each run) and Redis database 14 (its queue is emptied
at the end). Persistent database connections (CONN_MAX_AGE=600), as in production.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "backorders_bench_webhooks"
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
SECRET = "bench-client-secret"
SHOP = "bench-ingest.myshopify.com"
BODY = ROOT / "tests" / "fixtures" / "shopify" / "orders_create.json"
TARGET_RATIO, TARGET_P99_MS = 0.8, 50.0

ENV = {
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"),
    "CELERY_BROKER_URL": BROKER,
    "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only",
    "SHOPIFY_API_SECRET": SECRET,
    "DJANGO_SETTINGS_MODULE": "bench.webhooks_ingest_site.settings",
    "CONN_MAX_AGE": "600",
    "LOG_LEVEL": "WARNING",
    "DEBUG": "false",
}

LUA = """
local f = io.open("{body}", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
{headers}
local threads = {{}}
local counter = 0
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function request()
  if {unique} then
    counter = counter + 1
    wrk.headers["X-Shopify-Webhook-Id"] = "{run}-" .. tid .. "-" .. counter
  end
  return wrk.format(nil, "{path}")
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def prepare_database() -> None:
    import psycopg

    url = ENV["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(ENV)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from backorders.models import Shop
    from bench.webhooks_ingest_site.views import CREATE_TABLE

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    Shop.objects.create(domain=SHOP, name="Bench", owner_email="owner@bench.test")
    connection.close()


def broker_reachable() -> bool:
    host, port = BROKER.split("//", 1)[1].split("/", 1)[0].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [str(gunicorn), "config.wsgi:application", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
        + ["--log-level", "warning", "--timeout", "60"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare", data=b"{}", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def signed_headers(body: bytes, *, webhook_id: str) -> dict[str, str]:
    from backorders.platforms.shopify.verification import webhook_signature

    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": webhook_signature(secret=SECRET, body=body),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-02T17:00:00.123Z",
    }


def run_wrk(
    port: int, path: str, headers: dict[str, str], *, unique: bool, seconds: float, connections: int
) -> dict:
    lua = LUA.format(
        body=BODY,
        headers="\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()),
        unique="true" if unique else "false",
        run=uuid.uuid4().hex[:12],
        path=path,
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        output = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "-s", script.name]
            + [f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50": raw["p50_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        "errors": raw["errors"],
    }


def run_threads(
    port: int, path: str, headers: dict[str, str], *, unique: bool, seconds: float, connections: int
) -> dict:
    import http.client

    body = BODY.read_bytes()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        own, count = [], 0
        while time.monotonic() < stop:
            count += 1
            sent = dict(headers)
            if unique:
                sent["X-Shopify-Webhook-Id"] = f"py-{n}-{count}-{uuid.uuid4().hex[:6]}"
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers=sent)
            response = conn.getresponse()
            response.read()
            own.append(time.perf_counter() - started)
            if response.status >= 300:
                with lock:
                    errors[0] += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        with lock:
            latencies.extend(own)

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    cut = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / elapsed,
        "p50": cut[49] * 1000,
        "p99": cut[98] * 1000,
        "requests": len(latencies),
        "errors": errors[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()
    if not broker_reachable():
        raise SystemExit(
            f"The broker ({BROKER}) is not reachable: this benchmark measures ingest with it up."
        )

    prepare_database()
    _queue_length_and_clear()  # leftovers of an interrupted run
    body = BODY.read_bytes()
    dup_headers = signed_headers(body, webhook_id="bench-duplicate")
    scenarios = [
        ("new", "/webhooks/shopify", signed_headers(body, webhook_id="placeholder"), True),
        ("duplicate", "/webhooks/shopify", dup_headers, False),
        ("bare", "/bench/bare", {"Content-Type": "application/json"}, False),
        ("insert", "/bench/insert", {"Content-Type": "application/json"}, False),
    ]
    load = run_wrk if shutil.which("wrk") else run_threads
    port = free_port()
    server = start_gunicorn(port)
    runs: dict[str, list[dict]] = {name: [] for name, *_ in scenarios}
    try:
        for _name, path, headers, unique in scenarios:
            load(port, path, headers, seconds=args.warmup, unique=unique, connections=args.connections)
        # Rounds that interleave the endpoints, so that a noisy neighbour on the machine does not
        # favour one of them; each figure is the median over the rounds.
        for _ in range(args.rounds):
            for name, path, headers, unique in scenarios:
                before = cpu_seconds(server.pid)
                run = load(
                    port, path, headers, seconds=args.seconds, unique=unique, connections=args.connections
                )
                after = cpu_seconds(server.pid)
                for side in ("web", "db"):
                    run[side] = (after[side] - before[side]) / max(run["requests"], 1) * 1e6
                runs[name].append(run)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    results = {
        name: {
            key: statistics.median(run[key] for run in rounds) for key in ("rps", "p50", "p99", "web", "db")
        }
        | {"requests": sum(run["requests"] for run in rounds), "errors": sum(run["errors"] for run in rounds)}
        for name, rounds in runs.items()
    }

    from django.db import connection

    from backorders.models import WebhookDelivery

    stored = WebhookDelivery.objects.count()
    queued = _queue_length_and_clear()
    connection.close()
    if not args.keep:
        import psycopg

        url = ENV["DATABASE_URL"]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    client = "wrk" if load is run_wrk else "Python threads"
    print(
        f"gunicorn 2 sync workers, {args.connections} connections, "
        f"{args.rounds} rounds of {args.seconds:g} s per endpoint (medians), "
        f"client {client}, body {len(body)} bytes, {os.cpu_count()} CPUs"
    )
    print(
        f"{'endpoint':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'non-2xx':>8}"
        f" {'web CPU us/req':>15} {'db CPU us/req':>14}"
    )
    for name, r in results.items():
        figures = f"{r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['requests']:>9} {r['errors']:>8}"
        print(f"{name:<10} {figures} {r['web']:>15.0f} {r['db']:>14.0f}")
    insert, bare = results["insert"]["rps"], results["bare"]["rps"]
    for name in ("new", "duplicate"):
        rps = results[name]["rps"]
        print(f"{name} / insert = {rps / insert:.2f}   {name} / bare = {rps / bare:.2f}")
    print(f"insert / bare = {insert / bare:.2f}")
    print(f"deliveries stored: {stored}; processing tasks queued on the broker: {queued}")
    ok = results["new"]["rps"] >= TARGET_RATIO * insert and results["new"]["p99"] < TARGET_P99_MS
    print(
        f"target (new >= {TARGET_RATIO} x insert, p99 < {TARGET_P99_MS:g} ms): {'met' if ok else 'NOT met'}"
    )


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time used so far by the gunicorn master and its workers ("web") and by every
    PostgreSQL process on the machine ("db"), from /proc (zeros where there is none): where a
    request's cost goes, which the throughput figures alone do not tell."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    used = {"web": 0.0, "db": 0.0}
    proc = Path("/proc")
    if not proc.is_dir():
        return used
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()  # fields from the 3rd (state) on
        pid, ppid, cpu = int(entry.name), int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
        if server_pid in (pid, ppid):
            used["web"] += cpu
        elif name == "postgres":
            used["db"] += cpu
    return used


def _queue_length_and_clear() -> int:
    """Tasks waiting in the bench's own Redis database, which is then emptied of them."""
    import redis

    client = redis.Redis.from_url(BROKER)
    length = client.llen("celery")
    client.delete("celery")
    return int(length)


if __name__ == "__main__":
    main()
