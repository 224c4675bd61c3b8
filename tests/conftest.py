import json
import os
import socket
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from backorders.platforms.shopify.verification import webhook_signature

IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
# Debian's chromium: `playwright install` downloads a browser build, which CI cannot fetch.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run here)")
    pytest.skip(reason)


def browser_missing() -> str:
    """Why the browser tests cannot run here, or "" when they can."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the playwright package (pip install -c constraints.txt playwright)"
    return ""


def redis_reachable(url: str = REDIS_URL) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _service_markers(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _unavailable("needs PostgreSQL: run with DATABASE_URL=postgres://… (see README)")
    if request.node.get_closest_marker("redis") and not redis_reachable():
        _unavailable(f"needs Redis at {REDIS_URL}")
    if request.node.get_closest_marker("browser") and (reason := browser_missing()):
        _unavailable(reason)


@pytest.fixture(autouse=True)
def _fresh_email_batch():
    """Each test starts without the email batch of an earlier test's rolled-back transaction
    (in a process, the next commit's flush replaces it; a test's rollback never commits)."""
    yield
    from django.db import connections

    from backorders.services.notifications.batch import Batch

    for connection_ in connections.all(initialized_only=True):
        if hasattr(connection_, Batch._ATTR):
            delattr(connection_, Batch._ATTR)


@pytest.fixture(autouse=True)
def _no_confirmation_grace(request: pytest.FixtureRequest, settings) -> None:
    """Confirmations leave at once in tests about something else; the tests of the grace period
    itself (marked ``default_grace``) run with the default (60 s)."""
    if not request.node.get_closest_marker("default_grace"):
        settings.BACKORDERS = {**getattr(settings, "BACKORDERS", {}), "CONFIRMATION_GRACE_SECONDS": 0}


@pytest.fixture
def shop(db):
    from tests.factories import ShopFactory

    return ShopFactory(domain="acme.myshopify.com", name="Acme", owner_email="owner@acme.test")


@pytest.fixture
def make_variant(shop):
    """A variant of ``shop`` with ``stock`` available at the default location and a policy."""
    from backorders.services.audit import Actor
    from backorders.services.stock import stock_set_available
    from tests.factories import ProductFactory, VariantFactory

    def make(stock: int = 0, **fields):
        product_fields = {
            k.removeprefix("product__"): fields.pop(k) for k in list(fields) if k.startswith("product__")
        }
        variant = VariantFactory(product=ProductFactory(shop=shop, **product_fields), **fields)
        if stock:
            stock_set_available(variant=variant, available=stock, actor=Actor.system("test"))
        return fresh(variant)

    return make


def fresh(variant):
    from backorders.models import Variant

    return Variant.objects.select_related("product", "shop").get(pk=variant.pk)


@pytest.fixture
def place(shop):
    """Record an order of ``{variant: quantity}`` (or [(variant, qty), …]); returns the Order."""
    from backorders.services.audit import Actor
    from backorders.services.checkout import LineInput, order_record
    from tests.factories import at, next_id

    counter = iter(range(1, 1_000_000))

    def place_order(items, *, accepted=False, order_id=None, minute=None, **kwargs):
        n = next(counter)
        pairs = items.items() if isinstance(items, dict) else items
        lines = [
            LineInput(platform_id=order_id * 100 + i if order_id else next_id(), variant_id=v.pk, quantity=q)
            for i, (v, q) in enumerate(pairs)
        ]
        return order_record(
            shop=shop,
            platform_id=order_id or next_id(),
            number=f"#{1000 + n}",
            email=f"customer{n}@example.com",
            placed_at=at(minute if minute is not None else n),
            lines=lines,
            actor=Actor.platform("orders/create") if accepted else Actor.store("checkout"),
            accepted=accepted,
            **kwargs,
        )

    return place_order


def assert_invariants(variant):
    """The stock invariants of ``variant``: counters match the rows, allocation never exceeds what
    came in, no free stock while someone waits, strict arrival order. Returns it fresh."""
    from backorders.models import Backorder

    variant = fresh(variant)
    open_backorders = list(
        Backorder.objects.filter(variant=variant, status__in=Backorder.Status.open()).order_by(
            "queued_at", "pk"
        )
    )
    waiting = sum(b.quantity - b.quantity_allocated for b in open_backorders)
    allocated = sum(b.quantity_allocated for b in open_backorders)
    assert (variant.units_waiting, variant.units_allocated) == (waiting, allocated)
    # Allocated units never exceed the stock on hand for backordered demand.
    assert allocated == 0 or variant.available + waiting >= 0
    # No stock left unallocated while someone waits.
    assert waiting == 0 or variant.available <= 0
    # Strict arrival order: nobody holds units while an earlier line is incomplete.
    incomplete_before = False
    for backorder in open_backorders:
        assert not (incomplete_before and backorder.quantity_allocated)
        incomplete_before |= backorder.quantity_allocated < backorder.quantity
        assert (backorder.status == "allocated") == (backorder.quantity_allocated == backorder.quantity)
    return variant


class celery_broker:  # noqa: N801  (used like a function)
    """Publish to ``url`` (not eagerly) inside the block; restore the app afterwards."""

    def __init__(self, app, url):
        self.app, self.url = app, url

    def __enter__(self):
        conf = self.app.conf
        self.saved = (conf.broker_url, conf.task_always_eager)
        conf.broker_url, conf.task_always_eager = self.url, False
        self._reset_pools()

    def __exit__(self, *exc):
        self.app.conf.broker_url, self.app.conf.task_always_eager = self.saved
        self._reset_pools()

    def _reset_pools(self):
        # Drop the app's references only: kombu's pools are shared, keyed by broker URL.
        self.app._pool = None
        self.app.amqp._producer_pool = None


# --- Customer emails: backordered orders, a commit that runs the tasks, fake providers ---

RESTOCK = date(2027, 3, 1)  # manual restock date; ETA = restock + 1 handling day
ETA = date(2027, 3, 2)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit():`` runs the on-commit callbacks at the end (the send tasks run eagerly)."""

    def context():
        return django_capture_on_commit_callbacks(execute=True)

    return context


@pytest.fixture
def variant(make_variant):
    """A backorderable variant with no stock and a manual restock date."""
    return make_variant(stock=0, inventory_policy="continue", restock_date=RESTOCK, product__title="Blue Mug")


@pytest.fixture
def make_backordered(make_variant):
    def make(title: str = "Mug", **fields):
        return make_variant(
            stock=0, inventory_policy="continue", restock_date=RESTOCK, product__title=title, **fields
        )

    return make


@pytest.fixture
def flaky(settings):
    """The fake provider: ``flaky.errors`` are raised one per message, then messages go to
    ``mail.outbox``."""
    from tests.services.notifications.backends import FlakyBackend

    settings.EMAIL_BACKEND = "tests.services.notifications.backends.FlakyBackend"
    FlakyBackend.errors = []
    yield FlakyBackend
    FlakyBackend.errors = []


@pytest.fixture
def postmark(settings, monkeypatch):
    """The real anymail Postmark backend, with the HTTP boundary (``requests``) replaced:
    ``postmark.responses`` are consumed one per API call (an HTTP status, or an exception to
    raise); an empty queue answers 200. ``postmark.calls`` holds the JSON payloads posted."""
    import json
    import types
    import uuid

    import requests

    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token"}
    state = types.SimpleNamespace(responses=[], calls=[])

    def request(session, method, url, **kwargs):
        payload = json.loads(kwargs.get("data") or "{}")
        state.calls.append(payload)
        outcome = state.responses.pop(0) if state.responses else 200
        if isinstance(outcome, BaseException):
            raise outcome
        response = requests.Response()
        response.status_code, response.url, response.reason = outcome, url, "Test"
        response.headers["Content-Type"] = "application/json"
        if outcome == 200:
            body = {
                "To": payload.get("To", ""),
                "SubmittedAt": "2026-11-26T16:00:00Z",
                "MessageID": str(uuid.uuid4()),
                "ErrorCode": 0,
                "Message": "OK",
            }
        elif outcome == 422:
            body = {
                "ErrorCode": 406,
                "Message": "You tried to send to a recipient that has been marked as inactive.\n"
                f"Found inactive addresses: {payload.get('To', '').lower()}.\n"
                "Inactive recipients are ones that have generated a hard bounce or a spam complaint.",
            }
        else:
            body = {"ErrorCode": 100, "Message": "Error"}
        response._content = json.dumps(body).encode()
        return response

    monkeypatch.setattr(requests.Session, "request", request)
    return state


class HttpsClient(Client):
    """A test client whose every request arrives over HTTPS, as production traffic does."""

    def generic(self, method, path, *args, **kwargs):
        kwargs["secure"] = True
        return super().generic(method, path, *args, **kwargs)


@pytest.fixture
def browser():
    return HttpsClient()


# --- Platform webhooks: posted through the real URL, signed exactly as the platform signs them ---

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shopify"
SECRET = "test-client-secret"
OLD_SECRET = "old-client-secret"
URL = "/webhooks/shopify"


def fixture_bytes(name: str) -> bytes:
    """A fixture's exact bytes (what the platform would post)."""
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture(name: str) -> dict:
    return json.loads(fixture_bytes(name))


def headers_for(
    body: bytes, *, topic: str, shop: str, secret: str = SECRET, **extra: str | None
) -> dict[str, str]:
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": webhook_signature(secret=secret, body=body),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-02T17:00:00.123456789Z",
    }
    headers.update(extra)
    return {key: value for key, value in headers.items() if value is not None}


@pytest.fixture
def app_secrets(settings):
    """The app's webhook secrets set (autouse under tests/platforms/shopify/)."""
    settings.SHOPIFY_API_SECRET = SECRET
    settings.SHOPIFY_API_SECRET_PREVIOUS = OLD_SECRET
    cache.clear()  # the refused-request counters


@pytest.fixture
def deliver(client, shop, django_capture_on_commit_callbacks):
    """Post ``payload`` (a fixture name, a dict, or raw bytes) for ``topic``, signed; by default
    the after-commit callbacks run (the eager Celery task processes the delivery)."""

    def send(
        topic: str,
        payload: str | dict | list | bytes,
        *,
        process: bool = True,
        path: str = URL,
        secret: str = SECRET,
        shop_domain: str | None = None,
        headers: dict[str, str | None] | None = None,
    ):
        if isinstance(payload, bytes):
            body = payload
        elif isinstance(payload, str):
            body = fixture_bytes(payload)
        else:
            body = json.dumps(payload).encode()
        sent = headers_for(
            body, topic=topic, shop=shop_domain or shop.domain, secret=secret, **(headers or {})
        )
        with django_capture_on_commit_callbacks(execute=process):
            return client.post(path, data=body, content_type="application/json", headers=sent)

    return send


@pytest.fixture
def fake_platform():
    """The test-only second platform (tests/fake_platform), registered for one test."""
    from backorders.services.webhooks.registry import platform_register, platform_unregister
    from tests.fake_platform import PLATFORM

    platform_register(platform=PLATFORM)
    yield PLATFORM
    platform_unregister(name=PLATFORM.name)


@pytest.fixture
def many_backorders(shop):
    """``make(n)`` writes ``n`` backorders of ``shop`` (100 variants, 20 lines an order, ages up
    to 100 days, a mix of statuses, ETAs and flags) with one created event each, by bulk_create:
    for query ceilings at scale, not for behaviour."""
    from datetime import timedelta

    from django.utils import timezone

    from backorders.models import Backorder, Event, Order, OrderLine
    from tests.factories import ProductFactory, VariantFactory

    def make(n: int) -> int:
        now = timezone.now()
        today = timezone.localdate(timezone=shop.zoneinfo)
        variants = [VariantFactory(product=ProductFactory(shop=shop)) for _ in range(100)]
        per_order = 20
        orders = Order.objects.bulk_create(
            Order(
                shop=shop,
                platform_id=9_000_000 + i,
                number=f"#{100000 + i}",
                email=f"c{i}@example.com",
                customer_name=f"Customer {i}",
                placed_at=now - timedelta(days=i % 100),
            )
            for i in range(n // per_order)
        )
        lines = OrderLine.objects.bulk_create(
            OrderLine(
                shop=shop,
                order=orders[i // per_order],
                platform_id=i,
                variant=variants[i % 100],
                title="x",
                quantity=2,
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
        return len(backorders)

    return make


@pytest.fixture
def attention_queue(shop, make_variant, place):
    """Five backorders of ``shop``: two overdue (one of them with only a promised date), one
    flagged, one allocated, one cancelled by the owner (to settle); a failed and an unknown
    email, one failed webhook delivery."""
    from datetime import timedelta

    from django.utils import timezone

    from backorders.models import Backorder, Notification, WebhookDelivery
    from backorders.services.audit import Actor
    from backorders.services.lifecycle import backorder_cancel
    from backorders.services.stock import stock_set_available

    mug = make_variant(stock=0, inventory_policy="continue", sku="MUG-1", product__title="Red mug")
    cap = make_variant(stock=0, inventory_policy="continue", sku="CAP-1", product__title="Blue cap")
    orders = [place({mug: 2}), place({mug: 1}), place({cap: 3}), place({cap: 1}), place({mug: 4})]
    by_order = {o.pk: Backorder.objects.get(order=o) for o in orders}
    first, second, third, fourth, fifth = (by_order[o.pk] for o in orders)
    today = timezone.localdate(timezone=shop.zoneinfo)
    Backorder.objects.filter(pk=first.pk).update(eta=today - timedelta(days=3))
    Backorder.objects.filter(pk=second.pk).update(eta=None, promised_eta=today - timedelta(days=1))
    Backorder.objects.filter(pk=third.pk).update(flagged=True, flag_reason="The product was deleted.")
    Backorder.objects.filter(pk=fourth.pk).update(eta=today + timedelta(days=5))
    backorder_cancel(backorder=fifth, actor=Actor.admin("owner"), reason="Changed their mind")
    # available = on hand − committed: −1 covers 3 of the 4 waiting units (the third, in full)
    stock_set_available(variant=cap, available=-1, actor=Actor.system("test"))
    for status in ("failed", "unknown"):
        Notification.objects.create(
            shop=shop,
            kind="confirmation",
            recipient=f"{status}@example.com",
            dedupe_key=status,
            due_at=timezone.now(),
            status=status,
        )
    WebhookDelivery.objects.create(shop=shop, topic="orders/create", webhook_id="w-1", status="failed")
    return {
        "overdue": {first.pk, second.pk},
        "flagged": third.pk,
        "ahead": fourth.pk,
        "cancelled": fifth.pk,
        "mug": mug,
        "cap": cap,
        "today": today,
    }
