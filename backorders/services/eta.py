"""Moving ETAs: the current ETA of every waiting customer, recomputed when what it depends on
changes (the engine itself is ``selectors.availability.EtaPlanner``: purchase orders in arrival
order against the queue), and the owner's own
date for one customer (``backorder_move_eta``), which recomputing leaves alone."""

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from backorders.conf import get_setting
from backorders.models import Backorder, Event, Variant
from backorders.models.orders import EtaSource
from backorders.selectors.availability import Eta, EtaPlanner, Policy, policy_resolve
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
    planner = EtaPlanner(variant, policy)  # the same engine as ``etas_refresh_locked``
    moves: list[EtaMove] = []
    units_ahead = 0
    for backorder in queue:
        need = backorder.quantity_unallocated
        estimate = planner.eta(units_ahead=units_ahead, quantity=need)
        units_ahead += need
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
            "eta_purchase_order_id",
            "eta_pinned",
        )
    )


def eta_refresh(*, variant: Variant, actor: Actor) -> list[Backorder]:
    """Recompute the current ETA of every backorder of ``variant`` that still waits for units
    (``etas_refresh_locked`` for one variant). The caller holds the variant lock."""
    return etas_refresh_locked(variants=[variant], actor=actor)


_QUEUE_FIELDS = (
    "pk",
    "shop_id",
    "order_id",
    "variant_id",
    "quantity",
    "quantity_allocated",
    "eta",
    "eta_source",
    "eta_purchase_order_id",
    "eta_pinned",
)


def etas_refresh_locked(*, variants: Sequence[Variant], actor: Actor) -> list[Backorder]:
    """Recompute the current ETA of every waiting backorder of ``variants`` (locked by the
    caller, with ``product`` and ``shop`` loaded), each from its place in its variant's queue
    (``selectors.availability.EtaPlanner``: the purchase order covering its last unit, else the
    restock date, the supplier's padded lead time, the shop's lead time, or unknown).

    Only changed ETAs are written. Backorders whose date or source changed get an
    ``eta_changed`` event and go through the ETA notification path (one "delayed" or "earlier"
    email per order when the move passes the shop's threshold); one that only moved to another
    purchase order on the same date is updated silently. A backorder whose ETA the owner set by
    hand (``eta_pinned``) keeps it, and its units still count as ahead of the customers behind
    it. Statements, whatever the number of variants and backorders: one select of the queues,
    one update of the changed rows (on PostgreSQL; one per distinct new ETA elsewhere), one
    insert of events and the notification planning's few.
    """
    if not variants:
        return []
    planners = {variant.pk: EtaPlanner(variant, policy_resolve(variant)) for variant in variants}
    # Plain tuples, not model instances: a queue of 10,000 lines is read in a few milliseconds.
    queue = (
        Backorder.objects.filter(variant_id__in=planners, status=Backorder.Status.WAITING)
        .order_by("variant_id", "queued_at", "pk")
        .values_list(*_QUEUE_FIELDS)
    )
    units_ahead: dict[int, int] = defaultdict(int)
    written: list[Backorder] = []
    touched: list[Backorder] = []
    old: dict[int, date | None] = {}
    for pk, shop_id, order_id, variant_id, quantity, allocated, eta, source, po_id, pinned in queue:
        need = quantity - allocated
        estimate = planners[variant_id].eta(units_ahead=units_ahead[variant_id], quantity=need)
        units_ahead[variant_id] += need
        if pinned:
            continue
        new = (estimate.date, estimate.source, estimate.purchase_order_id)
        if new == (eta, source, po_id):
            continue
        backorder = Backorder(
            pk=pk,
            shop_id=shop_id,
            order_id=order_id,
            variant_id=variant_id,
            quantity=quantity,
            quantity_allocated=allocated,
            eta=estimate.date,
            eta_source=estimate.source,
            eta_purchase_order_id=estimate.purchase_order_id,
        )
        if (estimate.date, estimate.source) != (eta, source):
            old[pk] = eta
            touched.append(backorder)
        written.append(backorder)
    _etas_write(written)
    _eta_events_record(touched, old, actor)
    if touched:
        notifications.backorders_notify_eta(backorders=touched, old_etas=old, actor=actor)
    return touched


def _eta_events_record(backorders: list[Backorder], old: dict[int, date | None], actor: Actor) -> None:
    """One ``eta_changed`` event per backorder: one ``INSERT … SELECT FROM unnest(…)`` on
    PostgreSQL (building 10,000 model instances would cost more than the change itself), the
    audit's bulk insert elsewhere."""
    if not backorders:
        return
    alias = router.db_for_write(Event)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        events_record(
            event_build(
                backorder=bo,
                kind=Event.Kind.ETA_CHANGED,
                actor=actor,
                eta_from=old[bo.pk],
                eta_to=bo.eta,
                eta_source=bo.eta_source,
            )
            for bo in backorders
        )
        return
    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (shop_id, backorder_id, kind, actor_kind, actor_name, quantity, "
            "eta_from, eta_to, eta_source, note, created_at) "
            "SELECT v.shop_id, v.id, %s, %s, %s, NULL, v.eta_from, v.eta_to, v.source, '', %s "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::date[], %s::date[], %s::varchar[]) "
            "AS v(id, shop_id, eta_from, eta_to, source)",
            [
                Event.Kind.ETA_CHANGED,
                actor.kind,
                actor.name[:255],
                timezone.now(),
                [bo.pk for bo in backorders],
                [bo.shop_id for bo in backorders],
                [old[bo.pk] for bo in backorders],
                [bo.eta for bo in backorders],
                [bo.eta_source for bo in backorders],
            ],
        )


def _etas_write(backorders: list[Backorder]) -> None:
    """Write the new ETAs of ``backorders``: one ``UPDATE … FROM unnest(…)`` on PostgreSQL,
    one update per distinct (date, source, purchase order) elsewhere."""
    if not backorders:
        return
    now = timezone.now()
    alias = router.db_for_write(Backorder)
    connection = connections[alias]
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Backorder._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS b SET eta = v.eta, eta_source = v.source, "
                "eta_purchase_order_id = v.po, updated_at = %s "
                "FROM unnest(%s::bigint[], %s::date[], %s::varchar[], %s::bigint[]) "
                "AS v(id, eta, source, po) WHERE b.id = v.id",
                [
                    now,
                    [bo.pk for bo in backorders],
                    [bo.eta for bo in backorders],
                    [bo.eta_source for bo in backorders],
                    [bo.eta_purchase_order_id for bo in backorders],
                ],
            )
        return
    groups: dict[tuple[date | None, str, int | None], list[int]] = defaultdict(list)
    for bo in backorders:
        groups[(bo.eta, bo.eta_source, bo.eta_purchase_order_id)].append(bo.pk)
    for (eta, source, po), pks in groups.items():
        Backorder.objects.using(alias).filter(pk__in=pks).update(
            eta=eta, eta_source=source, eta_purchase_order_id=po, updated_at=now
        )


@retrying_atomic
def etas_refresh(*, variant_ids: Collection[int], actor: Actor) -> int:
    """Lock ``variant_ids`` and recompute their waiting customers' ETAs
    (``etas_refresh_locked``); returns how many ETAs moved. What the task after a purchase
    order, a receipt, a cancellation or an allocation runs. Variants gone since are skipped."""
    variants = variants_lock(variant_ids)
    return len(etas_refresh_locked(variants=list(variants.values()), actor=actor))


def etas_refresh_enqueue(*, variant_ids: Collection[int]) -> None:
    """After commit, recompute the ETAs of the waiting customers of ``variant_ids`` (the supply
    or the queue of those variants changed), in tasks of ``ETA_REFRESH_BATCH`` variants.
    ``robust``: a broker outage never fails the change that asked for it."""
    from backorders.tasks import etas_refresh_task

    ids = sorted(set(variant_ids))
    size = get_setting("ETA_REFRESH_BATCH")
    for start in range(0, len(ids), size):
        transaction.on_commit(partial(etas_refresh_task.delay, ids[start : start + size]), robust=True)


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
