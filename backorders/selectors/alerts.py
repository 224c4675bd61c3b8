"""Reads about restock alerts: how many people wait for an item, and the owner's funnel."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Lower

from backorders.conf import get_setting
from backorders.models import OrderLine, RestockAlert, Shop

Status = RestockAlert.Status


def alerts_waiting_counts(*, variant_ids: Collection[int]) -> dict[int, int]:
    """Confirmed alerts not yet sent, per variant id (every id asked for, 0 when none): "N
    people are waiting for this". One query, whatever the number of variants."""
    ids = list(variant_ids)
    counts = dict.fromkeys(ids, 0)
    if not ids:
        return counts
    rows = (
        RestockAlert.objects.filter(variant_id__in=ids, status=Status.CONFIRMED)
        .values("variant_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("variant_id", "n")
    )
    counts.update(dict(rows))
    return counts


@dataclass(frozen=True)
class Funnel:
    """One variant's restock-alert funnel: sign-ups, those confirmed, those alerted, and those
    alerted who then bought it (an order line for the variant from the same address within
    ``ALERT_PURCHASE_WINDOW_DAYS`` after the alert)."""

    variant_id: int
    signed_up: int
    confirmed: int
    alerted: int
    bought: int


def alert_funnel(
    *,
    variant_ids: Collection[int] | None = None,
    shop: Shop | None = None,
    shop_ids: Collection[int] | None = None,
) -> dict[int, Funnel]:
    """The funnel of each variant with alerts (of ``variant_ids``, of ``shop``, of the shops
    ``shop_ids``, or all; the filters combine), by variant id. One query (a grouped count with a
    correlated ``EXISTS`` for "bought")."""
    alerts = RestockAlert.objects.all()
    if variant_ids is not None:
        alerts = alerts.filter(variant_id__in=list(variant_ids))
    if shop is not None:
        alerts = alerts.filter(shop=shop)
    if shop_ids is not None:
        alerts = alerts.filter(shop_id__in=sorted(shop_ids))
    window = timedelta(days=get_setting("ALERT_PURCHASE_WINDOW_DAYS"))
    bought = (
        OrderLine.objects.filter(
            variant_id=OuterRef("variant_id"),
            order__shop_id=OuterRef("shop_id"),
            order__placed_at__gte=OuterRef("alerted_at"),
            order__placed_at__lte=OuterRef("alerted_at") + window,
        )
        .annotate(address=Lower("order__email"))
        .filter(address=OuterRef("email"))
    )
    rows = (
        alerts.values("variant_id")
        .annotate(
            signed_up=Count("pk"),
            confirmed=Count("pk", filter=Q(confirmed_at__isnull=False)),
            alerted=Count("pk", filter=Q(alerted_at__isnull=False)),
            bought=Count("pk", filter=Q(alerted_at__isnull=False) & Q(Exists(bought))),
        )
        .order_by("variant_id")
    )
    return {
        row["variant_id"]: Funnel(
            variant_id=row["variant_id"],
            signed_up=row["signed_up"],
            confirmed=row["confirmed"],
            alerted=row["alerted"],
            bought=row["bought"],
        )
        for row in rows
    }


__all__ = ["Funnel", "alert_funnel", "alerts_waiting_counts"]
