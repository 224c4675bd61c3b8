"""The one place where backorder status changes meet the outside world.

Every service that creates a backorder, changes its status or its ETA calls exactly one function
here, once per change, with all the backorders the change touched, inside the transaction of the
change. Each function does two things:

* sends the outward signals of ``backorders.signals`` after commit (for host code);
* plans the customer's email: an outbox row (``Notification``) written in the same transaction,
  sent after commit by ``notification_send_task`` (see ``services.notifications.outbox``).

Grouping: the rows a transaction writes are kept in a per-transaction batch, so that several
lines of one order changing in the same transaction (an order cancelled, a stock rise that
allocates two of its lines, a restock date moving every line) make one message per (order,
kind). The batch is registered with ``transaction.on_commit`` and enqueues its rows' send tasks
after commit; a rolled-back transaction drops it with its rows.

Exactly once: each row's ``dedupe_key`` names the order and the audit events (``Event``) that
caused it, unique per (shop, kind, recipient). The same change reported twice (a repeated call)
finds the row and adds nothing; a change applied twice is no change the second time, so the
services do not call here at all.

Which changes email the customer:

* created → "confirmation", one per order, every backordered item with quantity and ETA;
* waiting → allocated (the line is fully covered) → "ready";
* → fulfilled → "shipped" (with tracking), and a "followup" due N days later if the shop wants;
* → cancelled → "cancelled" (who cancelled, what happens to the payment); a cancellation made
  here (customer, owner, store; not the platform) also emails the shop owner "owner_cancelled",
  so that someone settles it on the platform;
* ETA moved by more than the shop's threshold from the ETA the customer was last told →
  "eta_changed" ("delayed" or "earlier"; a long delay adds the shop's apology incentive); a
  first date for a customer who was told "not known yet" → "eta_changed" ("known").

An allocation taken back (allocated → waiting) and an ETA that becomes unknown send nothing:
there is no news worth a message, and the customer keeps the last date they were told.

Modules: this one holds the hooks; ``planning`` what a message says and how rows are written;
``batch`` how they are grouped per transaction and enqueued; ``outbox`` how they are sent;
``tracking`` what happens after (bounces, suppressions); ``links`` the signed links in them;
``owner`` the owner's actions (resend, fresh links) and the daily digest.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from django.db import transaction

from backorders import signals
from backorders.models import Backorder, Notification
from backorders.services.audit import Actor
from backorders.services.notifications.batch import notifications_enqueue
from backorders.services.notifications.owner import (
    notification_resend,
    order_link_send,
    owner_digests_plan,
)
from backorders.services.notifications.planning import (
    followups_plan,
    notification_language,
    notifications_plan,
    shop_setting,
)

Kind = Notification.Kind


# --- Outward signals (unchanged contract) ----------------------------------------------------


def _send_after_commit(signal: signals.Signal, items: list[dict]) -> None:
    if not items or not signal.has_listeners(Backorder):
        return

    def send() -> None:
        for kwargs in items:
            signal.send(sender=Backorder, **kwargs)

    transaction.on_commit(send, robust=True)


# The hooks run in the caller's transaction, or in their own when called in autocommit (so that
# the per-transaction batch always sees a commit to enqueue after): atomic(savepoint=False).


# --- The hooks the services call -------------------------------------------------------------


@transaction.atomic(savepoint=False)
def backorders_notify_created(*, backorders: Sequence[Backorder], actor: Actor) -> None:
    """New backorders (one order's short lines) were created: one confirmation per order."""
    _send_after_commit(signals.backorder_created, [{"backorder": bo, "actor": actor} for bo in backorders])
    notifications_plan(kind=Kind.CONFIRMATION, backorder_ids=[bo.pk for bo in backorders])


@transaction.atomic(savepoint=False)
def backorders_notify_status(*, backorders: Iterable[Backorder], old_status: str, actor: Actor) -> None:
    """``backorders`` (already saved with their new status) left ``old_status``."""
    changed = [bo for bo in backorders if bo.status != old_status]
    _send_after_commit(
        signals.backorder_status_changed,
        [
            {"backorder": bo, "old_status": old_status, "new_status": bo.status, "actor": actor}
            for bo in changed
        ],
    )
    by_status = {status: [bo.pk for bo in changed if bo.status == status] for status in _STATUS_KINDS}
    if ids := by_status[Backorder.Status.ALLOCATED]:
        notifications_plan(kind=Kind.READY, backorder_ids=ids)
    if ids := by_status[Backorder.Status.FULFILLED]:
        followups_plan(notifications_plan(kind=Kind.SHIPPED, backorder_ids=ids))
    if ids := by_status[Backorder.Status.CANCELLED]:
        _send_after_commit(
            signals.backorder_cancelled,
            [
                {"backorder": bo, "actor": actor, "reason": bo.cancel_reason}
                for bo in changed
                if bo.status == Backorder.Status.CANCELLED
            ],
        )
        notifications_plan(kind=Kind.CANCELLED, backorder_ids=ids, extra={"actor": actor.kind})


@transaction.atomic(savepoint=False)
def backorders_notify_cancelled_here(*, backorders: Sequence[Backorder], actor: Actor) -> None:
    """A customer, the owner or the store cancelled ``backorders`` here, not on the platform:
    the shop owner is emailed at once (one message per order) to settle them there."""
    notifications_plan(
        kind=Kind.OWNER_CANCELLED,
        backorder_ids=[bo.pk for bo in backorders],
        extra={"actor": actor.kind, "actor_name": actor.name},
    )


_STATUS_KINDS = [Backorder.Status.ALLOCATED, Backorder.Status.FULFILLED, Backorder.Status.CANCELLED]


@transaction.atomic(savepoint=False)
def backorders_notify_eta(
    *, backorders: Sequence[Backorder], old_etas: Mapping[int, date | None], actor: Actor
) -> None:
    """The current ETAs of ``backorders`` (already saved) moved from ``old_etas[backorder.pk]``.

    A customer is emailed when a new ETA differs from the one they were last told (in their
    confirmation or their latest ETA email; the old ETA when they were told nothing) by more
    than the shop's threshold. Small moves add up: the comparison is always with what they were
    told. Sends ``backorder_eta_changed`` once per backorder.
    """
    _send_after_commit(
        signals.backorder_eta_changed,
        [
            {
                "backorder": bo,
                "old_eta": old_etas.get(bo.pk),
                "new_eta": bo.eta,
                "source": bo.eta_source,
                "actor": actor,
            }
            for bo in backorders
        ],
    )
    notifications_plan(kind=Kind.ETA_CHANGED, backorder_ids=[bo.pk for bo in backorders], old_etas=old_etas)


__all__ = [
    "backorders_notify_cancelled_here",
    "backorders_notify_created",
    "backorders_notify_eta",
    "backorders_notify_status",
    "notification_language",
    "notification_resend",
    "notifications_enqueue",
    "order_link_send",
    "owner_digests_plan",
    "shop_setting",
]
