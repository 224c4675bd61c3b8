"""Moving ETAs: the current ETA of every waiting customer, recomputed when what it depends on
changes (the estimate itself is ``selectors.availability.eta_estimate``), and the owner's own
date for one customer (``backorder_move_eta``), which recomputing leaves alone."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backorders.models import Backorder, Event, Variant
from backorders.models.orders import EtaSource
from backorders.selectors.availability import Eta, Policy, eta_estimate, policy_resolve
from backorders.services import notifications
from backorders.services.audit import Actor, event_build, events_record
from backorders.services.lifecycle import BackorderStateError
from backorders.services.locking import retrying_atomic, variants_lock

# The furthest an owner may move one customer's ETA: a date years away is a typing error.
ETA_MAX_DAYS_AHEAD = 730
ETA_NOTE_MAX = 255


@dataclass(frozen=True)
class EtaMove:
    """One waiting backorder whose current ETA (date or source) a recomputation changes."""

    backorder: Backorder
    old: date | None
    new: Eta


def eta_refresh_plan(*, variant: Variant, queue: Iterable[Backorder], policy: Policy) -> list[EtaMove]:
    """The ETA moves a recomputation of ``variant``'s queue under ``policy`` makes: pure (no
    query, nothing written), so that a preview of a change (``services.restock``) and the change
    itself (``eta_refresh``) follow the same rules.

    ``queue`` is the variant's backorders waiting for stock, in queue order (``queued_at``, pk).
    A backorder whose ETA the owner set by hand (``eta_pinned``) keeps it, and its units still
    count as ahead of the customers behind it.
    """
    moves: list[EtaMove] = []
    units_ahead = 0
    for backorder in queue:
        estimate = eta_estimate(variant=variant, units_ahead=units_ahead, policy=policy)
        units_ahead += backorder.quantity_unallocated
        if backorder.eta_pinned:
            continue
        if (estimate.date, estimate.source) != (backorder.eta, backorder.eta_source):
            moves.append(EtaMove(backorder, backorder.eta, estimate))
    return moves


def eta_queue(variant_ids: Iterable[int]) -> QuerySet[Backorder]:
    """The backorders of ``variant_ids`` waiting for stock, in queue order, with the fields
    ``eta_refresh_plan`` reads (one query)."""
    return (
        Backorder.objects.filter(variant_id__in=list(variant_ids), status=Backorder.Status.WAITING)
        .order_by("queued_at", "pk")
        .only(
            "pk",
            "shop_id",
            "order_id",
            "variant_id",
            "quantity",
            "quantity_allocated",
            "eta",
            "eta_source",
            "eta_pinned",
        )
    )


def eta_refresh(*, variant: Variant, actor: Actor) -> list[Backorder]:
    """Recompute the current ETA of every open backorder of ``variant`` that still waits for units.

    The caller holds the variant lock. Backorders whose ETA or source changed get an
    ``eta_changed`` event and one notification each; the rest are untouched. A backorder whose
    ETA the owner set by hand (``eta_pinned``) keeps it, and its units still count as ahead of
    the customers behind it (the rules are ``eta_refresh_plan``'s). Statements: one select, one
    update per distinct new ETA, one insert of events.
    """
    moves = eta_refresh_plan(variant=variant, queue=eta_queue([variant.pk]), policy=policy_resolve(variant))
    changed: dict[tuple[date | None, str], list[Backorder]] = defaultdict(list)
    old: dict[int, date | None] = {}
    for move in moves:
        backorder = move.backorder
        old[backorder.pk] = move.old
        backorder.eta, backorder.eta_source = move.new.date, move.new.source
        changed[(move.new.date, move.new.source)].append(backorder)
    now = timezone.now()
    for (eta, source), backorders in changed.items():
        Backorder.objects.filter(pk__in=[bo.pk for bo in backorders]).update(
            eta=eta, eta_source=source, updated_at=now
        )
    touched = [move.backorder for move in moves]
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
