"""Real Celery workers on Redis (the database REDIS_URL names): end to end from a signed webhook,
worker crashes, and a broker that is down when the change commits.

In-process workers (``celery.contrib.testing.worker``) share the test's database, whatever it is;
the crash tests start ``celery -A config worker`` subprocesses against the PostgreSQL test
database and SIGKILL them, so they need PostgreSQL.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django.utils import timezone

from backorders.models import Notification
from backorders.platforms.shopify.verification import webhook_signature
from backorders.services.notifications.outbox import notifications_sweep
from config.celery import app as celery_app
from tests.conftest import REDIS_URL, RESTOCK, celery_broker

BROKER = REDIS_URL  # a Redis database of its own (REDIS_URL; CI gives the suite one)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "shopify"
ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def redis_app():
    """The Celery app publishing to a clean Redis database (not eagerly) for the test."""
    import redis

    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    with celery_broker(celery_app, BROKER):
        yield celery_app
    client.flushdb()


@contextmanager
def thread_worker(app):
    """One real worker (solo pool) in a thread of this process, consuming from Redis."""
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.mark.smoke
def test_a_signed_webhook_reaches_the_customer_through_a_real_worker(shop, make_variant, redis_app, browser):
    """Smoke: platform webhook → worker processes the order → outbox row → worker sends it."""
    shop.webhook_secret = "shpss_e2e_secret"
    shop.save()
    variant = make_variant(
        stock=0,
        inventory_policy="continue",
        restock_date=RESTOCK,
        platform_id=44012345678901,
        sku="MUG-BLUE",
        product__title="Ceramic Mug",
    )
    body = (FIXTURES / "orders_create.json").read_bytes()
    with thread_worker(redis_app):
        response = browser.post(
            "/webhooks/shopify",
            data=body,
            content_type="application/json",
            HTTP_X_SHOPIFY_TOPIC="orders/create",
            HTTP_X_SHOPIFY_HMAC_SHA256=webhook_signature(secret=shop.webhook_secret, body=body),
            HTTP_X_SHOPIFY_SHOP_DOMAIN=shop.domain,
            HTTP_X_SHOPIFY_API_VERSION="2025-07",
            HTTP_X_SHOPIFY_WEBHOOK_ID=str(uuid.uuid4()),
        )
        assert response.status_code == 200
        wait_for(lambda: mail.outbox, what="the confirmation email")
        row = wait_for(lambda: Notification.objects.filter(status="sent").first(), what="the row sent")
    [message] = mail.outbox
    assert message.to == ["jane.doe@example.com"]
    assert (
        message.subject == "Acme: Artikel Ihrer Bestellung #1001 werden nachgeliefert"
    )  # customer_locale "de"
    assert "2 × Ceramic Mug (MUG-BLUE)" in message.body
    assert (row.kind, row.order.number, row.attempts) == ("confirmation", "#1001", 1)
    assert variant.backorders.get().quantity == 2


def test_with_the_broker_down_the_change_commits_and_the_sweeper_sends_once_it_is_back(variant, place):
    with celery_broker(celery_app, "redis://127.0.0.1:1/0"):  # nothing listens there
        order = place({variant: 1}, accepted=True)  # commits; the enqueue after commit fails quietly
    row = Notification.objects.get(order=order)
    assert row.status == "pending" and order.backorders.count() == 1
    assert mail.outbox == []

    import redis

    redis.Redis.from_url(BROKER).flushdb()
    with celery_broker(celery_app, BROKER), thread_worker(celery_app):
        with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=True):
            assert notifications_sweep()["enqueued"] == 1  # beat's run, once the broker is back
        wait_for(lambda: mail.outbox, what="the email")
        wait_for(lambda: Notification.objects.get(pk=row.pk).status == "sent", what="the row sent")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [order.email]


# --- Worker crashes: subprocess workers SIGKILLed at chosen moments --------------------------------


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("worker subprocesses need a database they can share (PostgreSQL)")
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return (
        f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )


@pytest.fixture
def worker_processes(tmp_path):
    """Start ``celery -A config worker`` subprocesses (solo pool) that record emails to files."""
    started: list[subprocess.Popen] = []
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()

    def start(**env_extra: str) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.services.notifications.worker_settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": BROKER,
            "SECRET_KEY": os.environ.get("SECRET_KEY", "x"),
            "EMAIL_RECORD_DIR": str(mail_dir),
            "PYTHONPATH": str(ROOT),
            **env_extra,
        }
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1"]
        command += ["--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel=INFO"]
        command += [f"--hostname=emails-{uuid.uuid4().hex[:8]}@%h"]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        process.log_path = tmp_path / f"worker-{len(started)}.log"  # type: ignore[attr-defined]
        started.append(process)
        wait_for(
            lambda: b"ready." in process.log_path.read_bytes() or process.poll() is not None, what="worker"
        )
        assert process.poll() is None, process.log_path.read_text()
        return process

    start.mail_dir = mail_dir  # type: ignore[attr-defined]
    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def sent_files(directory: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]


@pytest.mark.postgres
def test_a_worker_killed_before_it_reaches_the_provider_is_redelivered_and_sends_once(
    variant, place, redis_app, worker_processes, tmp_path
):
    marker = tmp_path / "kill-before-task"
    marker.touch()
    first = worker_processes(EMAIL_KILL_BEFORE_TASK=str(marker))
    order = place({variant: 1}, accepted=True)  # commits and enqueues the send task
    assert first.wait(timeout=30) == -signal.SIGKILL  # died as the task started: nothing claimed
    row = Notification.objects.get(order=order)
    assert (row.status, row.attempts) == ("pending", 0)
    assert sent_files(worker_processes.mail_dir) == []

    worker_processes()  # a fresh worker: Redis gives the unacknowledged task back
    wait_for(lambda: Notification.objects.get(pk=row.pk).status == "sent", what="the redelivered send")
    [message] = sent_files(worker_processes.mail_dir)
    assert message["to"] == [order.email]
    assert message["metadata"] == {"notification": str(row.pk), "shop": "acme.myshopify.com"}
    time.sleep(4)  # past the visibility timeout: nothing else comes back
    assert len(sent_files(worker_processes.mail_dir)) == 1
    assert Notification.objects.get(pk=row.pk).attempts == 1


@pytest.mark.postgres
def test_a_worker_killed_after_claiming_leaves_one_email_and_an_unknown_row_never_resent(
    variant, place, redis_app, worker_processes, tmp_path
):
    marker = tmp_path / "kill-after-send"
    marker.touch()
    first = worker_processes(EMAIL_KILL_AFTER_SEND=str(marker))
    order = place({variant: 1}, accepted=True)
    assert first.wait(timeout=30) == -signal.SIGKILL  # the provider took it, the row never heard
    row = Notification.objects.get(order=order)
    assert row.status == "sending"
    assert len(sent_files(worker_processes.mail_dir)) == 1

    second = worker_processes()  # the task is redelivered: it finds the row claimed and stops
    wait_for(lambda: b"succeeded" in second.log_path.read_bytes(), what="the redelivered task")
    assert b"'skipped'" in second.log_path.read_bytes()
    assert Notification.objects.get(pk=row.pk).status == "sending"
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert notifications_sweep()["unknown"] == 1  # shown to the owner, never resent
        assert notifications_sweep() == {"unknown": 0, "enqueued": 0, "pending": 0}
    row.refresh_from_db()
    assert row.status == "unknown"
    time.sleep(2)
    assert len(sent_files(worker_processes.mail_dir)) == 1
