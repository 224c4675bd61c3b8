"""The one place where backorder status changes meet the outside world.

Every service that creates a backorder, changes its status or its ETA calls exactly one function
here, once per change, with all the backorders the change touched (so that one order's lines
that change together can be told about together). Today each sends the outward signals of
``backorders.signals`` after commit; customer emails plug in here too.
"""

from collections.abc import Callable, Sequence
from datetime import date

from django.db import transaction

from backorders import signals
from backorders.models import Backorder
from backorders.services.audit import Actor


def _send_after_commit(signal: signals.Signal, items: Callable[[], list[dict]]) -> None:
    """Send ``signal`` once per item after commit; ``items`` is only called if anyone listens
    (a stock rise may touch thousands of backorders, passed as a lazy queryset)."""
    if not signal.has_listeners(Backorder):
        return
    payloads = items()

    def send() -> None:
        for kwargs in payloads:
            signal.send(sender=Backorder, **kwargs)

    transaction.on_commit(send, robust=True)


def backorders_created(*, backorders: Sequence[Backorder], actor: Actor) -> None:
    """New backorders (one order's short lines) were created."""
    _send_after_commit(
        signals.backorder_created, lambda: [{"backorder": bo, "actor": actor} for bo in backorders]
    )


def backorders_status_changed(*, backorders: Sequence[Backorder], old_status: str, actor: Actor) -> None:
    """``backorders`` (already saved with their new status) left ``old_status``."""
    _send_after_commit(
        signals.backorder_status_changed,
        lambda: [
            {"backorder": bo, "old_status": old_status, "new_status": bo.status, "actor": actor}
            for bo in backorders
            if bo.status != old_status
        ],
    )


def backorder_eta_changed(*, backorder: Backorder, old_eta: date | None, actor: Actor) -> None:
    """``backorder``'s current ETA (already saved) moved from ``old_eta``."""
    _send_after_commit(
        signals.backorder_eta_changed,
        lambda: [
            {
                "backorder": backorder,
                "old_eta": old_eta,
                "new_eta": backorder.eta,
                "source": backorder.eta_source,
                "actor": actor,
            }
        ],
    )


__all__ = ["backorder_eta_changed", "backorders_created", "backorders_status_changed"]
