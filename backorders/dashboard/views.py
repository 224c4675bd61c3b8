"""The dashboard page: parse the shop, read the figures (``selectors.dashboard``), lay out the
charts (``charts``), and link every tile and bar to the admin list that shows exactly its rows.

Queries: the session and user, the shops, then the selectors' nine (one each for the backorder
figures, the oldest wait, cancellations, emails, webhooks, ages, top variants, activity): about
a dozen, whatever the number of rows.
"""

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from backorders.dashboard.charts import Row, hbar_chart, strips_chart
from backorders.dashboard.site import site_header_for
from backorders.models import Event, Notification, Shop
from backorders.selectors.dashboard import (
    ACTIVITY_KINDS,
    EMAIL_DELIVERY_PROBLEMS,
    EMAIL_STATUSES,
    age_bucket_label,
    daily_activity,
    dashboard_shops,
    dashboard_tiles,
    oldest_wait_days,
    top_backordered_variants,
    waiting_by_age,
)
from backorders.selectors.tenancy import request_scope
from backorders.selectors.webhooks import REJECTION_REASONS

SHOP_PARAM = "shop"
SHOP_ID_MAX_DIGITS = 18


def admin_list(model: str, **filters: Any) -> str:
    """The admin changelist of the app's ``model`` filtered by ``filters`` (list filter
    parameters, which the list applies exactly)."""
    url = reverse(f"admin:backorders_{model}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def _refuse(request: HttpRequest, site: AdminSite, status: int, message: str) -> HttpResponse:
    context = {**site.each_context(request), "title": _("Dashboard"), "message": message}
    return TemplateResponse(request, "backorders/dashboard/refused.html", context, status=status)


def _chosen_shop(request: HttpRequest, site: AdminSite, shops: list[Shop]) -> Shop | HttpResponse | None:
    raw = request.GET.get(SHOP_PARAM)
    if raw is None or raw == "":
        return shops[0] if shops else None
    if not raw.isascii() or not raw.isdigit() or len(raw) > SHOP_ID_MAX_DIGITS:
        return _refuse(
            request,
            site,
            400,
            _("“%(value)s” is not a shop: choose one from the list of shops.") % {"value": raw[:40]},
        )
    for shop in shops:
        if shop.pk == int(raw):
            return shop
    return _refuse(request, site, 404, _("There is no shop %(id)s that you may see.") % {"id": raw})


def dashboard_context(request: HttpRequest, *, site: AdminSite) -> dict[str, Any] | HttpResponse:
    """What the dashboard template shows for the request's user and shop, or the response that
    refuses the request (a malformed shop: 400; a shop the user may not see: 404)."""
    user_scope = request_scope(request)
    shops = list(dashboard_shops(scope=user_scope))
    chosen = _chosen_shop(request, site, shops)
    if isinstance(chosen, HttpResponse):
        return chosen
    if chosen is None:
        return {"title": _("Dashboard"), "dashboard": None, "shops": []}
    shop = chosen
    scope = Shop.objects.filter(pk=shop.pk)
    now = timezone.now()
    shop_today = timezone.localdate(timezone=shop.zoneinfo)
    tiles = dashboard_tiles(shops=scope, todays={shop.timezone: shop_today})
    by_shop = {"shop__id__exact": shop.pk}
    return {
        "title": _("Dashboard"),
        "site_header": site_header_for(shop.name),
        "shop": shop,
        "shops": shops,
        "dashboard": True,
        # Refused webhook requests are counted for the whole site (most name no known shop):
        # shown to superusers only, who see every shop.
        "show_rejections": user_scope.everything,
        "tiles": _tiles(tiles, shop=shop, now=now, by_shop=by_shop),
        "rejections": [
            {
                "reason": reason,
                "label": REJECTION_LABELS.get(reason, reason),
                "count": tiles.rejections[reason],
            }
            for reason in REJECTION_REASONS
        ],
        "rejections_total": sum(tiles.rejections.values()),
        "webhooks_url": admin_list("webhookdelivery", **by_shop),
        "age_chart": _age_chart(shop=scope, now=now, by_shop=by_shop),
        "top_chart": _top_chart(shop=scope, by_shop=by_shop),
        "activity": _activity(shop=scope, by_shop=by_shop),
        "email_chart": _email_chart(tiles.emails, by_shop=by_shop),
        "backorders_url": admin_list("backorder", **by_shop),
    }


REJECTION_LABELS = {
    "missing_header": gettext_lazy("a required header is missing"),
    "too_large": gettext_lazy("body too large"),
    "unknown_shop": gettext_lazy("unknown shop"),
    "no_secret": gettext_lazy("no secret configured"),
    "bad_signature": gettext_lazy("bad signature"),
    "inactive_shop": gettext_lazy("the shop uninstalled the app"),
    "not_json_object": gettext_lazy("body is not a JSON object"),
    "too_deep": gettext_lazy("body nested too deeply"),
}


def _tiles(tiles: Any, *, shop: Shop, now: Any, by_shop: dict[str, Any]) -> list[dict[str, Any]]:
    oldest_days = oldest_wait_days(tiles, now=now)
    emails_bad = tiles.emails[Notification.Status.FAILED] + tiles.emails[Notification.Status.UNKNOWN]
    return [
        {
            "id": "customers-waiting",
            "label": _("Customers waiting"),
            "value": tiles.customers_waiting,
            "href": admin_list("backorder", status="open", **by_shop),
        },
        {
            "id": "units-waiting",
            "label": _("Units waiting for stock"),
            "value": tiles.units_waiting,
            "href": admin_list("backorder", status="waiting", **by_shop),
        },
        {
            "id": "oldest-wait",
            "label": _("Oldest wait"),
            "value": "—"
            if oldest_days is None
            else ngettext("%(n)d day", "%(n)d days", oldest_days) % {"n": oldest_days},
            "href": reverse("admin:backorders_backorder_change", args=[tiles.oldest_backorder_id])
            if tiles.oldest_backorder_id
            else admin_list("backorder", status="waiting", **by_shop),
        },
        {
            "id": "overdue",
            "label": _("Overdue ETAs"),
            "value": tiles.overdue,
            "href": admin_list("backorder", overdue="yes", **by_shop),
            "alert": tiles.overdue > 0,
        },
        {
            "id": "flagged",
            "label": _("Flagged for attention"),
            "value": tiles.flagged,
            "href": admin_list("backorder", status="open", flagged__exact=1, **by_shop),
            "alert": tiles.flagged > 0,
        },
        {
            "id": "cancellations",
            "label": _("Cancellations to settle"),
            "value": tiles.cancellations_to_settle,
            "href": admin_list("cancellation", settled="no", **by_shop),
            "alert": tiles.cancellations_to_settle > 0,
        },
        {
            "id": "emails-failed",
            "label": _("Emails failed"),
            "value": tiles.emails[Notification.Status.FAILED],
            "href": admin_list("notification", status__exact=Notification.Status.FAILED, **by_shop),
            "alert": emails_bad > 0,
        },
        {
            "id": "emails-unknown",
            "label": _("Emails of unknown fate"),
            "value": tiles.emails[Notification.Status.UNKNOWN],
            "href": admin_list("notification", status__exact=Notification.Status.UNKNOWN, **by_shop),
            "alert": tiles.emails[Notification.Status.UNKNOWN] > 0,
        },
        {
            "id": "webhooks-failed",
            "label": _("Webhook deliveries failed"),
            "value": tiles.webhooks_failed,
            "href": admin_list("webhookdelivery", status__exact="failed", **by_shop),
            "alert": tiles.webhooks_failed > 0,
        },
    ]


def _age_chart(*, shop: Any, now: Any, by_shop: dict[str, Any]) -> Any:
    buckets = waiting_by_age(shops=shop, now=now)
    rows = []
    for bucket in buckets:
        label = age_bucket_label(bucket.first, bucket.last)
        rows.append(
            Row(
                label=label,
                value=bucket.units,
                href=admin_list("backorder", age=bucket.key, **by_shop),
                title=ngettext(
                    "%(label)s: %(units)d unit waiting (%(n)d backorder)",
                    "%(label)s: %(units)d units waiting (%(n)d backorders)",
                    bucket.units,
                )
                % {"label": label, "units": bucket.units, "n": bucket.backorders},
            )
        )
    return hbar_chart(
        id="chart-age",
        title=_("Units waiting, by days waiting"),
        desc=_("Units of open backorders not yet covered by stock, grouped by how long they have waited."),
        rows=rows,
        label_width=120,
    )


def _top_chart(*, shop: Any, by_shop: dict[str, Any]) -> Any:
    rows = [
        Row(
            label=variant.label,
            value=variant.units,
            href=admin_list("backorder", status="waiting", variant__id__exact=variant.variant_id, **by_shop),
            title=ngettext(
                "%(item)s (%(sku)s): %(units)d unit waiting",
                "%(item)s (%(sku)s): %(units)d units waiting",
                variant.units,
            )
            % {"item": variant.label, "sku": variant.sku or "—", "units": variant.units},
        )
        for variant in top_backordered_variants(shops=shop)
    ]
    return hbar_chart(
        id="chart-top",
        title=_("Most backordered items"),
        desc=_("The items with the most units waiting for stock."),
        rows=rows,
    )


ACTIVITY_LABELS = {
    Event.Kind.CREATED: gettext_lazy("Created"),
    Event.Kind.ALLOCATED: gettext_lazy("Allocated"),
    Event.Kind.FULFILLED: gettext_lazy("Shipped"),
    Event.Kind.CANCELLED: gettext_lazy("Cancelled"),
}


def _activity(*, shop: Any, by_shop: dict[str, Any]) -> dict[str, Any]:
    today = timezone.localdate()
    days = daily_activity(shops=shop, today=today)
    events_by_shop = {"shop__id__exact": by_shop["shop__id__exact"]}
    series = []
    for kind in ACTIVITY_KINDS:
        label = str(ACTIVITY_LABELS[kind])
        rows = [
            Row(
                label=date_format(day.day, "SHORT_DATE_FORMAT"),
                value=day.counts[kind],
                href=admin_list(
                    "event", kind__exact=kind, created_at__date=day.day.isoformat(), **events_by_shop
                ),
                title=_("%(day)s: %(n)d %(what)s")
                % {"day": date_format(day.day, "DATE_FORMAT"), "n": day.counts[kind], "what": label.lower()},
            )
            for day in days
        ]
        series.append((label, f"series-{kind}", rows))
    chart = strips_chart(
        id="chart-activity",
        title=_("Backorders per day, last %(n)d days") % {"n": len(days)},
        desc=_(
            "For each day: how many backorders were created, allocated, shipped and cancelled, from "
            "the audit trail. Each strip is scaled to its own busiest day."
        ),
        series=series,
        first_label=date_format(days[0].day, "SHORT_DATE_FORMAT") if days else "",
        last_label=date_format(days[-1].day, "SHORT_DATE_FORMAT") if days else "",
    )
    return {
        "chart": chart,
        "labels": [ACTIVITY_LABELS[kind] for kind in ACTIVITY_KINDS],
        "table": [
            (day.day, [day.counts[kind] for kind in ACTIVITY_KINDS])
            for day in reversed(days)
            if any(day.counts.values())
        ],
        "since": days[0].day if days else today - timedelta(days=1),
    }


EMAIL_LABELS = {
    Notification.Status.SENT: gettext_lazy("Sent"),
    Notification.Status.FAILED: gettext_lazy("Failed"),
    Notification.Status.UNKNOWN: gettext_lazy("Unknown: may have been sent"),
    Notification.Status.SUPPRESSED: gettext_lazy("Suppressed (address blocked)"),
    "bounced": gettext_lazy("Bounced (provider)"),
    "complained": gettext_lazy("Spam complaint (provider)"),
}


def _email_chart(emails: dict[str, int], *, by_shop: dict[str, Any]) -> Any:
    rows = [
        Row(
            label=str(EMAIL_LABELS[status]),
            value=emails[status],
            href=admin_list("notification", status__exact=status, **by_shop),
            title=f"{EMAIL_LABELS[status]}: {emails[status]}",
        )
        for status in EMAIL_STATUSES
    ] + [
        Row(
            label=str(EMAIL_LABELS[problem]),
            value=emails[problem],
            href=admin_list("notification", delivery_status__exact=problem, **by_shop),
            title=f"{EMAIL_LABELS[problem]}: {emails[problem]}",
        )
        for problem in EMAIL_DELIVERY_PROBLEMS
    ]
    return hbar_chart(
        id="chart-emails",
        title=_("Emails by outcome"),
        desc=_("Emails to customers and to you, by what became of them."),
        rows=rows,
        label_width=250,
    )
