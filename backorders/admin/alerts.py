"""Restock alerts for the owner: every sign-up (filter by status and shop, search by address
or SKU), and each variant's funnel (signed up, confirmed, alerted, bought). Read-mostly: the one
change is stopping alerts, through the service the unsubscribe link calls."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from backorders.admin.base import ReadOnlyAdmin
from backorders.models import RestockAlert, Shop, Variant
from backorders.selectors.alerts import alert_funnel
from backorders.services.alerts import alert_unsubscribe


@admin.register(RestockAlert)
class RestockAlertAdmin(ReadOnlyAdmin):
    change_list_template = "backorders/admin/restockalert_change_list.html"
    list_display = ["email", "variant", "status", "created_at", "confirmed_at", "alerted_at", "shop"]
    list_select_related = ["variant__product", "shop"]
    list_filter = ["status", "shop", "language"]
    search_fields = ["email", "variant__sku", "variant__product__title"]
    date_hierarchy = "created_at"
    actions = ["stop"]
    _FIELDS = [
        "shop",
        "variant",
        "email",
        "language",
        "status",
        "created_at",
        "confirmed_at",
        "alerted_at",
        "unsubscribed_at",
        "expires_at",
        "confirmation_sent_at",
        "alerts_planned",
    ]
    fields = tuple(_FIELDS)
    readonly_fields = _FIELDS

    @admin.action(description=_("Stop the selected restock alerts"))
    def stop(self, request: HttpRequest, queryset: QuerySet[RestockAlert]) -> None:
        """Through ``alert_unsubscribe``, as the customer's unsubscribe link does."""
        alerts = list(queryset.filter(status__in=RestockAlert.Status.active()))
        for alert in alerts:
            alert_unsubscribe(alert=alert)
        self.message_user(
            request,
            ngettext("%(n)d restock alert stopped.", "%(n)d restock alerts stopped.", len(alerts))
            % {"n": len(alerts)},
            messages.SUCCESS,
        )

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("funnel/", view(self.funnel), name="backorders_restockalert_funnel"),
            *super().get_urls(),
        ]

    def funnel(self, request: HttpRequest) -> HttpResponse:
        """Each variant's funnel, most sign-ups first (optionally one shop's: ``?shop=<id>``)."""
        if not self.has_view_permission(request):
            raise Http404
        scope = self.scope(request)
        shops = scope.filter(Shop.objects.order_by("domain"), "pk")
        shop = None
        if (shop_id := request.GET.get("shop", "")[:20]).isdigit():
            # Another shop's id is answered as an unknown one: 404.
            shop = shops.filter(pk=int(shop_id)).first()
            if shop is None:
                raise Http404(_("There is no shop %(id)s that you may see.") % {"id": shop_id})
        funnels = alert_funnel(shop=shop, shop_ids=None if scope.everything else scope.shop_ids)
        variants = scope.filter(Variant.objects.select_related("product", "shop")).in_bulk(list(funnels))
        rows: list[dict[str, Any]] = [
            {"variant": variants[variant_id], "funnel": funnel}
            for variant_id, funnel in sorted(funnels.items(), key=lambda item: (-item[1].signed_up, item[0]))
            if variant_id in variants
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Restock alert funnel"),
            "opts": self.model._meta,
            "rows": rows,
            "shop": shop,
            "shops": shops,
        }
        return TemplateResponse(request, "backorders/admin/restockalert_funnel.html", context)


__all__ = ["RestockAlertAdmin"]
