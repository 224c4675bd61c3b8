import os
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection

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
