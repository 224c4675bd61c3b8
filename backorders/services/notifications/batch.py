"""The per-transaction batch of outbox rows, and enqueueing their send tasks after commit."""

import logging
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone

from backorders.conf import get_setting
from backorders.models import Notification

logger = logging.getLogger(__name__)


Key = tuple[int | None, str]  # (order id, kind) of a batch's row


class Batch:
    """The outbox rows the current transaction wrote, by (order id, kind): later changes to the
    same order in the same transaction merge into them. After commit, their tasks are enqueued.

    One batch per database connection, replaced once flushed. Each change that writes or merges
    a row registers an on-commit flush (``transaction.on_commit``): the first flush after the
    commit enqueues every row not yet enqueued, the later ones find nothing left to do. A rolled
    back transaction or savepoint drops its flushes and its rows, but not this object: before
    merging into a row, ``rows_alive`` checks in the database that the row is still there, so a
    change never merges into a row that was rolled back.
    """

    _ATTR = "_backorders_notification_batch"

    def __init__(self) -> None:
        self.rows: dict[tuple[int | None, str], Notification] = {}
        self.events: dict[int, list[int]] = {}  # notification pk -> event ids it is about
        self.enqueued: set[int] = set()
        self.flushed = False

    @classmethod
    def current(cls) -> "Batch":
        connection = transaction.get_connection()
        batch: Batch | None = getattr(connection, cls._ATTR, None)
        if batch is None or batch.flushed:
            batch = cls()
            setattr(connection, cls._ATTR, batch)
        return batch

    def rows_alive(
        self, keys: Iterable[tuple[int | None, str]]
    ) -> dict[tuple[int | None, str], Notification]:
        """This transaction's rows under ``keys`` (one query, only when the batch has any): a row
        of a rolled-back transaction or savepoint is forgotten instead."""
        candidates = {key: self.rows[key] for key in keys if key in self.rows}
        if not candidates:
            return {}
        stored = set(
            Notification.objects.filter(pk__in=[row.pk for row in candidates.values()]).values_list(
                "pk", "kind", "order_id", "dedupe_key"
            )
        )
        alive = {}
        for key, row in candidates.items():
            if (row.pk, row.kind, row.order_id, row.dedupe_key) in stored:
                alive[key] = row
            else:
                del self.rows[key]
        return alive

    def add(self, rows: Mapping[tuple[int | None, str], Notification]) -> None:
        """Keep ``rows`` (new or just merged into) and enqueue them after commit: one callback per
        change however many rows it wrote (a flush looks at every row of the batch)."""
        if rows:
            self.rows.update(rows)
            transaction.on_commit(_Flush(self), robust=True)

    def flush(self) -> None:
        self.flushed = True
        now = timezone.now()
        due = [
            row.pk
            for row in self.rows.values()
            if row.pk not in self.enqueued and row.status == Notification.Status.PENDING and row.due_at <= now
        ]
        self.enqueued.update(due)
        notifications_enqueue(due)


class _Flush:
    """The on-commit callback of a batch (a class, so that the batch can find its own)."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        # Django names a failing robust callback by its __qualname__, which instances lack.
        self.__qualname__ = "Batch.flush"

    def __call__(self) -> None:
        self.batch.flush()


def notifications_enqueue(ids: Iterable[int]) -> int:
    """Enqueue the sending of these rows: one ``notification_send_task`` for a single row, else
    ``notifications_send_task`` per chunk of ``EMAIL_SEND_BATCH`` rows (one broker message and
    one task start for many emails). Stops at the first broker error: the rows stay pending and
    the periodic sweeper sends them. Returns how many rows were enqueued."""
    from backorders.tasks import notification_send_task, notifications_send_task

    ids = list(ids)
    size = max(1, get_setting("EMAIL_SEND_BATCH"))
    enqueued = 0
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        try:
            if len(chunk) == 1:
                notification_send_task.delay(chunk[0])
            else:
                notifications_send_task.delay(chunk)
        except Exception:  # the broker is down: the sweeper covers it
            logger.warning(
                "could not enqueue %d email(s); the sweeper will send them", len(chunk), exc_info=True
            )
            break
        enqueued += len(chunk)
    return enqueued
