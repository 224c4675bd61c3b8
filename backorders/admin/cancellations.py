"""Cancellations to settle: units a customer, the owner or the store cancelled here.

The platform does not know of them: the owner refunds them (or edits the order) there, then marks
them settled here. Rows are written by ``services.lifecycle.backorder_cancel`` only; the one
action calls ``services.lifecycle.cancellations_settle`` (audited on each backorder).
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from backorders.admin.base import ReadOnlyAdmin
from backorders.models import Cancellation, Event
from backorders.services.audit import Actor
from backorders.services.lifecycle import cancellations_settle


class SettledFilter(admin.SimpleListFilter):
    title = _("settled")
    parameter_name = "settled"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("To settle")), ("yes", _("Settled")), ("all", _("All"))]

    def value(self) -> str:
        # The page is the owner's to-do list: it opens on what is still to settle.
        return super().value() or "no"

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:  # no implicit "All": it is one of the lookups
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Cancellation]) -> QuerySet[Cancellation]:
        if self.value() == "no":
            return queryset.filter(settled_at=None)
        if self.value() == "yes":
            return queryset.exclude(settled_at=None)
        return queryset


class CancelledByFilter(admin.SimpleListFilter):
    """Who cancelled: never the platform (its cancellations need no settling)."""

    title = _("cancelled by")
    parameter_name = "actor_kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(kind, label) for kind, label in Event.ActorKind.choices if kind != Event.ActorKind.PLATFORM]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Cancellation]) -> QuerySet[Cancellation]:
        return queryset.filter(actor_kind=self.value()) if self.value() else queryset


@admin.register(Cancellation)
class CancellationAdmin(ReadOnlyAdmin):
    # Fits beside the navigation and the filters at 1366 px: the reason, the settlement and the
    # shop are on the row's own page (settled and shop are filters).
    list_display = [
        "cancelled_on",
        "order",
        "customer_short",
        "item",
        "quantity",
        "amount_display",
        "cancelled_by",
    ]
    list_select_related = ["order", "line", "shop"]
    list_filter = [SettledFilter, CancelledByFilter, "shop"]
    search_fields = ["order__number", "order__email", "order__customer_name", "line__title", "line__sku"]
    date_hierarchy = "created_at"
    actions = ["settle"]
    fields = (
        "shop",
        "order",
        "customer",
        "item",
        "quantity",
        "amount_display",
        "cancelled_by",
        "reason",
        "created_at",
        "settled_at",
        "settled_by",
    )
    readonly_fields = fields

    @admin.display(description=_("customer"), ordering="order__email")
    def customer(self, obj: Cancellation) -> str:
        order = obj.order
        return f"{order.customer_name} <{order.email}>" if order.customer_name else order.email

    @admin.display(description=_("customer"), ordering="order__customer_name")
    def customer_short(self, obj: Cancellation) -> str:
        """The list's narrow column: the name (the address is on the row's page, and searchable)."""
        return obj.order.customer_name or obj.order.email

    @admin.display(description=_("cancelled"), ordering="created_at")
    def cancelled_on(self, obj: Cancellation) -> str:
        return date_format(timezone.localtime(obj.created_at), "SHORT_DATE_FORMAT")

    @admin.display(description=_("item"), ordering="line__title")
    def item(self, obj: Cancellation) -> str:
        return obj.line.title or obj.line.sku

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Cancellation) -> str:
        if obj.amount is None:
            return "—"
        return f"{obj.amount} {obj.currency or obj.shop.currency}"

    @admin.display(description=_("cancelled by"), ordering="actor_kind")
    def cancelled_by(self, obj: Cancellation) -> str:
        label = str(obj.get_actor_kind_display())
        return f"{label}: {obj.actor_name}" if obj.actor_name else label

    @admin.action(description=_("Mark selected cancellations as settled (refunded on the platform)"))
    def settle(self, request: HttpRequest, queryset: QuerySet[Cancellation]) -> None:
        settled = cancellations_settle(
            cancellations=list(queryset), actor=Actor.admin(request.user.get_username())
        )
        self.message_user(
            request, _("%(n)d cancellation(s) marked as settled.") % {"n": settled}, messages.SUCCESS
        )
