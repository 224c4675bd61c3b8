"""Reads about supply: each supplier's measured reliability, the best supplier of a variant and
its padded lead time, and the incoming schedule of purchase order lines that ETAs count on.

How a lead time is padded (``padded_lead_days``): a supplier states a lead time (mean) and its
spread; each receipt measures how many days after the promised date the delivery came
(``Receipt.days_late``). Over the supplier's last ``SUPPLIER_RELIABILITY_RECEIPTS`` receipts,
lateness has a mean ``m`` and a sample standard deviation ``s``. At confidence ``c``
(``ETA_CONFIDENCE``) with ``z`` the normal quantile of ``c`` (0.8 → 0.8416), the padding is
``m + z·s`` (with fewer than two receipts the stated spread stands in for ``s``, and ``m`` is 0
without any), never below 0: an early record does not shorten what the supplier itself
states. The padded lead time is the lead time plus that padding, rounded up to whole days.
Receipts 0, 4 and 8 days late on a 10-day lead time: m = 4, s = 4, padding 4 + 0.8416 × 4 =
7.37, so 18 days.
"""

import math
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from statistics import NormalDist, fmean, stdev

from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from backorders.conf import get_setting
from backorders.models import PurchaseOrder, PurchaseOrderLine, Receipt, Supplier, SupplierItem


@dataclass(frozen=True)
class Reliability:
    """A supplier's record over its last receipts (None where there are none to measure)."""

    receipts: int
    mean_days_late: float | None
    spread_days: float | None
    on_time_rate: float | None  # share of receipts that came on or before the promised date


def reliability_of(days_late: list[int]) -> Reliability:
    """The record of receipts ``days_late`` days late each (latest first, already cut to N)."""
    if not days_late:
        return Reliability(0, None, None, None)
    return Reliability(
        receipts=len(days_late),
        mean_days_late=fmean(days_late),
        spread_days=stdev(days_late) if len(days_late) >= 2 else None,
        on_time_rate=sum(1 for days in days_late if days <= 0) / len(days_late),
    )


def suppliers_reliability(*, supplier_ids: Collection[int]) -> dict[int, Reliability]:
    """Each supplier's record over its last ``SUPPLIER_RELIABILITY_RECEIPTS`` receipts, in one
    query whatever the number of suppliers or receipts (a window numbers each supplier's
    receipts, latest first, and only the first N are read)."""
    if not supplier_ids:
        return {}
    keep = get_setting("SUPPLIER_RELIABILITY_RECEIPTS")
    rows = (
        Receipt.objects.filter(supplier_id__in=supplier_ids)
        .annotate(
            n=Window(
                RowNumber(),
                partition_by=[F("supplier_id")],
                order_by=[F("received_on").desc(), F("pk").desc()],
            )
        )
        .filter(n__lte=keep)
        .values_list("supplier_id", "days_late")
    )
    late: dict[int, list[int]] = defaultdict(list)
    for supplier_id, days_late in rows:
        late[supplier_id].append(days_late)
    return {pk: reliability_of(late.get(pk, [])) for pk in supplier_ids}


def supplier_reliability(*, supplier: Supplier) -> Reliability:
    """``suppliers_reliability`` of one supplier (the supplier's admin page shows it)."""
    return suppliers_reliability(supplier_ids=[supplier.pk])[supplier.pk]


def lateness_padding(
    *, reliability: Reliability, stated_spread: float, confidence: float | None = None
) -> float:
    """Days added to a lead time so that it holds at ``confidence`` (see the module docstring)."""
    confidence = get_setting("ETA_CONFIDENCE") if confidence is None else confidence
    z = NormalDist().inv_cdf(confidence)
    mean = reliability.mean_days_late or 0.0
    spread = reliability.spread_days if reliability.spread_days is not None else stated_spread
    return max(mean + z * spread, 0.0)


def padded_lead_days(*, lead_days: int, reliability: Reliability, stated_spread: float) -> int:
    """``lead_days`` plus the lateness padding, rounded up to whole days."""
    # A tiny epsilon so that 17.000000000001 from float arithmetic is not rounded up to 18.
    return math.ceil(
        lead_days + lateness_padding(reliability=reliability, stated_spread=stated_spread) - 1e-9
    )


def variants_lead_days(*, variant_ids: Collection[int]) -> dict[int, int | None]:
    """Each variant's best supplier's padded lead time in days (None: no active supplier sells
    it). The best supplier is the one with the lowest priority number, then the shortest padded
    lead time. Two queries whatever the number of variants: the supplier items with their
    suppliers, and the suppliers' records."""
    items = list(
        SupplierItem.objects.filter(variant_id__in=variant_ids, supplier__is_active=True)
        .select_related("supplier")
        .order_by("variant_id", "priority", "pk")
    )
    records = suppliers_reliability(supplier_ids={item.supplier_id for item in items})
    best: dict[int, tuple[int, int]] = {}
    for item in items:
        lead = item.lead_time_days if item.lead_time_days is not None else item.supplier.lead_time_days
        days = padded_lead_days(
            lead_days=lead,
            reliability=records[item.supplier_id],
            stated_spread=item.supplier.lead_time_spread_days,
        )
        if item.variant_id not in best or (item.priority, days) < best[item.variant_id]:
            best[item.variant_id] = (item.priority, days)
    return {pk: best[pk][1] if pk in best else None for pk in variant_ids}


def variants_incoming(*, variant_ids: Collection[int]) -> dict[int, list[dict[str, object]]]:
    """Each variant's incoming supply in arrival order: the lines of purchase orders on their
    way (sent, confirmed, partially received) with units still to come, ordered by expected
    arrival, then purchase order. One query. The shape stored in ``Variant.supply_schedule``."""
    rows = (
        PurchaseOrderLine.objects.filter(
            variant_id__in=variant_ids,
            purchase_order__status__in=PurchaseOrder.Status.incoming(),
            quantity_received__lt=F("quantity_ordered"),
        )
        .order_by("variant_id", "purchase_order__expected_on", "purchase_order_id")
        .values_list(
            "variant_id",
            "purchase_order_id",
            "purchase_order__number",
            "purchase_order__expected_on",
            "quantity_ordered",
            "quantity_received",
        )
    )
    incoming: dict[int, list[dict[str, object]]] = {pk: [] for pk in variant_ids}
    for variant_id, po_id, number, expected_on, ordered, received in rows:
        incoming[variant_id].append(
            {"po": po_id, "number": number, "date": expected_on.isoformat(), "units": ordered - received}
        )
    return incoming


def supplier_variant_ids(*, supplier_ids: Collection[int]) -> list[int]:
    """The variants the suppliers sell (their lead times depend on the suppliers' records)."""
    return sorted(
        set(SupplierItem.objects.filter(supplier_id__in=supplier_ids).values_list("variant_id", flat=True))
    )


def purchase_order_variant_ids(*, purchase_order: PurchaseOrder) -> list[int]:
    """The variants on a purchase order's lines."""
    return sorted(set(purchase_order.lines.values_list("variant_id", flat=True)))


def purchase_orders_incoming_q() -> Q:
    """Purchase orders still on their way (a filter for lists)."""
    return Q(status__in=PurchaseOrder.Status.incoming())


def purchase_order_remaining(*, purchase_order: PurchaseOrder) -> dict[int, int]:
    """{line id: units still to come} of the order's open lines: "receive everything"."""
    return {
        line.pk: line.quantity_remaining
        for line in purchase_order.lines.all().order_by("pk")
        if line.quantity_remaining
    }


def suppliers_of_shop(*, shop_id: int) -> QuerySet[Supplier]:
    """The shop's suppliers, by name."""
    return Supplier.objects.filter(shop_id=shop_id).order_by("name", "pk")


def purchase_orders_of_shop(
    *, shop_id: int, status: str = "", supplier_id: int | None = None
) -> QuerySet[PurchaseOrder]:
    """The shop's purchase orders, newest first, with their lines and the lines' variants loaded
    (three queries for a page, whatever its size), optionally of one status or supplier."""
    orders = PurchaseOrder.objects.filter(shop_id=shop_id).prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("variant").order_by("pk"))
    )
    if status:
        orders = orders.filter(status=status)
    if supplier_id is not None:
        orders = orders.filter(supplier_id=supplier_id)
    return orders.order_by("-pk")
