"""Nightly repair of denormalised counters (``Variant.available``, ``units_waiting``,
``units_allocated``) from the rows they summarise. A mismatch is a bug somewhere; it is logged
with both values so that it can be found, then repaired."""

import logging
from dataclasses import dataclass

from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from backorders.models import Backorder, InventoryLevel, Shop, Variant
from backorders.services.audit import Actor
from backorders.services.locking import retrying_atomic, variants_lock
from backorders.services.stock import stock_allocate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mismatch:
    variant_id: int
    field: str
    stored: int
    actual: int


def _sum(queryset: QuerySet, expression: object) -> Coalesce:
    total = queryset.order_by().values("variant_id").annotate(total=Sum(expression)).values("total")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def _with_actual(variants: QuerySet[Variant]) -> QuerySet[Variant]:
    open_backorders = Backorder.objects.filter(variant=OuterRef("pk"), status__in=Backorder.Status.open())
    return variants.annotate(
        actual_available=_sum(InventoryLevel.objects.filter(variant=OuterRef("pk")), F("available")),
        actual_waiting=_sum(open_backorders, F("quantity") - F("quantity_allocated")),
        actual_allocated=_sum(open_backorders, F("quantity_allocated")),
    )


FIELDS = {
    "available": "actual_available",
    "units_waiting": "actual_waiting",
    "units_allocated": "actual_allocated",
}


def stock_reconcile(*, shop: Shop | None = None) -> list[Mismatch]:
    """Find variants whose counters disagree with their rows (one query), then repair each under
    its lock, re-checking there, and allocate any units the repair freed. Returns what was wrong."""
    variants = Variant.objects.all() if shop is None else Variant.objects.filter(shop=shop)
    suspects = (
        _with_actual(variants)
        .filter(
            ~Q(available=F("actual_available"))
            | ~Q(units_waiting=F("actual_waiting"))
            | ~Q(units_allocated=F("actual_allocated"))
        )
        .values_list("pk", flat=True)
    )
    found: list[Mismatch] = []
    for variant_id in list(suspects):
        found.extend(_variant_repair(variant_id=variant_id))
    return found


@retrying_atomic
def _variant_repair(*, variant_id: int) -> list[Mismatch]:
    variant = variants_lock([variant_id])[variant_id]
    actual = _with_actual(Variant.objects.filter(pk=variant_id)).values(*FIELDS.values()).get()
    found = [
        Mismatch(variant_id, field, getattr(variant, field), actual[column])
        for field, column in FIELDS.items()
        if getattr(variant, field) != actual[column]
    ]
    if not found:
        return []
    for mismatch in found:
        logger.warning(
            "reconcile: variant %s %s was %s, rows say %s; repaired",
            variant_id,
            mismatch.field,
            mismatch.stored,
            mismatch.actual,
        )
        setattr(variant, mismatch.field, mismatch.actual)
    Variant.objects.filter(pk=variant_id).update(
        **{m.field: m.actual for m in found}, updated_at=timezone.now()
    )
    stock_allocate(variant=variant, actor=Actor.system("reconcile"))
    return found
