"""The backorder list (the queue at a glance) and the backorder's page with its actions."""

from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from backorders.admin.base import ReadOnlyAdmin
from backorders.admin.orders.orders import EventInline
from backorders.admin.orders.queue import (
    AgeFilter,
    MoveEtaForm,
    OverdueFilter,
    StatusFilter,
    filter_refusals,
    request_todays,
)
from backorders.models import Backorder
from backorders.models.orders import EtaSource
from backorders.selectors.dashboard import days_waiting, overdue_q
from backorders.services.audit import Actor
from backorders.services.eta import EtaRefused, backorder_move_eta
from backorders.services.lifecycle import (
    BackorderStateError,
    backorder_cancel,
    backorder_fulfill,
    backorder_ship_refusal,
)
from backorders.services.notifications import shop_setting


@admin.register(Backorder)
class BackorderAdmin(ReadOnlyAdmin):
    # The queue at a glance, readable at 1366 px beside the filters: who waits (order, customer),
    # for what, how much is still uncovered, for how long, until when (overdue in red), and where
    # it stands. Flagged and overdue backorders come first; the shop is a filter.
    list_display = [
        "order_number",
        "customer",
        "item",
        "units",
        "days_waiting",
        "customer_eta",
        "status_display",
    ]
    list_display_links = ["order_number"]
    list_select_related = ["order", "variant__product", "shop"]
    list_filter = [StatusFilter, OverdueFilter, AgeFilter, "flagged", "shop"]
    search_fields = [
        "order__number",
        "order__email",
        "order__customer_name",
        "variant__sku",
        "variant__product__title",
    ]
    search_help_text = _("Order number, customer email or name, SKU or product title.")
    change_form_template = "admin/backorders/backorder/change_form.html"
    fieldsets = [
        (None, {"fields": ["shop", "order", "customer_contact", "line", "variant", "queued_at"]}),
        (_("Quantities"), {"fields": [("quantity", "quantity_allocated", "status")]}),
        (
            _("ETA"),
            {
                "fields": [
                    ("eta", "eta_source", "eta_pinned"),
                    "eta_purchase_order",
                    ("promised_eta", "promised_eta_source"),
                ]
            },
        ),
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
        "customer_contact",
        "line",
        "variant",
        "queued_at",
        "quantity",
        "quantity_allocated",
        "status",
        "eta",
        "eta_source",
        "eta_pinned",
        "eta_purchase_order",
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

    class Media:
        css = {"all": ["backorders/admin.css"]}

    def get_ordering(self, request: HttpRequest) -> list[str]:
        """Flagged open backorders first, then overdue ones, then the longest waiting (two of
        these are annotations of ``get_queryset``, which the ``ordering`` attribute may not name)."""
        return ["-attention_first", "-overdue_first", "queued_at", "pk"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Backorder]:
        # ModelAdmin.get_queryset orders by ``ordering`` before any annotation exists, and the
        # default order is by two annotations: annotate first, then order (per-shop scoping must
        # filter here too, through the scope).
        overdue = overdue_q(request_todays(request))
        return (
            self.scope(request)
            .filter(self.model._default_manager.get_queryset(), self.shop_path)
            .select_related("order", "line", "variant__product", "shop")
            .annotate(
                attention_first=Case(
                    When(Q(status__in=Backorder.Status.open(), flagged=True), then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                ),
                overdue_first=Case(
                    When(overdue, then=Value(True)), default=Value(False), output_field=BooleanField()
                ),
            )
            .order_by(*(self.get_ordering(request) or ()))
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """A filter value the list does not know is answered 400 with what is allowed (Django
        would silently show the whole list instead)."""
        if refusals := filter_refusals(request):
            context = {
                **self.admin_site.each_context(request),
                "title": _("This filter cannot be applied"),
                "opts": self.model._meta,
                "refusals": refusals,
            }
            return TemplateResponse(
                request, "admin/backorders/backorder/bad_filter.html", context, status=400
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("order"), ordering="order__number")
    def order_number(self, obj: Backorder) -> str:
        return str(obj.order)

    @admin.display(description=_("customer"), ordering="order__customer_name")
    def customer(self, obj: Backorder) -> str:
        order = obj.order
        if order.customer_name:
            return format_html(
                '{}<br><span class="backorders-quiet">{}</span>', order.customer_name, order.email
            )
        return order.email

    @admin.display(description=_("customer"))
    def customer_contact(self, obj: Backorder) -> str:
        order = obj.order
        return f"{order.customer_name} <{order.email}>" if order.customer_name else order.email

    @admin.display(description=_("item"), ordering="variant__product__title")
    def item(self, obj: Backorder) -> str:
        variant = obj.variant
        if variant.sku:
            return format_html('{}<br><span class="backorders-quiet">{}</span>', str(variant), variant.sku)
        return str(variant)

    @admin.display(description=_("waiting / allocated"))
    def units(self, obj: Backorder) -> str:
        return f"{obj.quantity_unallocated} / {obj.quantity_allocated}"

    @admin.display(description=_("days waiting"), ordering="queued_at")
    def days_waiting(self, obj: Backorder) -> str:
        if obj.status not in Backorder.Status.open():
            return "—"
        return str(days_waiting(obj, now=timezone.now()))

    @admin.display(description=_("ETA"), ordering="eta")
    def customer_eta(self, obj: Backorder) -> str:
        """The customer's date (current ETA, else the promised one), red when overdue, with
        where it comes from."""
        day, source = (obj.eta, obj.eta_source) if obj.eta else (obj.promised_eta, obj.promised_eta_source)
        if day is None:
            return str(_("Not known yet"))
        text = date_format(day, "SHORT_DATE_FORMAT")
        label = EtaSource(source).label if source in EtaSource.values else source
        if getattr(obj, "overdue_first", False):
            return format_html(
                '<span class="backorders-date backorders-overdue">{}</span><br>'
                '<span class="backorders-overdue">{}</span> <span class="backorders-quiet">{}</span>',
                text,
                _("overdue"),
                label,
            )
        return format_html(
            '<span class="backorders-date">{}</span><br><span class="backorders-quiet">{}</span>', text, label
        )

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj: Backorder) -> str:
        status = obj.get_status_display()
        if obj.flagged and obj.status in Backorder.Status.open():
            return format_html(
                '{}<br><span class="backorders-flag" title="{}">{}</span>',
                status,
                obj.flag_reason,
                _("Needs attention"),
            )
        return str(status)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The backorder's page offers the actions its state allows (cancel, ship, move the ETA)."""
        obj = self.get_object(request, unquote(object_id))
        # A viewer (or anyone who may not change this shop's rows) is offered none of them.
        writable = obj is not None and self.scope(request).can_write(obj.shop_id)
        extra = {
            "can_cancel": obj is not None and writable and obj.status in Backorder.Status.open(),
            "can_ship": obj is not None and writable and obj.status == Backorder.Status.ALLOCATED,
            "can_move_eta": obj is not None and writable and obj.status == Backorder.Status.WAITING,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_urls(self) -> list[URLPattern]:
        move_eta = path(
            "<path:object_id>/move-eta/",
            self.admin_site.admin_view(self.move_eta_view),
            name="backorders_backorder_move_eta",
        )
        return [move_eta, *super().get_urls()]

    def move_eta_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Move this customer's ETA (or hand it back to the estimate) through
        ``services.eta.backorder_move_eta``, as this admin user. A refused date or state is
        answered 400 on the same form, and nothing changes."""
        backorder = self.get_object(request, unquote(object_id))
        if backorder is None or not self.has_view_permission(request, backorder):
            raise Http404(_("No such backorder."))
        self.check_write(request, backorder)  # a viewer may not move an ETA: 403
        status = 200
        if request.method == "POST":
            form = MoveEtaForm(request.POST)
            if form.is_valid():
                try:
                    backorder_move_eta(
                        backorder=backorder,
                        eta=form.cleaned_data["eta"],
                        actor=Actor.admin(request.user.get_username()),
                        note=form.cleaned_data["note"],
                    )
                except EtaRefused as error:
                    form.add_error("eta", error.message_dict["eta"])
                except BackorderStateError as error:
                    form.add_error(None, str(error))
                else:
                    self.message_user(request, _("The ETA was saved."), messages.SUCCESS)
                    return HttpResponseRedirect(
                        reverse("admin:backorders_backorder_change", args=[backorder.pk])
                    )
            status = 400
        else:
            form = MoveEtaForm(initial={"eta": backorder.eta})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Move the ETA"),
            "opts": self.model._meta,
            "original": backorder,
            "form": form,
            "threshold": shop_setting(
                backorder.shop, "eta_change_threshold_days", "ETA_CHANGE_THRESHOLD_DAYS"
            ),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/backorders/backorder/move_eta.html", context, status=status)

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
