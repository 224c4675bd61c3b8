"""Receiving: storing a verified delivery once, and handing it to the broker after commit."""

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from queue import Empty, SimpleQueue
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.utils import timezone

from backorders.models import Shop, WebhookDelivery

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status


class _Dispatcher:
    """Hands new delivery ids to the broker from a background thread of the web process, many ids
    per message, so that a webhook request does not pay for a broker publish of its own.

    One per process (started lazily, again after a fork). Losing its queue (the process dies
    right after answering) loses nothing: the rows stay ``received`` and the sweeper enqueues them.
    """

    batch = 500
    # After the first id, wait this long for more, so that under load one message carries many
    # ids: a publish costs ~1 ms of CPU in Celery and kombu, and holds the GIL while request
    # threads wait for it (measured by bench/webhooks_ingest.py: 20 ms → 270 req/s, 100 ms → 470).
    linger = 0.1

    def __init__(self) -> None:
        self._queue: SimpleQueue[int] = SimpleQueue()
        self._pid = 0
        self._lock = threading.Lock()

    def put(self, delivery_id: int) -> None:
        if self._pid != os.getpid():
            self._start()
        self._queue.put(delivery_id)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._queue = SimpleQueue()  # a forked child does not inherit its parent's ids
            threading.Thread(
                target=self._run, args=(self._queue,), name="webhook-dispatcher", daemon=True
            ).start()
            self._pid = os.getpid()

    def _run(self, queue: "SimpleQueue[int]") -> None:
        while True:
            first = queue.get()
            time.sleep(self.linger)
            self.flush(queue, first=first)

    def flush(self, queue: "SimpleQueue[int] | None" = None, *, first: int | None = None) -> int:
        """Publish the waiting ids (and ``first``) as one message; returns how many."""
        queue = queue or self._queue
        ids = [] if first is None else [first]
        while len(ids) < self.batch:
            try:
                ids.append(queue.get_nowait())
            except Empty:
                break
        if ids:
            from backorders.tasks import webhook_deliveries_dispatch_task

            try:
                webhook_deliveries_dispatch_task.delay(ids)
            except Exception:  # the broker is down: the sweeper enqueues these later
                logger.exception("could not enqueue %d webhook deliveries; the sweeper will", len(ids))
        return len(ids)


_dispatcher = _Dispatcher()
atexit.register(_dispatcher.flush)  # a graceful worker exit sends what it still holds


def _enqueue(delivery_ids: list[int], *, dispatcher: bool = True) -> None:
    """After commit, have the deliveries processed: at once when tasks run in-process (tests,
    demo), else through this process's dispatcher (a webhook request) or as one message (the
    sweeper). Never raises: the rows stay ``received`` for the sweeper whatever the broker does.
    """
    from backorders.tasks import webhook_deliveries_dispatch_task, webhook_delivery_process_task

    # Plain functions, not functools.partial: Django logs a robust callback's failure with
    # ``func.__qualname__``, which a partial lacks, so the AttributeError would escape after all.
    def process_webhook_deliveries() -> None:
        for delivery_id in delivery_ids:
            webhook_delivery_process_task.delay(delivery_id)

    def dispatch_webhook_deliveries() -> None:
        for delivery_id in delivery_ids:
            _dispatcher.put(delivery_id)

    def send_webhook_deliveries() -> None:
        webhook_deliveries_dispatch_task.delay(delivery_ids)

    if webhook_delivery_process_task.app.conf.task_always_eager:
        transaction.on_commit(process_webhook_deliveries, robust=True)
    elif dispatcher:
        transaction.on_commit(dispatch_webhook_deliveries, robust=True)
    else:
        transaction.on_commit(send_webhook_deliveries, robust=True)


def webhook_deliveries_enqueue(*, delivery_ids: list[int]) -> int:
    """Send one processing task per delivery (the dispatcher's batch, fanned out by a worker)."""
    from backorders.tasks import webhook_delivery_process_task

    for delivery_id in delivery_ids:
        webhook_delivery_process_task.delay(delivery_id)
    return len(delivery_ids)


def _delivery(
    *,
    shop_id: int,
    topic: str,
    webhook_id: str,
    body: str,
    event_id: str = "",
    api_version: str = "",
    triggered_at: datetime | None = None,
    status: str = Status.RECEIVED,
    last_error: str = "",
) -> WebhookDelivery:
    now = timezone.now()
    return WebhookDelivery(
        shop_id=shop_id,
        topic=topic[:100],
        webhook_id=webhook_id[:255],
        event_id=event_id[:255],
        api_version=api_version[:20],
        triggered_at=triggered_at,
        body=body,
        status=status,
        last_error=last_error,
        received_at=now,
        enqueued_at=now if status == Status.RECEIVED else None,
        processed_at=None if status == Status.RECEIVED else now,
    )


def webhook_delivery_record(*, shop_id: int, **fields: Any) -> int | None:
    """Store a verified delivery unless (shop, webhook id) is already stored; return its new id,
    or None for a duplicate (which changes nothing). A ``received`` delivery is enqueued for
    processing after commit. ``fields``: topic, webhook_id, body, event_id, api_version,
    triggered_at, status, last_error.

    One statement either way. Deliberately not wrapped in its own transaction: outside one (a
    webhook request) the INSERT commits by itself, which saves the BEGIN and COMMIT round trips
    on the hottest path; inside one it simply joins it.
    """
    delivery = _delivery(shop_id=shop_id, **fields)
    connection = connections[router.db_for_write(WebhookDelivery)]
    if connection.vendor in ("postgresql", "sqlite"):
        delivery_id = _insert_ignoring_duplicate(connection, delivery)
    else:  # pragma: no cover - other backends: a savepoint and the unique constraint
        delivery_id = _insert_or_none(delivery)
    if delivery_id is not None and delivery.status == Status.RECEIVED:
        _enqueue([delivery_id])
    return delivery_id


@dataclass(frozen=True)
class ShopCredentials:
    """What verifying a shop's webhook needs to know about the shop."""

    pk: int
    webhook_secret: str
    is_active: bool


@dataclass(frozen=True)
class Receipt:
    shop: ShopCredentials | None  # None: no shop has that domain
    delivery_id: int | None  # the new delivery's id; None if nothing was stored


def shop_credentials(*, domain: str) -> ShopCredentials | None:
    """The shop with platform domain ``domain`` (None if there is none): one query."""
    row = Shop.objects.filter(domain=domain).values_list("pk", "webhook_secret", "is_active").first()
    return ShopCredentials(*row) if row else None


def webhook_delivery_receive(*, domain: str, accept_inactive: bool, **fields: Any) -> Receipt:
    """Store a delivery whose signature verified with the app's own secret: for the shop with
    ``domain``, if that shop has no secret of its own (else the app's signature does not count
    for it) and is active (or ``accept_inactive``), unless already stored.

    One statement on PostgreSQL (find the shop and insert in one round trip, the hot path of a
    public app's webhooks); a lookup and ``webhook_delivery_record`` elsewhere. The returned
    shop lets the caller say why nothing was stored (unknown, own secret, inactive, duplicate).
    """
    connection = connections[router.db_for_write(WebhookDelivery)]
    if connection.vendor != "postgresql":
        shop = shop_credentials(domain=domain)
        if shop is None or shop.webhook_secret or not (shop.is_active or accept_inactive):
            return Receipt(shop, None)
        return Receipt(shop, webhook_delivery_record(shop_id=shop.pk, **fields))
    delivery = _delivery(shop_id=0, **fields)  # the shop's id comes from the statement itself
    meta, quote = WebhookDelivery._meta, connection.ops.quote_name
    shop_table = quote(Shop._meta.db_table)
    shop_pk, secret, active, domain_column = (
        quote(_column(Shop, name)) for name in ("id", "webhook_secret", "is_active", "domain")
    )
    columns = [f for f in meta.concrete_fields if not f.primary_key]
    values = [
        f"s.{shop_pk}" if f.attname == "shop_id" else _typed_placeholder(f, connection) for f in columns
    ]
    conflict = _conflict_target(connection)
    sql = (
        f"WITH s AS (SELECT {shop_pk}, {secret}, {active} FROM {shop_table} WHERE {domain_column} = %s), "
        f"ins AS (INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "
        f"SELECT {', '.join(values)} FROM s WHERE s.{secret} = '' AND (s.{active} OR %s::boolean) "
        f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {quote(meta.pk.column)}) "
        f"SELECT s.{shop_pk}, s.{secret}, s.{active}, (SELECT * FROM ins) FROM s"
    )
    params = [
        domain,
        *(
            f.get_db_prep_save(getattr(delivery, f.attname), connection)
            for f in columns
            if f.attname != "shop_id"
        ),
        accept_inactive,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return Receipt(None, None)
    receipt = Receipt(ShopCredentials(row[0], row[1], row[2]), row[3])
    if receipt.delivery_id is not None and delivery.status == Status.RECEIVED:
        _enqueue([receipt.delivery_id])
    return receipt


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field.column


def _conflict_target(connection: BaseDatabaseWrapper) -> str:
    """The columns of the unique (shop, webhook id) constraint."""
    quote = connection.ops.quote_name
    return f"{quote(_column(WebhookDelivery, 'shop'))}, {quote(_column(WebhookDelivery, 'webhook_id'))}"


def _typed_placeholder(field: Field, connection: BaseDatabaseWrapper) -> str:
    # In INSERT … SELECT, PostgreSQL does not infer a parameter's type from its column.
    # (``cast_db_type`` is Django's; django-stubs lacks it.)
    return f"%s::{field.cast_db_type(connection)}"  # type: ignore[attr-defined]


def _insert_ignoring_duplicate(connection: BaseDatabaseWrapper, delivery: WebhookDelivery) -> int | None:
    meta = WebhookDelivery._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({_conflict_target(connection)}) "
        f"DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    params = [f.get_db_prep_save(getattr(delivery, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def _insert_or_none(delivery: WebhookDelivery) -> int | None:  # pragma: no cover
    from django.db import IntegrityError

    try:
        with transaction.atomic():
            delivery.save(force_insert=True)
    except IntegrityError:
        return None
    return delivery.pk
