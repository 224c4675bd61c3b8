"""Platform webhooks in the admin: every delivery with its status and error, "process again",
the count of refused requests, inventory facts waiting for their product, and customer data
requests with their export for download."""

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from backorders.admin.base import ReadOnlyAdmin, ShopScopedMixin
from backorders.models import CustomerDataRequest, PendingInventory, WebhookDelivery
from backorders.selectors.webhooks import webhook_rejection_counts
from backorders.services.webhooks import webhook_delivery_retry
from backorders.services.webhooks.bodies import body_load


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    # The error column also shows why a delivery was refused (a late or replayed uninstall or
    # shop redact ends "rejected" with the reason), next to the platform's time of the event.
    list_display = [
        "received_at",
        "triggered_at",
        "shop",
        "topic",
        "status",
        "attempts",
        "short_error",
        "webhook_id",
    ]
    list_select_related = ["shop"]
    list_filter = ["status", "topic", "shop"]
    search_fields = ["webhook_id", "event_id", "topic"]
    date_hierarchy = "received_at"
    actions = ["process_again"]
    fields = [
        "shop",
        ("topic", "api_version"),
        ("webhook_id", "event_id"),
        ("triggered_at", "received_at"),
        ("status", "attempts"),
        ("enqueued_at", "claimed_at", "processed_at"),
        "last_error",
        "body_pretty",
    ]
    readonly_fields = [
        "shop",
        "topic",
        "api_version",
        "webhook_id",
        "event_id",
        "triggered_at",
        "received_at",
        "status",
        "attempts",
        "enqueued_at",
        "claimed_at",
        "processed_at",
        "last_error",
        "body_pretty",
    ]
    change_list_template = "admin/backorders/webhookdelivery/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        # The list never loads bodies (up to 1 MiB each); the detail page does.
        queryset = super().get_queryset(request)
        return (
            queryset
            if request.resolver_match and "object_id" in request.resolver_match.kwargs
            else queryset.defer("body")
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A finished delivery may go (the platform's redeliveries are long over by then); one still
        # waiting or being processed may not.
        allowed = ShopScopedMixin.has_change_permission(self, request, obj)  # owner or staff of its shop
        return allowed and (obj is None or obj.status not in WebhookDelivery.Status.pending())

    @admin.display(description=_("error"))
    def short_error(self, obj: WebhookDelivery) -> str:
        return obj.last_error[:80] + ("…" if len(obj.last_error) > 80 else "")

    @admin.display(description=_("body"))
    def body_pretty(self, obj: WebhookDelivery) -> str:
        try:
            text = json.dumps(body_load(obj.body), indent=2, ensure_ascii=False)
        except ValueError:  # not JSON, or nested too deep to parse: shown as stored
            text = obj.body
        return format_html(
            '<pre style="white-space: pre-wrap; max-height: 40em; overflow: auto">{}</pre>', text
        )

    @admin.action(description=_("Process again"))
    def process_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        queued = sum(webhook_delivery_retry(delivery=delivery) for delivery in queryset.defer("body"))
        skipped = queryset.count() - queued
        self.message_user(
            request,
            ngettext(
                "%(n)d delivery queued for processing.", "%(n)d deliveries queued for processing.", queued
            )
            % {"n": queued},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d delivery is still waiting or being processed: left as it is.",
                    "%(n)d deliveries are still waiting or being processed: left as they are.",
                    skipped,
                )
                % {"n": skipped},
                messages.WARNING,
            )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Refused requests are counted for the whole site (no shop is known for most of them):
        # only superusers, who see every shop, are shown the tally.
        counts = (
            {reason: count for reason, count in webhook_rejection_counts().items() if count}
            if self.scope(request).everything
            else {}
        )
        return super().changelist_view(request, {**(extra_context or {}), "rejection_counts": counts})


@admin.register(PendingInventory)
class PendingInventoryAdmin(ReadOnlyAdmin):
    list_display = [
        "inventory_item_id",
        "location_platform_id",
        "available",
        "tracked",
        "platform_updated_at",
        "received_at",
        "shop",
    ]
    list_filter = ["shop"]
    search_fields = ["inventory_item_id"]
    readonly_fields = [
        "shop",
        "inventory_item_id",
        "location_platform_id",
        "available",
        "tracked",
        "platform_updated_at",
        "received_at",
    ]
    fields = list(readonly_fields)


@admin.register(CustomerDataRequest)
class CustomerDataRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "shop", "platform_request_id", "customer_email", "download_link"]
    list_select_related = ["shop"]
    list_filter = ["shop"]
    search_fields = ["customer_email", "platform_request_id"]
    fields = [
        "shop",
        "platform_request_id",
        ("customer_platform_id", "customer_email"),
        "orders_requested",
        "created_at",
        "download_link",
    ]
    readonly_fields = [
        "shop",
        "platform_request_id",
        "customer_platform_id",
        "customer_email",
        "orders_requested",
        "created_at",
        "download_link",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerDataRequest]:
        return super().get_queryset(request).defer("export")

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/export/",
                self.admin_site.admin_view(self.export_view),
                name="backorders_customerdatarequest_export",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("export"))
    def download_link(self, obj: CustomerDataRequest) -> str:
        url = reverse(f"{self.admin_site.name}:backorders_customerdatarequest_export", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download JSON"))

    def export_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        # Through the scoped queryset: another shop's request is not found (404).
        data_request = get_object_or_404(self.get_queryset(request).defer(None), pk=pk)
        response = JsonResponse(data_request.export, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = (
            f'attachment; filename="customer-data-{data_request.platform_request_id or data_request.pk}.json"'
        )
        return response
