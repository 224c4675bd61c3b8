"""True daily demand per variant: what customers asked for, per shop-local day, with the days
we could not observe marked censored (the input of ``services.planning.forecast``).

What counts as demand
    Every unit of an order line placed that day, backordered or not: a shop that counts only the
    units it shipped sees demand fall exactly when it runs out, and would then order less. Units
    cancelled are not demand: ``OrderLine.quantity`` already excludes the units cancelled here
    (``quantity_cancelled``), and an order the platform cancelled (``Order.cancelled_at``) counts
    nothing. Lines without a variant (custom items, gift cards) are not any variant's demand.
    The day is the order's ``placed_at`` in the shop's time zone (``Shop.timezone``).

Censored days (the variant could not be ordered, so a zero says nothing about demand)
    We do not store a history of stock levels, so the rule uses what the database does record:

    * **Before the variant was known**: the days before the earlier of ``Variant.created_at``
      (shop-local) and its first recorded order. Nothing was recorded for it then, so those days
      are not observations. (From its first order on, a day without one is a day of no demand:
      a history imported after the variant's row was created keeps its zeros.)
    * **Stock-out spells proven by "notify me" sign-ups.** ``services.alerts.alert_signup``
      refuses a sign-up while the variant can be ordered (in stock, or backorderable within its
      limit), so a ``RestockAlert`` created on a day proves the variant could not be ordered
      then. The spell lasts until the variant could be ordered again, which the alert records
      as ``alerted_at`` (a wave runs only once it is orderable). Days from the sign-up's day to
      the day before ``alerted_at``'s day are censored, and always the sign-up day itself; an
      alert still pending or confirmed (not alerted yet) censors every day up to ``end``. An alert
      that ended without being sent (unsubscribed, expired) proves only its own day.
    * **A day with recorded demand is never censored**: a sale proves the variant could be
      ordered that day (the count may be partial; it is kept as observed).

    Limits: a stock-out nobody signed up for during is invisible (its zeros count as demand of
    zero, so demand is underestimated there, as before); a variant that was orderable for part
    of a spell's day is censored for the whole day; a spell's end is only as exact as the wave
    that closed it (``ALERT_WAVE_INTERVAL_SECONDS``).

Queries: three, whatever the number of variants, orders or days (the variants; the demand summed
in SQL by variant and local day; the alert spells grouped by variant and sign-up day).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from django.db.models import Case, DateTimeField, F, Max, Q, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from backorders.models import OrderLine, RestockAlert, Shop, Variant

#: The longest history one call may read (three years): bounds the arrays' memory.
MAX_DAYS = 3 * 366


class DemandRangeError(ValueError):
    """The requested range of days is empty or longer than ``MAX_DAYS``."""


@dataclass(frozen=True)
class DemandHistory:
    """Daily demand of a shop's variants over ``start`` … ``start + days - 1`` (shop-local).

    ``demand[i, t]`` is the units variant ``variant_ids[i]`` was ordered on day ``t``;
    ``censored[i, t]`` is True where that day is not an observation (see the module docstring),
    and ``demand`` is 0 there."""

    variant_ids: np.ndarray  # int64, shape (variants,), ascending
    start: date
    demand: np.ndarray  # float64, shape (variants, days)
    censored: np.ndarray  # bool, shape (variants, days)

    @property
    def days(self) -> int:
        return int(self.demand.shape[1])

    def day(self, index: int) -> date:
        """The calendar date of column ``index``."""
        return self.start + timedelta(days=index)


def demand_daily(
    *, shop: Shop, start: date, end: date, variant_ids: Sequence[int] | None = None
) -> DemandHistory:
    """Demand per variant of ``shop`` (all of them, or those of ``variant_ids`` that belong to it)
    and shop-local day from ``start`` to ``end`` inclusive, with the censored mask. Three queries.
    Raises ``DemandRangeError`` when ``end`` is before ``start`` or the range exceeds ``MAX_DAYS``."""
    days = (end - start).days + 1
    if days < 1:
        raise DemandRangeError(_("The end of the demand history must not be before its start."))
    if days > MAX_DAYS:
        raise DemandRangeError(
            _("A demand history covers at most %(max)s days; %(days)s were asked for.")
            % {"max": MAX_DAYS, "days": days}
        )
    tz = shop.zoneinfo
    variants = Variant.objects.filter(shop=shop)
    if variant_ids is not None:
        variants = variants.filter(pk__in=list(variant_ids))
    rows = list(variants.order_by("pk").values_list("pk", "created_at"))
    ids = np.array([pk for pk, _ in rows], dtype=np.int64)
    n = len(rows)
    demand = np.zeros((n, days), dtype=np.float64)
    censored = np.zeros((n, days), dtype=bool)
    if not n:
        return DemandHistory(variant_ids=ids, start=start, demand=demand, censored=censored)

    created = np.array([(timezone.localtime(c, tz).date() - start).days for _, c in rows], dtype=np.int64)
    lo = datetime.combine(start, time.min, tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    # The whole shop by its shop column (no list of 100,000 ids in the statement); a subset by id.
    in_scope = Q(variant_id__in=ids.tolist()) if variant_ids is not None else Q(variant__isnull=False)

    sums = (
        OrderLine.objects.filter(in_scope, shop=shop, order__placed_at__gte=lo, order__placed_at__lt=hi)
        .filter(order__cancelled_at__isnull=True, quantity__gt=0)
        .annotate(day=TruncDate("order__placed_at", tzinfo=tz))
        .order_by()
        .values("variant_id", "day")
        .annotate(units=Sum("quantity"))
        .values_list("variant_id", "day", "units")
    )
    recorded = np.array([(v, (d - start).days, u) for v, d, u in sums], dtype=np.int64).reshape(-1, 3)
    rows_of = np.searchsorted(ids, recorded[:, 0])
    demand[rows_of, recorded[:, 1]] = recorded[:, 2]

    # Before the variant was known: censored (a vectorised comparison, no loop). Known from its
    # first recorded order when that is earlier than its row (history imported after the fact):
    # censoring the zeros between its orders would leave only the days that sold.
    sold = demand > 0
    first_sale = np.where(sold.any(axis=1), sold.argmax(axis=1), days)
    censored |= np.arange(days)[None, :] < np.minimum(created, first_sale)[:, None]

    # Stock-out spells: one row per variant and sign-up day, ending where the last of that
    # day's alerts says the variant was orderable again ("now" while one still waits).
    now = timezone.now()
    ended = Case(
        When(status__in=RestockAlert.Status.active(), then=Value(now)),
        default=Coalesce(F("alerted_at"), F("created_at")),
        output_field=DateTimeField(),
    )
    spells = (
        RestockAlert.objects.filter(in_scope, shop=shop, created_at__lt=hi)
        .filter(Q(status__in=RestockAlert.Status.active()) | Q(alerted_at__gte=lo) | Q(created_at__gte=lo))
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .order_by()
        .values("variant_id", "day")
        .annotate(until=Max(ended))
        .values_list("variant_id", "day", "until")
    )
    marks: list[tuple[int, int, int]] = []
    for variant_id, day, until in spells:
        first = (day - start).days
        until_day = timezone.localtime(until, tz).date()
        # Orderable again on ``until_day``: the spell is the days before it (at least its own
        # first day); a spell still open covers every day up to ``end``.
        last = (until_day - start).days - (1 if until < now else 0)
        last = max(first, min(last, days - 1))
        first = max(first, 0)
        if last >= first:
            marks.append((int(np.searchsorted(ids, variant_id)), first, last))
    if marks:
        spell = np.array(marks, dtype=np.int64)
        # Paint the intervals with a difference array: +1 at the first day, -1 after the last.
        diff = np.zeros((n, days + 1), dtype=np.int32)
        np.add.at(diff, (spell[:, 0], spell[:, 1]), 1)
        np.add.at(diff, (spell[:, 0], spell[:, 2] + 1), -1)
        censored |= np.cumsum(diff[:, :days], axis=1) > 0

    censored &= demand == 0  # a day with a sale was orderable
    return DemandHistory(variant_ids=ids, start=start, demand=demand, censored=censored)
