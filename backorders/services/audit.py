"""Who changed what: the Actor of every service call and the append-only Event trail."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

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
