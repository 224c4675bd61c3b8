"""The owner's dashboard: what needs attention in a shop's backorders, all read in the database.

Every function takes ``shops``, the shops the reader may see (``dashboard_shops``), so that
per-shop staff scoping only changes which shops are passed. Each is one aggregate query (no
loop over rows in Python), so the dashboard costs the same number of queries at ten backorders
and at a million.

Definitions shared with the backorder list's filters (``backorders.admin.orders``), so that a
tile and the list it links to always count the same rows:

* *open*: waiting or allocated (not shipped, not cancelled);
* *the customer's date*: the current ETA, or the ETA promised at checkout when the current one
  is unknown (the customer keeps the last date they were told);
* *overdue*: open, and the customer's date is before today in the shop's time zone;
* *days waiting*: whole days since the backorder joined the queue; the age buckets group open
  backorders by it (``AGE_BUCKETS``).
"""

import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from backorders.models import Backorder, Cancellation, Event, Notification, Shop, WebhookDelivery
from backorders.selectors.tenancy import Scope
from backorders.selectors.webhooks import webhook_rejection_counts

# (key, first day, last day or None for "and more"): the key is the list filter's value.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-14", 8, 14),
    ("15-30", 15, 30),
    ("31-60", 31, 60),
    ("61-", 61, None),
)
AGE_BUCKET_KEYS = frozenset(key for key, _first, _last in AGE_BUCKETS)

ACTIVITY_DAYS = 90
# The audit events the activity chart counts, in its order.
ACTIVITY_KINDS = (Event.Kind.CREATED, Event.Kind.ALLOCATED, Event.Kind.FULFILLED, Event.Kind.CANCELLED)
TOP_VARIANTS = 10
# Email outcomes: outbox statuses, then what the provider's tracking reported.
EMAIL_STATUSES = (
    Notification.Status.SENT,
    Notification.Status.FAILED,
    Notification.Status.UNKNOWN,
    Notification.Status.SUPPRESSED,
)
EMAIL_DELIVERY_PROBLEMS = ("bounced", "complained")


def dashboard_shops(*, scope: Scope) -> QuerySet[Shop]:
    """The shops the holder of ``scope`` (``selectors.tenancy.user_scope``) may see on the
    dashboard, by name: every shop for an active superuser, their memberships' for anyone else."""
    return scope.filter(Shop.objects.order_by("name", "pk"), "pk")


def zones_today(zones: Iterable[str]) -> dict[str, date]:
    """Today in each of the time ``zones`` ({zone name: date}); pass the shops' zones, e.g.
    ``shops.values_list("timezone", flat=True).distinct()`` (one query)."""
    return {zone: timezone.localdate(timezone=zoneinfo.ZoneInfo(zone)) for zone in set(zones)}


def customer_date_lt(day: date) -> Q:
    """The customer's date (see the module docstring) is before ``day``."""
    return Q(eta__lt=day) | Q(eta__isnull=True, promised_eta__lt=day)


def overdue_q(todays: Mapping[str, date]) -> Q:
    """Open backorders whose customer's date passed, ``todays`` being today per shop time zone
    (``zones_today``). A shop whose zone is not in ``todays`` has nothing overdue."""
    by_zone = Q(pk__in=[])
    for zone, today in todays.items():
        by_zone |= Q(shop__timezone=zone) & customer_date_lt(today)
    return Q(status__in=Backorder.Status.open()) & by_zone


def age_bucket_q(key: str, *, now: datetime) -> Q:
    """Open backorders waiting between the bucket's first and last day (whole days) at ``now``.
    ``key`` must be one of ``AGE_BUCKET_KEYS`` (``KeyError`` otherwise)."""
    first, last = {k: (f, la) for k, f, la in AGE_BUCKETS}[key]
    # Waiting at least ``first`` whole days ⇔ queued at or before now − first days.
    condition = Q(status__in=Backorder.Status.open(), queued_at__lte=now - timedelta(days=first))
    if last is not None:
        condition &= Q(queued_at__gt=now - timedelta(days=last + 1))
    return condition


def age_bucket_label(first: int, last: int | None) -> str:
    """The age bucket as a person reads it ("8–14 days", "over 60 days")."""
    if last is None:
        return _("over %(n)d days") % {"n": first - 1}
    return _("%(first)d–%(last)d days") % {"first": first, "last": last}


def days_waiting(backorder: Backorder, *, now: datetime) -> int:
    """Whole days ``backorder`` has been in the queue at ``now`` (the age buckets' measure)."""
    return max(0, (now - backorder.queued_at).days)


@dataclass(frozen=True)
class Tiles:
    """The dashboard's figures for one set of shops."""

    customers_waiting: int  # distinct customer emails with an open backorder
    units_waiting: int  # units of open backorders not yet covered by stock
    oldest_backorder_id: int | None  # the backorder waiting longest for stock
    oldest_queued_at: datetime | None
    overdue: int  # open backorders whose customer's date passed
    flagged: int  # open backorders flagged for attention (over their limit, product gone…)
    cancellations_to_settle: int
    emails: dict[str, int]  # per EMAIL_STATUSES and EMAIL_DELIVERY_PROBLEMS
    webhooks_failed: int
    rejections: dict[str, int]  # refused webhook requests per reason (all shops: see below)


def dashboard_tiles(*, shops: QuerySet[Shop], todays: Mapping[str, date]) -> Tiles:
    """The tiles of the dashboard for ``shops``. Five queries: the backorder figures in one
    aggregate, the oldest wait, cancellations, emails, failed webhook deliveries.

    Refused webhook requests are counted per reason for the whole site (they are refused before
    any shop is known, and never stored as rows): shown as they are.
    """
    backorders = Backorder.objects.filter(shop__in=shops)
    open_ = Q(status__in=Backorder.Status.open())
    figures = backorders.aggregate(
        customers_waiting=Count("order__email", filter=open_, distinct=True),
        units_waiting=Coalesce(Sum(F("quantity") - F("quantity_allocated"), filter=open_), 0),
        overdue=Count("pk", filter=overdue_q(todays)),
        flagged=Count("pk", filter=open_ & Q(flagged=True)),
    )
    oldest = (
        backorders.filter(status=Backorder.Status.WAITING)
        .order_by("queued_at", "pk")
        .values("pk", "queued_at")
        .first()
    )
    return Tiles(
        customers_waiting=figures["customers_waiting"],
        units_waiting=figures["units_waiting"],
        oldest_backorder_id=oldest["pk"] if oldest else None,
        oldest_queued_at=oldest["queued_at"] if oldest else None,
        overdue=figures["overdue"],
        flagged=figures["flagged"],
        cancellations_to_settle=Cancellation.objects.filter(shop__in=shops, settled_at=None).count(),
        emails=email_outcomes(shops=shops),
        webhooks_failed=WebhookDelivery.objects.filter(
            shop__in=shops, status=WebhookDelivery.Status.FAILED
        ).count(),
        rejections=webhook_rejection_counts(),
    )


def email_outcomes(*, shops: QuerySet[Shop]) -> dict[str, int]:
    """Emails of ``shops`` per outcome: each of ``EMAIL_STATUSES`` (the outbox's status) and each
    of ``EMAIL_DELIVERY_PROBLEMS`` (what the provider's tracking reported last). One query."""
    aggregates: dict[str, Any] = {
        status: Count("pk", filter=Q(status=status)) for status in EMAIL_STATUSES
    } | {problem: Count("pk", filter=Q(delivery_status=problem)) for problem in EMAIL_DELIVERY_PROBLEMS}
    return Notification.objects.filter(shop__in=shops).aggregate(**aggregates)


@dataclass(frozen=True)
class AgeBucket:
    key: str
    first: int
    last: int | None
    units: int  # units not yet covered by stock
    backorders: int


def waiting_by_age(*, shops: QuerySet[Shop], now: datetime) -> list[AgeBucket]:
    """Open backorders of ``shops`` by days waiting (``AGE_BUCKETS``), with their uncovered units.
    One query."""
    aggregates: dict[str, Any] = {}
    for key, _first, _last in AGE_BUCKETS:
        condition = age_bucket_q(key, now=now)
        aggregates[f"u{key}"] = Coalesce(Sum(F("quantity") - F("quantity_allocated"), filter=condition), 0)
        aggregates[f"n{key}"] = Count("pk", filter=condition)
    found = Backorder.objects.filter(shop__in=shops).aggregate(**aggregates)
    return [
        AgeBucket(key, first, last, found[f"u{key}"], found[f"n{key}"]) for key, first, last in AGE_BUCKETS
    ]


@dataclass(frozen=True)
class VariantWaiting:
    variant_id: int
    product_title: str
    variant_title: str
    sku: str
    units: int  # units of open backorders not yet covered by stock
    backorders: int

    @property
    def label(self) -> str:
        if self.variant_title and self.variant_title != "Default Title":
            return f"{self.product_title} — {self.variant_title}"
        return self.product_title


def top_backordered_variants(*, shops: QuerySet[Shop], limit: int = TOP_VARIANTS) -> list[VariantWaiting]:
    """The ``limit`` variants of ``shops`` with the most units waiting for stock (open
    backorders' uncovered units), most first. One query (grouped in the database)."""
    rows = (
        Backorder.objects.filter(shop__in=shops, status=Backorder.Status.WAITING)
        .values("variant_id", "variant__product__title", "variant__title", "variant__sku")
        .annotate(units=Sum(F("quantity") - F("quantity_allocated")), backorders=Count("pk"))
        .order_by("-units", "variant_id")[: max(0, limit)]
    )
    return [
        VariantWaiting(
            variant_id=row["variant_id"],
            product_title=row["variant__product__title"],
            variant_title=row["variant__title"],
            sku=row["variant__sku"],
            units=row["units"],
            backorders=row["backorders"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class DayActivity:
    day: date
    counts: dict[str, int]  # per ACTIVITY_KINDS: backorders with such an event that day


def daily_activity(*, shops: QuerySet[Shop], today: date, days: int = ACTIVITY_DAYS) -> list[DayActivity]:
    """For each of the ``days`` days up to ``today`` (oldest first, every day present): how many
    backorders of ``shops`` were created, allocated, shipped and cancelled, from the audit
    events, by day in the current time zone (the admin's, so that a day links to exactly that
    day's events). A backorder allocated in two steps on one day counts once. One query."""
    zone = timezone.get_current_timezone()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    rows = (
        Event.objects.filter(shop__in=shops, kind__in=ACTIVITY_KINDS, created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "kind")
        .annotate(n=Count("backorder_id", distinct=True))
        .order_by()
    )
    counts: dict[date, dict[str, int]] = {
        first + timedelta(days=i): dict.fromkeys(ACTIVITY_KINDS, 0) for i in range(days)
    }
    for row in rows:
        if row["day"] in counts:  # an event stamped after today (a clock ahead) is left out
            counts[row["day"]][row["kind"]] = row["n"]
    return [DayActivity(day, by_kind) for day, by_kind in counts.items()]


def oldest_wait_days(tiles: Tiles, *, now: datetime) -> int | None:
    """Whole days the longest-waiting backorder has waited, or None when nobody waits."""
    if tiles.oldest_queued_at is None:
        return None
    return max(0, (now - tiles.oldest_queued_at).days)
