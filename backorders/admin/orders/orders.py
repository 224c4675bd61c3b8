"""Orders with their lines and backorders, and the audit trail (read-only)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from backorders.admin.base import ReadOnlyAdmin, ReadOnlyInline
from backorders.models import Backorder, Event, Order, OrderLine

LINE_FIELDS = ("platform_id", "variant", "title", "sku", "quantity", "quantity_fulfilled")
ORDER_BACKORDER_FIELDS = (
    "variant",
    "quantity",
    "quantity_allocated",
    "status",
    "eta",
    "eta_source",
    "flagged",
)
EVENT_INLINE_FIELDS = (
    "created_at",
    "kind",
    "actor_kind",
    "actor_name",
    "quantity",
    "eta_from",
    "eta_to",
    "note",
)
EVENT_FIELDS = (
    "shop",
    "backorder",
    "kind",
    "actor_kind",
    "actor_name",
    "quantity",
    "eta_from",
    "eta_to",
    "eta_source",
    "note",
    "created_at",
)


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("variant__product")


class OrderBackorderInline(ReadOnlyInline):
    model = Backorder
    fk_name = "order"
    fields = ORDER_BACKORDER_FIELDS
    readonly_fields = ORDER_BACKORDER_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Backorder]:
        return super().get_queryset(request).select_related("order", "variant__product")


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "customer_name", "email", "placed_at", "source", "cancelled_at", "shop"]
    list_select_related = ["shop"]
    list_filter = ["shop", "source", ("cancelled_at", admin.EmptyFieldListFilter)]
    search_fields = ["number", "email", "customer_name"]
    date_hierarchy = "placed_at"
    fields = [
        "shop",
        ("number", "platform_id"),
        ("customer_name", "email", "customer_locale"),
        "source",
        "placed_at",
        "platform_updated_at",
        "cancelled_at",
        ("created_at", "updated_at"),
    ]
    readonly_fields = [
        "shop",
        "number",
        "platform_id",
        "customer_name",
        "email",
        "customer_locale",
        "source",
        "placed_at",
        "platform_updated_at",
        "cancelled_at",
        "created_at",
        "updated_at",
    ]
    inlines = [OrderLineInline, OrderBackorderInline]


class EventInline(ReadOnlyInline):
    model = Event
    fields = EVENT_INLINE_FIELDS
    readonly_fields = EVENT_INLINE_FIELDS
    show_change_link = False
    ordering = ["created_at", "pk"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "backorder",
        "kind",
        "actor_kind",
        "actor_name",
        "quantity",
        "eta_to",
        "eta_source",
        "note",
    ]
    list_select_related = ["backorder__order", "backorder__variant__product"]
    list_filter = ["kind", "actor_kind", "shop"]
    search_fields = ["backorder__order__number", "actor_name", "note"]
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).select_related("backorder__order", "backorder__variant__product")
