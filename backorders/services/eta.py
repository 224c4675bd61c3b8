"""Moving ETAs: the current ETA of every waiting customer, recomputed when what it depends on
changes (the estimate itself is ``selectors.availability.eta_estimate``), and the owner's own
date for one customer (``backorder_move_eta``), which recomputing leaves alone."""

from collections import defaultdict
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from backorders.models import Backorder, Event, Variant
from backorders.models.orders import EtaSource
from backorders.selectors.availability import eta_estimate, policy_resolve
from backorders.services import notifications
from backorders.services.audit import Actor, event_build, events_record
from backorders.services.lifecycle import BackorderStateError
from backorders.services.locking import retrying_atomic, variants_lock

# The furthest an owner may move one customer's ETA: a date years away is a typing error.
ETA_MAX_DAYS_AHEAD = 730
ETA_NOTE_MAX = 255


def eta_refresh(*, variant: Variant, actor: Actor) -> list[Backorder]:
    """Recompute the current ETA of every open backorder of ``variant`` that still waits for units.

    The caller holds the variant lock. Backorders whose ETA or source changed get an
    ``eta_changed`` event and one notification each; the rest are untouched. A backorder whose
    ETA the owner set by hand (``eta_pinned``) keeps it, and its units still count as ahead of
    the customers behind it. Statements: one select, one update per distinct new ETA, one insert
    of events.
    """
    policy = policy_resolve(variant)
    changed: dict[tuple[date | None, str], list[Backorder]] = defaultdict(list)
    old: dict[int, date | None] = {}
    units_ahead = 0
    queue = Backorder.objects.filter(variant=variant, status=Backorder.Status.WAITING).order_by(
        "queued_at", "pk"
    )
    for backorder in queue.only(
        "pk", "shop_id", "quantity", "quantity_allocated", "eta", "eta_source", "eta_pinned"
    ):
        estimate = eta_estimate(variant=variant, units_ahead=units_ahead, policy=policy)
        units_ahead += backorder.quantity_unallocated
        if backorder.eta_pinned:
            continue
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


class EtaRefused(ValidationError):
    """The owner's ETA for one backorder is refused (``message_dict`` names the field and says
    why); nothing is written, nobody is emailed."""


def backorder_eta_validate(*, backorder: Backorder, eta: date | None) -> None:
    """Refuse an ETA the customer should not be told: before today or more than
    ``ETA_MAX_DAYS_AHEAD`` days after it, in the shop's time zone (the admin's form calls this
    too, to show the message on its field)."""
    if eta is None:
        return
    today = timezone.localdate(timezone=backorder.shop.zoneinfo)
    if eta < today:
        raise EtaRefused(
            {
                "eta": _(
                    "%(date)s is in the past (today is %(today)s in the shop's time zone, %(zone)s). "
                    "Enter today or a later date."
                )
                % {"date": eta.isoformat(), "today": today.isoformat(), "zone": backorder.shop.timezone}
            }
        )
    if eta > today + timedelta(days=ETA_MAX_DAYS_AHEAD):
        raise EtaRefused(
            {
                "eta": _("%(date)s is more than %(n)d days from today: enter a date before %(limit)s.")
                % {
                    "date": eta.isoformat(),
                    "n": ETA_MAX_DAYS_AHEAD,
                    "limit": (today + timedelta(days=ETA_MAX_DAYS_AHEAD + 1)).isoformat(),
                }
            }
        )


@retrying_atomic
def backorder_move_eta(*, backorder: Backorder, eta: date | None, actor: Actor, note: str = "") -> Backorder:
    """Set the ETA of one backorder waiting for stock by hand, or (``eta=None``) hand it back to
    the automatic estimate of its queue.

    A date set by hand has the source "owner's restock date" and is pinned: later recomputations
    (a new restock date for the variant, a slipping delivery) leave it as the owner set it. The
    change is audited (an ``eta_changed`` event with ``note``) and the customer is emailed
    through the outbox when the move is larger than the shop's threshold (as for every ETA move).
    Refusals change nothing: ``BackorderStateError`` for a backorder not waiting (allocated ones
    are ready to ship, closed ones have no ETA left), ``EtaRefused`` for a date in the past or
    too far ahead. Setting the date it already has changes nothing and sends nothing.
    """
    variant = variants_lock([backorder.variant_id])[backorder.variant_id]
    backorder = Backorder.objects.select_for_update().select_related("shop").get(pk=backorder.pk)
    if backorder.status != Backorder.Status.WAITING:
        raise BackorderStateError(
            _("Only a backorder waiting for stock has an ETA to move; this one is %(status)s.")
            % {"status": backorder.get_status_display().lower()}
        )
    backorder_eta_validate(backorder=backorder, eta=eta)
    note = " ".join(note.split())[:ETA_NOTE_MAX]
    if eta is None:
        if backorder.eta_pinned:
            Backorder.objects.filter(pk=backorder.pk).update(eta_pinned=False, updated_at=timezone.now())
            eta_refresh(variant=variant, actor=actor)
            backorder.refresh_from_db()
        return backorder
    if backorder.eta_pinned and backorder.eta == eta:
        return backorder
    old = backorder.eta
    backorder.eta, backorder.eta_source, backorder.eta_pinned = eta, EtaSource.MANUAL, True
    backorder.save(update_fields=["eta", "eta_source", "eta_pinned", "updated_at"])
    events_record(
        [
            event_build(
                backorder=backorder,
                kind=Event.Kind.ETA_CHANGED,
                actor=actor,
                eta_from=old,
                eta_to=eta,
                eta_source=EtaSource.MANUAL,
                note=note,
            )
        ]
    )
    notifications.backorders_notify_eta(backorders=[backorder], old_etas={backorder.pk: old}, actor=actor)
    return backorder
