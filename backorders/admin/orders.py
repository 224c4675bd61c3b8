"""Orders, their backorders and the audit trail: read-only.

Every change to these rows has consequences (stock moves, the queue advances, customers are
told), so it happens only through the services: the backorder list's actions (cancel, mark as
shipped) call them as the admin user, and every change lands in the audit trail. Marking as
shipped asks first, on a page listing what will be shipped and emailed and what is refused: only
fully allocated backorders can ship from here.
"""

from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from backorders.admin.base import ReadOnlyAdmin, ReadOnlyInline
from backorders.models import Backorder, Event, Order, OrderLine
from backorders.services.audit import Actor
from backorders.services.lifecycle import (
    BackorderStateError,
    backorder_cancel,
    backorder_fulfill,
    backorder_ship_refusal,
)

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


@admin.register(Backorder)
class BackorderAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "variant",
        "quantity",
        "quantity_allocated",
        "status",
        "eta",
        "eta_source",
        "flagged",
        "queued_at",
        "shop",
    ]
    list_select_related = ["order", "variant__product", "shop"]
    list_filter = ["status", "flagged", "shop", "eta_source"]
    search_fields = [
        "order__number",
        "order__email",
        "order__customer_name",
        "variant__sku",
        "variant__product__title",
    ]
    fieldsets = [
        (None, {"fields": ["shop", "order", "line", "variant", "queued_at"]}),
        (_("Quantities"), {"fields": [("quantity", "quantity_allocated", "status")]}),
        (_("ETA"), {"fields": [("eta", "eta_source"), ("promised_eta", "promised_eta_source")]}),
        (_("Attention"), {"fields": ["flagged", "flag_reason"]}),
        (
            _("Fulfilment and cancellation"),
            {
                "fields": [
                    ("tracking_company", "tracking_number", "tracking_url"),
                    "fulfilled_at",
                    ("cancelled_at", "cancel_reason"),
                ]
            },
        ),
        (_("History"), {"fields": [("created_at", "updated_at")]}),
    ]
    readonly_fields = [
        "shop",
        "order",
        "line",
        "variant",
        "queued_at",
        "quantity",
        "quantity_allocated",
        "status",
        "eta",
        "eta_source",
        "promised_eta",
        "promised_eta_source",
        "flagged",
        "flag_reason",
        "tracking_company",
        "tracking_number",
        "tracking_url",
        "fulfilled_at",
        "cancelled_at",
        "cancel_reason",
        "created_at",
        "updated_at",
    ]
    inlines = [EventInline]
    actions = ["cancel_backorders", "fulfil_backorders"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Backorder]:
        return super().get_queryset(request).select_related("order", "line", "variant__product", "shop")

    def _apply(self, request: HttpRequest, queryset: QuerySet[Backorder], service: Any, done: str) -> None:
        """Call ``service`` for each selected backorder as this admin user; report per outcome."""
        actor = Actor.admin(request.user.get_username())
        succeeded, refused = 0, []
        for backorder in queryset.order_by("pk"):
            try:
                service(backorder=backorder, actor=actor)
                succeeded += 1
            except BackorderStateError as error:
                refused.append(f"{backorder}: {error}")
        if succeeded:
            self.message_user(request, done % {"n": succeeded}, messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)

    @admin.action(description=_("Cancel selected backorders (units go to the next in line)"))
    def cancel_backorders(self, request: HttpRequest, queryset: QuerySet[Backorder]) -> HttpResponse | None:
        """First a confirmation page (what will be cancelled and emailed, with the reason the
        customer reads); its "yes" cancels through the service as this admin user."""
        if request.POST.get("post") == "yes":
            reason = " ".join(request.POST.get("reason", "").split())[:255] or str(
                _("Cancelled by the shop.")
            )
            self._apply(
                request,
                queryset,
                partial(backorder_cancel, reason=reason),
                str(_("%(n)d backorder(s) cancelled; they are listed under “Cancellations to settle”.")),
            )
            return None
        backorders = list(queryset.select_related("order", "variant__product").order_by("pk"))
        cancellable = [bo for bo in backorders if bo.status in Backorder.Status.open()]
        if not cancellable:
            self.message_user(
                request,
                _("Nothing was cancelled: only waiting or allocated backorders can be cancelled."),
                messages.ERROR,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Cancel backorders"),
            "opts": self.model._meta,
            "media": self.media,
            "cancellable": cancellable,
            "refused": [bo for bo in backorders if bo.status not in Backorder.Status.open()],
            "default_reason": _("Cancelled by the shop."),
            "action": "cancel_backorders",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/backorders/backorder/cancel_confirmation.html", context)

    @admin.action(description=_("Mark selected backorders as shipped"))
    def fulfil_backorders(self, request: HttpRequest, queryset: QuerySet[Backorder]) -> HttpResponse | None:
        """First a confirmation page (what will be shipped and emailed, what is refused and why);
        its "yes" marks them shipped through the service, which refuses anything not allocated."""
        backorders = list(queryset.order_by("pk"))
        refusals = {backorder.pk: backorder_ship_refusal(backorder) for backorder in backorders}
        shippable = [backorder for backorder in backorders if not refusals[backorder.pk]]
        refused = [(backorder, refusals[backorder.pk]) for backorder in backorders if refusals[backorder.pk]]
        if request.POST.get("post") == "yes":
            self._apply(
                request,
                queryset,
                partial(backorder_fulfill, allocated_only=True),
                str(_("%(n)d backorder(s) marked as shipped.")),
            )
            return None
        if not shippable:
            self.message_user(
                request,
                _(
                    "Nothing was marked as shipped: only backorders whose units are all allocated "
                    "(stock is there for them) can be shipped from here."
                ),
                messages.ERROR,
            )
            for backorder, reason in refused:
                self.message_user(request, f"{backorder}: {reason}", messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Mark backorders as shipped"),
            "opts": self.model._meta,
            "media": self.media,
            "shippable": shippable,
            "refused": refused,
            "action": "fulfil_backorders",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/backorders/backorder/ship_confirmation.html", context)


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
