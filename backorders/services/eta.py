"""ETAs: the date a backordered unit is expected to ship, always with its source.

``eta_estimate`` answers for a unit at a given place in the variant's queue. Today it knows the
owner's manual restock date and the shop's restock lead time; purchase orders will slot in here
as a further source (the n-th waiting unit covered by the n-th incoming unit) without changing its
callers, which is why it takes the queue position.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from backorders.models import Backorder, Event, Variant
from backorders.models.orders import EtaSource
from backorders.services import notifications
from backorders.services.audit import Actor, event_build, events_record
from backorders.services.policy import Policy, policy_resolve


@dataclass(frozen=True)
class Eta:
    date: date | None
    source: str  # an EtaSource value

    @classmethod
    def unknown(cls) -> "Eta":
        return cls(None, EtaSource.UNKNOWN)


def shop_today(variant: Variant) -> date:
    """Today in the shop's time zone (an ETA is a date where the shop is)."""
    return timezone.localdate(timezone=variant.shop.zoneinfo)


def eta_estimate(*, variant: Variant, units_ahead: int = 0, policy: Policy | None = None) -> Eta:
    """The ETA of a unit with ``units_ahead`` waiting units before it in ``variant``'s queue.

    Manual restock date + handling days if the owner set one (never in the past: a passed date
    means "any day now", so today + handling days); else today + restock lead time + handling
    days when a lead time is configured; else unknown.
    """
    policy = policy or policy_resolve(variant)
    today = shop_today(variant)
    handling = timedelta(days=policy.handling_days)
    if policy.restock_date is not None:
        return Eta(max(policy.restock_date, today) + handling, EtaSource.MANUAL)
    if policy.restock_lead_days is not None:
        return Eta(today + timedelta(days=policy.restock_lead_days) + handling, EtaSource.LEAD_TIME)
    return Eta.unknown()


def eta_refresh(*, variant: Variant, actor: Actor) -> list[Backorder]:
    """Recompute the current ETA of every open backorder of ``variant`` that still waits for units.

    The caller holds the variant lock. Backorders whose ETA or source changed get an
    ``eta_changed`` event and one notification each; the rest are untouched. Statements: one
    select, one update per distinct new ETA, one insert of events.
    """
    policy = policy_resolve(variant)
    changed: dict[tuple[date | None, str], list[Backorder]] = defaultdict(list)
    old: dict[int, date | None] = {}
    units_ahead = 0
    queue = Backorder.objects.filter(variant=variant, status=Backorder.Status.WAITING).order_by(
        "queued_at", "pk"
    )
    for backorder in queue.only("pk", "shop_id", "quantity", "quantity_allocated", "eta", "eta_source"):
        estimate = eta_estimate(variant=variant, units_ahead=units_ahead, policy=policy)
        units_ahead += backorder.quantity_unallocated
        if (estimate.date, estimate.source) != (backorder.eta, backorder.eta_source):
            old[backorder.pk] = backorder.eta
            backorder.eta, backorder.eta_source = estimate.date, estimate.source
            changed[(estimate.date, estimate.source)].append(backorder)
    now = timezone.now()
    for (eta, source), backorders in changed.items():
        Backorder.objects.filter(pk__in=[bo.pk for bo in backorders]).update(
            eta=eta, eta_source=source, updated_at=now
        )
    touched = [bo for group in changed.values() for bo in group]
    events_record(
        event_build(
            backorder=bo,
            kind=Event.Kind.ETA_CHANGED,
            actor=actor,
            eta_from=old[bo.pk],
            eta_to=bo.eta,
            eta_source=bo.eta_source,
        )
        for bo in touched
    )
    if touched:
        notifications.backorders_eta_changed(backorders=touched, old_etas=old, actor=actor)
    return touched
