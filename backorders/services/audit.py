"""Who changed what: the Actor of every service call and the append-only Event trail."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import connections, router
from django.db.models import CharField, DateTimeField, Expression, QuerySet, Value
from django.utils import timezone

from backorders.models import Backorder, Event


@dataclass(frozen=True)
class Actor:
    """Who causes a change: recorded on every event."""

    kind: str  # an Event.ActorKind value
    name: str = ""

    @classmethod
    def platform(cls, topic: str = "") -> "Actor":
        return cls(Event.ActorKind.PLATFORM, topic)

    @classmethod
    def store(cls, name: str = "") -> "Actor":
        return cls(Event.ActorKind.STORE, name)

    @classmethod
    def admin(cls, username: str) -> "Actor":
        return cls(Event.ActorKind.ADMIN, username)

    @classmethod
    def api(cls, token_name: str = "") -> "Actor":
        return cls(Event.ActorKind.API, token_name)

    @classmethod
    def customer(cls, email: str = "") -> "Actor":
        return cls(Event.ActorKind.CUSTOMER, email)

    @classmethod
    def system(cls, name: str = "") -> "Actor":
        return cls(Event.ActorKind.SYSTEM, name)


def event_build(
    *,
    backorder: Backorder,
    kind: str,
    actor: Actor,
    quantity: int | None = None,
    eta_from: date | None = None,
    eta_to: date | None = None,
    eta_source: str = "",
    note: str = "",
) -> Event:
    """An unsaved Event (for ``events_record``, which writes many in one statement)."""
    return Event(
        shop_id=backorder.shop_id,
        backorder_id=backorder.pk,
        kind=kind,
        actor_kind=actor.kind,
        actor_name=actor.name[:255],
        quantity=quantity,
        eta_from=eta_from,
        eta_to=eta_to,
        eta_source=eta_source,
        note=note[:500],
    )


def events_record(events: Iterable[Event]) -> None:
    """Write events in bulk: one statement on PostgreSQL, batches of the backend's limit elsewhere."""
    Event.objects.bulk_create(list(events))


def events_record_for(
    backorders: QuerySet[Backorder], *, kind: str, actor: Actor, quantity: Expression, note: str = ""
) -> int:
    """Write one event per backorder of ``backorders`` in a single ``INSERT … SELECT``.

    For set-based changes of thousands of rows (one stock rise allocating a long queue), where
    building a model instance per event would cost more than the change itself. ``quantity`` is
    an expression over the backorder row, evaluated before the caller's update.
    """
    columns = [
        "shop_id",
        "backorder_id",
        "kind",
        "actor_kind",
        "actor_name",
        "quantity",
        "eta_source",
        "note",
    ]
    rows = (
        backorders.order_by()
        .annotate(
            _kind=Value(kind, output_field=CharField()),
            _actor_kind=Value(actor.kind, output_field=CharField()),
            _actor_name=Value(actor.name[:255], output_field=CharField()),
            _quantity=quantity,
            _eta_source=Value("", output_field=CharField()),
            _note=Value(note[:500], output_field=CharField()),
            _created_at=Value(timezone.now(), output_field=DateTimeField()),
        )
        .values_list(
            "shop_id",
            "pk",
            "_kind",
            "_actor_kind",
            "_actor_name",
            "_quantity",
            "_eta_source",
            "_note",
            "_created_at",
        )
    )
    # The events' write database (routers respected); the backorders are read in the same
    # statement, so from the same database.
    alias = router.db_for_write(Event)
    connection = connections[alias]
    select_sql, params = rows.query.get_compiler(using=alias).as_sql()
    quote = connection.ops.quote_name
    target = ", ".join(quote(column) for column in [*columns, "created_at"])
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(Event._meta.db_table)} ({target}) {select_sql}", params)
        return cursor.rowcount
