"""Moving ETAs: the current ETA of every waiting customer, recomputed when what it depends on
changes (the estimate itself is ``selectors.availability.eta_estimate``)."""

from collections import defaultdict
from datetime import date

from django.utils import timezone

from backorders.models import Backorder, Event, Variant
from backorders.selectors.availability import eta_estimate, policy_resolve
from backorders.services import notifications
from backorders.services.audit import Actor, event_build, events_record


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
        notifications.backorders_notify_eta(backorders=touched, old_etas=old, actor=actor)
    return touched
