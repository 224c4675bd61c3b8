"""Receiving: storing a verified delivery once, and handing it to the broker after commit."""

import atexit
import functools
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

    if _celery_conf().task_always_eager:
        transaction.on_commit(process_webhook_deliveries, robust=True)
    elif dispatcher:
        transaction.on_commit(dispatch_webhook_deliveries, robust=True)
    else:
        transaction.on_commit(send_webhook_deliveries, robust=True)


@functools.cache
def _celery_conf() -> Any:
    """The Celery app's configuration, found once (through the task proxy it costs as much as
    the rest of enqueueing)."""
    from backorders.tasks import webhook_delivery_process_task

    return webhook_delivery_process_task._get_current_object().app.conf


def webhook_deliveries_enqueue(*, delivery_ids: list[int]) -> int:
    """Send one processing task per delivery (the dispatcher's batch, fanned out by a worker)."""
    from backorders.tasks import webhook_delivery_process_task

    for delivery_id in delivery_ids:
        webhook_delivery_process_task.delay(delivery_id)
    return len(delivery_ids)


def _row(
    *,
    topic: str,
    webhook_id: str,
    body: str,
    event_id: str = "",
    api_version: str = "",
    triggered_at: datetime | None = None,
    status: str = Status.RECEIVED,
    last_error: str = "",
) -> dict[str, Any]:
    """A new delivery's column values by field name (the shop's aside)."""
    now = timezone.now()
    received = status == Status.RECEIVED
    return {
        "topic": topic[:100],
        "webhook_id": webhook_id[:255],
        "event_id": event_id[:255],
        "api_version": api_version[:20],
        "triggered_at": triggered_at,
        "body": body,
        "status": status,
        "attempts": 0,
        "last_error": last_error,
        "received_at": now,
        "enqueued_at": now if received else None,
        "claimed_at": None,
        "processed_at": None if received else now,
    }


def webhook_delivery_record(*, shop_id: int, **fields: Any) -> int | None:
    """Store a verified delivery unless (shop, webhook id) is already stored; return its new id,
    or None for a duplicate (which changes nothing). A ``received`` delivery is enqueued for
    processing after commit. ``fields``: topic, webhook_id, body, event_id, api_version,
    triggered_at, status, last_error.

    One statement either way. Deliberately not wrapped in its own transaction: outside one (a
    webhook request) the INSERT commits by itself, which saves the BEGIN and COMMIT round trips
    on the hottest path; inside one it simply joins it.
    """
    row = _row(**fields) | {"shop_id": shop_id}
    connection = connections[router.db_for_write(WebhookDelivery)]
    if connection.vendor not in ("postgresql", "sqlite"):  # pragma: no cover
        # Other backends: a savepoint and the unique constraint.
        delivery_id = _insert_or_none(WebhookDelivery(**row))
        if delivery_id is not None and row["status"] == Status.RECEIVED:
            _enqueue([delivery_id])
        return delivery_id
    return _store(_insert_statement(connection.alias), row, connection)


@dataclass(frozen=True)
class ShopCredentials:
    """What verifying a shop's webhook needs to know about the shop."""

    pk: int
    webhook_secret: str
    is_active: bool


def shop_credentials(*, domain: str) -> ShopCredentials | None:
    """The shop with platform domain ``domain`` (None if there is none): one query."""
    connection = connections[router.db_for_read(Shop)]
    with connection.cursor() as cursor:
        cursor.execute(_shop_statement(connection.alias), [domain])
        row = cursor.fetchone()
    return ShopCredentials(row[0], row[1], bool(row[2])) if row else None


def webhook_delivery_receive(*, domain: str, accept_inactive: bool, **fields: Any) -> int | None:
    """Store a delivery whose signature verified with the app's own secret, for the shop with
    ``domain``: if that shop has no secret of its own (else the app's signature does not count
    for it), is active (or ``accept_inactive``), and has not stored this webhook id before.
    Returns the new delivery's id, or None if nothing was stored (``shop_credentials`` then
    tells the caller why: unknown shop, own secret, inactive, or a duplicate).

    One statement on PostgreSQL and SQLite, the hot path of a public app's webhooks: the shop is
    found by the INSERT itself. A lookup and ``webhook_delivery_record`` elsewhere.
    """
    connection = connections[router.db_for_write(WebhookDelivery)]
    if connection.vendor not in ("postgresql", "sqlite"):  # pragma: no cover
        shop = shop_credentials(domain=domain)
        if shop is None or shop.webhook_secret or not (shop.is_active or accept_inactive):
            return None
        return webhook_delivery_record(shop_id=shop.pk, **fields)
    row = _row(**fields) | {"domain": domain, "accept_inactive": accept_inactive}
    return _store(_receive_statement(connection.alias), row, connection)


def _store(statement: "_Statement", row: dict[str, Any], connection: BaseDatabaseWrapper) -> int | None:
    """Run a receiving statement; the new delivery's id (enqueued if it is to be processed), or
    None if nothing was stored."""
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params(row, connection))
        found = cursor.fetchone()
    if found is None:
        return None
    if row["status"] == Status.RECEIVED:
        _enqueue([found[0]])
    return found[0]


# The receiving statements are built once per database from the models' own table and column
# names, so that a request only binds its values (building them, or compiling an ORM query,
# cost more CPU than the rest of a webhook request's own work).


@dataclass(frozen=True)
class _Statement:
    sql: str
    fields: tuple[Field | None, ...]  # the parameters in order: a column's field, or None
    names: tuple[str, ...]  # the ``row`` key of each parameter

    def params(self, row: dict[str, Any], connection: BaseDatabaseWrapper) -> list[Any]:
        if connection.vendor == "postgresql":  # psycopg adapts str, int, aware datetimes itself
            return [row[name] for name in self.names]
        return [
            value if field is None else field.get_db_prep_save(value, connection)
            for field, value in zip(self.fields, (row[name] for name in self.names), strict=True)
        ]


def _columns() -> list[Field]:
    return [f for f in WebhookDelivery._meta.concrete_fields if not f.primary_key]


@functools.cache
def _insert_statement(alias: str) -> _Statement:
    """INSERT … ON CONFLICT (shop, webhook id) DO NOTHING RETURNING id."""
    connection = connections[alias]
    meta, quote, columns = WebhookDelivery._meta, connection.ops.quote_name, _columns()
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({_conflict_target(connection)}) "
        f"DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    return _Statement(sql, tuple(columns), tuple(f.attname for f in columns))


@functools.cache
def _receive_statement(alias: str) -> _Statement:
    """INSERT … SELECT from the shop with that domain, if its webhooks verify with the app's
    secret and it is active (or the caller accepts an inactive one), ON CONFLICT (shop, webhook
    id) DO NOTHING RETURNING id."""
    connection = connections[alias]
    meta, quote, columns = WebhookDelivery._meta, connection.ops.quote_name, _columns()
    shop_pk, secret, active, domain = _shop_columns(connection)
    values = [f"s.{shop_pk}" if f.attname == "shop_id" else _placeholder(f, connection) for f in columns]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "
        f"SELECT {', '.join(values)} FROM {quote(Shop._meta.db_table)} s "
        f"WHERE s.{domain} = %s AND s.{secret} = '' AND (s.{active} OR %s) "
        f"ON CONFLICT ({_conflict_target(connection)}) DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    inserted = [f for f in columns if f.attname != "shop_id"]
    return _Statement(
        sql, (*inserted, None, None), (*(f.attname for f in inserted), "domain", "accept_inactive")
    )


@functools.cache
def _shop_statement(alias: str) -> str:
    connection = connections[alias]
    pk, secret, active, domain = _shop_columns(connection)
    return (
        f"SELECT {pk}, {secret}, {active} FROM {connection.ops.quote_name(Shop._meta.db_table)} "
        f"WHERE {domain} = %s"
    )


def _shop_columns(connection: BaseDatabaseWrapper) -> tuple[str, ...]:
    """The shop's quoted id, webhook secret, active flag and domain columns."""
    quote = connection.ops.quote_name
    return tuple(quote(_column(Shop, name)) for name in ("id", "webhook_secret", "is_active", "domain"))


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field.column


def _conflict_target(connection: BaseDatabaseWrapper) -> str:
    """The columns of the unique (shop, webhook id) constraint."""
    quote = connection.ops.quote_name
    return f"{quote(_column(WebhookDelivery, 'shop'))}, {quote(_column(WebhookDelivery, 'webhook_id'))}"


def _placeholder(field: Field, connection: BaseDatabaseWrapper) -> str:
    if connection.vendor != "postgresql":
        return "%s"
    # In INSERT … SELECT, PostgreSQL does not infer a parameter's type from its column.
    # (``cast_db_type`` is Django's; django-stubs lacks it.)
    return f"%s::{field.cast_db_type(connection)}"  # type: ignore[attr-defined]


def _insert_or_none(delivery: WebhookDelivery) -> int | None:  # pragma: no cover
    from django.db import IntegrityError

    try:
        with transaction.atomic():
            delivery.save(force_insert=True)
    except IntegrityError:
        return None
    return delivery.pk
