"""The queue as a customer sees it: their backorders, their place in line, their ETA history."""

from collections import defaultdict

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from backorders.models import Backorder, Event, Order


def order_backorders_in_queue(*, order: Order) -> list[Backorder]:
    """The order's backorders, each with ``ahead`` (the waiting backorders queued before it for
    the same variant: its place in the queue, shown as "customers ahead") in one query, and
    ``eta_history`` (its ETA changes, oldest first) in a second."""
    ahead = (
        Backorder.objects.filter(variant=OuterRef("variant"), status=Backorder.Status.WAITING)
        .filter(
            Q(queued_at__lt=OuterRef("queued_at")) | Q(queued_at=OuterRef("queued_at"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("variant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    lines: list[Backorder] = list(
        order.backorders.select_related("variant__product", "line")
        .annotate(ahead=Coalesce(Subquery(ahead), 0))
        .order_by("line_id", "pk")
    )
    history: dict[int, list[Event]] = defaultdict(list)
    for event in Event.objects.filter(backorder__in=lines, kind=Event.Kind.ETA_CHANGED).order_by(
        "created_at", "pk"
    ):
        history[event.backorder_id].append(event)
    for line in lines:
        line.eta_history = history[line.pk]  # type: ignore[attr-defined]
    return lines
