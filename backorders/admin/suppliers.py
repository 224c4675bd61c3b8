"""Suppliers (with what each sells and its measured record) and purchase orders (with their
lines, receipts and history), and the actions on them: mark sent, receive…, change the
expected date…, cancel. Every write goes through ``services.purchasing``."""

from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backorders.admin.base import ReadOnlyInline, ScopedInline, TenantAdmin
from backorders.admin.catalog import ShopRawIdWidget
from backorders.conf import get_setting
from backorders.models import (
    Location,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    Receipt,
    Supplier,
    SupplierItem,
)
from backorders.selectors.supply import purchase_order_remaining, supplier_reliability
from backorders.services.audit import Actor
from backorders.services.purchasing import (
    PO_QUANTITY_MAX,
    SUPPLIER_FIELDS,
    SUPPLIER_ITEM_FIELDS,
    PurchaseOrderRefused,
    purchase_order_cancel,
    purchase_order_confirm,
    purchase_order_create,
    purchase_order_receive,
    purchase_order_send,
    purchase_order_set_expected,
    purchase_order_set_lines,
    purchase_order_set_note,
    purchase_order_validate,
    supplier_create,
    supplier_item_remove,
    supplier_item_set,
    supplier_update,
)


def _actor(request: HttpRequest) -> Actor:
    return Actor.admin(request.user.get_username())


def _refusal_text(error: PurchaseOrderRefused) -> str:
    return " ".join(error.messages)


class OwnerAddsMixin:
    """Owners and staff create suppliers and purchase orders here, for the shops they may change
    (through the services); nothing is deleted (a purchase order is cancelled, a supplier set
    inactive)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.scope(request).writes_any  # type: ignore[attr-defined]


# --- Suppliers -------------------------------------------------------------------------------


class SupplierForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = ["shop", *SUPPLIER_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        shop = cleaned.get("shop") or getattr(self.instance, "shop", None)
        name = cleaned.get("name")
        if (
            shop is not None
            and name
            and Supplier.objects.filter(shop=shop, name=name).exclude(pk=self.instance.pk).exists()
        ):
            self.add_error("name", _("This shop already has a supplier named %(name)s.") % {"name": name})
        return cleaned


class SupplierItemForm(forms.ModelForm):
    class Meta:
        model = SupplierItem
        fields = ["variant", *SUPPLIER_ITEM_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        variant, supplier = cleaned.get("variant"), getattr(self.instance, "supplier", None)
        if (
            variant is not None
            and supplier is not None
            and supplier.shop_id
            and variant.shop_id != supplier.shop_id
        ):
            self.add_error(
                "variant", _("This item belongs to another shop: pick one of the supplier's shop.")
            )
        return cleaned


class SupplierItemInline(ScopedInline):
    """What the supplier sells: saved through ``supplier_item_set`` / ``supplier_item_remove``."""

    model = SupplierItem
    form = SupplierItemForm
    fk_name = "supplier"
    extra = 0
    raw_id_fields = ["variant"]
    fields = ["variant", *SUPPLIER_ITEM_FIELDS]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SupplierItem]:
        return super().get_queryset(request).select_related("variant__product")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "variant":
            kwargs["widget"] = ShopRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        widget = formset.form.base_fields["variant"].widget
        if isinstance(widget, ShopRawIdWidget) and obj is not None:
            widget.shop_id = obj.shop_id
        return formset


class ReceiptInline(ReadOnlyInline):
    model = Receipt
    fk_name = "supplier"
    fields = ["purchase_order", "promised_on", "received_on", "days_late", "units", "location"]
    readonly_fields = ["purchase_order", "promised_on", "received_on", "days_late", "units", "location"]
    show_change_link = False
    verbose_name_plural = _("receipts (latest first)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Receipt]:
        return super().get_queryset(request).select_related("purchase_order", "location")


@admin.register(Supplier)
class SupplierAdmin(OwnerAddsMixin, TenantAdmin):
    shop_path = "shop"
    form = SupplierForm
    list_display = ["name", "email", "lead_time_days", "lead_time_spread_days", "is_active", "shop"]
    list_select_related = ["shop"]
    list_filter = ["shop", "is_active"]
    search_fields = ["name", "email"]
    fields = ["shop", *SUPPLIER_FIELDS, "reliability"]
    readonly_fields = ["reliability"]
    inlines = [SupplierItemInline, ReceiptInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["shop", "reliability"] if obj is not None else ["reliability"]

    @admin.display(description=_("reliability"))
    def reliability(self, obj: Supplier) -> str:
        """The record over the last N receipts, and what it adds to lead-time estimates."""
        if obj is None or obj.pk is None:
            return "-"
        record = supplier_reliability(supplier=obj)
        n = get_setting("SUPPLIER_RELIABILITY_RECEIPTS")
        if not record.receipts:
            return gettext(
                "No receipts yet: lead-time estimates are padded by the stated spread at "
                "%(confidence)s %% confidence."
            ) % {"confidence": number_format(get_setting("ETA_CONFIDENCE") * 100, 0)}
        spread = "-" if record.spread_days is None else number_format(record.spread_days, 1)
        return gettext(
            "Last %(count)d receipts (at most %(n)d): on average %(mean)s days late, spread %(spread)s "
            "days, %(on_time)s %% on time."
        ) % {
            "count": record.receipts,
            "n": n,
            "mean": number_format(record.mean_days_late or 0, 1),
            "spread": spread,
            "on_time": number_format((record.on_time_rate or 0) * 100, 0),
        }

    def save_model(self, request: HttpRequest, obj: Supplier, form: Any, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in SUPPLIER_FIELDS if name in form.cleaned_data}
        if change:
            changed = {name: value for name, value in fields.items() if name in form.changed_data}
            saved = supplier_update(supplier=obj, actor=_actor(request), **changed)
        else:
            saved = supplier_create(shop=form.cleaned_data["shop"], actor=_actor(request), **fields)
        obj.pk, obj.shop_id = saved.pk, saved.shop_id

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not SupplierItem:
            return super().save_formset(request, form, formset, change)
        supplier = form.instance
        # What Django's change message reads.
        formset.new_objects, formset.deleted_objects, formset.changed_objects = [], [], []
        for item_form in formset.forms:
            if not item_form.has_changed() and not item_form.cleaned_data.get("DELETE"):
                continue
            if item_form.cleaned_data.get("DELETE"):
                if item_form.instance.pk:
                    supplier_item_remove(item=item_form.instance, actor=_actor(request))
                continue
            values = {name: item_form.cleaned_data.get(name) for name in SUPPLIER_ITEM_FIELDS}
            try:
                supplier_item_set(
                    supplier=supplier,
                    variant=item_form.cleaned_data["variant"],
                    actor=_actor(request),
                    **values,
                )
            except PurchaseOrderRefused as error:
                self.message_user(request, _refusal_text(error), messages.ERROR)
        return None


# --- Purchase orders -------------------------------------------------------------------------


class PurchaseOrderForm(forms.ModelForm):
    """A new purchase order: the service's refusals (a number already used in the shop, a date
    in the past or years ahead) shown on their fields, nothing saved."""

    class Meta:
        model = PurchaseOrder
        fields = ["supplier", "number", "expected_on", "note"]
        widgets = {"expected_on": forms.DateInput(attrs={"type": "date"})}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        supplier = cleaned.get("supplier")
        if self.instance.pk is None and supplier is not None and not self.errors:
            try:
                cleaned["number"] = purchase_order_validate(
                    supplier=supplier,
                    number=cleaned.get("number", ""),
                    expected_on=cleaned.get("expected_on"),
                )
            except PurchaseOrderRefused as refusal:
                self.add_error(None, refusal)
        return cleaned

    def validate_unique(self) -> None:
        """The number's uniqueness per shop is the service's to check (the shop comes from the supplier)."""


class PurchaseOrderLineForm(forms.ModelForm):
    class Meta:
        model = PurchaseOrderLine
        fields = ["variant", "quantity_ordered"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        quantity = cleaned.get("quantity_ordered")
        if quantity is not None and not 1 <= quantity <= PO_QUANTITY_MAX:
            self.add_error(
                "quantity_ordered", _("Enter a quantity from 1 to %(n)d.") % {"n": PO_QUANTITY_MAX}
            )
        if quantity is not None and self.instance.pk and quantity < self.instance.quantity_received:
            self.add_error(
                "quantity_ordered",
                _("%(n)d units were already received; order at least that many.")
                % {"n": self.instance.quantity_received},
            )
        return cleaned


class PurchaseOrderLineInline(ScopedInline):
    """The lines: editable until the order is received or cancelled, saved through
    ``purchase_order_set_lines`` (the received quantity only changes by receiving)."""

    model = PurchaseOrderLine
    form = PurchaseOrderLineForm
    fk_name = "purchase_order"
    extra = 1
    raw_id_fields = ["variant"]
    fields = ["variant", "quantity_ordered", "quantity_received"]
    readonly_fields = ["quantity_received"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PurchaseOrderLine]:
        return super().get_queryset(request).select_related("variant__product")

    def _editable(self, obj: PurchaseOrder | None) -> bool:
        return obj is None or obj.status in PurchaseOrder.Status.editable()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and self._editable(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._editable(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._editable(obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "variant":
            kwargs["widget"] = ShopRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        widget = formset.form.base_fields["variant"].widget if "variant" in formset.form.base_fields else None
        if isinstance(widget, ShopRawIdWidget) and obj is not None:
            widget.shop_id = obj.shop_id
        return formset


class PurchaseOrderEventInline(ReadOnlyInline):
    model = PurchaseOrderEvent
    fields = ["created_at", "kind", "actor_kind", "actor_name", "date_from", "date_to", "note"]
    readonly_fields = ["created_at", "kind", "actor_kind", "actor_name", "date_from", "date_to", "note"]
    show_change_link = False
    verbose_name_plural = _("history")


class PurchaseOrderReceiptInline(ReceiptInline):
    fk_name = "purchase_order"
    fields = ["received_on", "promised_on", "days_late", "units", "location", "actor_name"]
    readonly_fields = ["received_on", "promised_on", "days_late", "units", "location", "actor_name"]


class ExpectedDateForm(forms.Form):
    expected_on = forms.DateField(
        label=_("New expected arrival"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("Note (for the history)"), max_length=255, required=False)


class ReceiveForm(forms.Form):
    """One field per open line (units arrived), and the location they arrived at."""

    location = forms.ModelChoiceField(label=_("Arrived at"), queryset=Location.objects.none())

    def __init__(self, *args: Any, purchase_order: PurchaseOrder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.purchase_order = purchase_order
        locations = Location.objects.filter(shop_id=purchase_order.shop_id, is_active=True).order_by("pk")
        location_field = self.fields["location"]
        assert isinstance(location_field, forms.ModelChoiceField)
        location_field.queryset = locations
        location_field.required = False
        location_field.empty_label = gettext("The shop's first location")
        remaining = purchase_order_remaining(purchase_order=purchase_order)
        self.lines = list(purchase_order.lines.select_related("variant__product").order_by("pk"))
        for line in self.lines:
            if line.pk not in remaining:
                continue
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=str(line.variant),
                min_value=0,
                max_value=PO_QUANTITY_MAX,
                initial=remaining[line.pk],
                help_text=gettext("%(left)d of %(ordered)d still to come")
                % {"left": remaining[line.pk], "ordered": line.quantity_ordered},
            )

    def quantities(self) -> dict[int, int]:
        return {
            int(name.removeprefix("line_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("line_") and value is not None
        }


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(OwnerAddsMixin, TenantAdmin):
    shop_path = "shop"
    form = PurchaseOrderForm
    list_display = ["number", "supplier", "status", "expected_on", "units", "shop"]
    list_select_related = ["supplier", "shop"]
    list_filter = ["status", "shop", "supplier"]
    search_fields = ["number", "supplier__name", "lines__variant__sku"]
    date_hierarchy = "expected_on"
    inlines = [PurchaseOrderLineInline, PurchaseOrderReceiptInline, PurchaseOrderEventInline]
    actions = ["mark_sent", "mark_confirmed", "receive", "change_expected", "cancel_orders"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["supplier", "number", "expected_on", "note"]
        return [
            "number",
            "supplier",
            "status",
            "expected_on",
            "note",
            "sent_at",
            "confirmed_at",
            "received_at",
            "cancelled_at",
            "shop",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return [
            "number",
            "supplier",
            "status",
            "expected_on",
            "sent_at",
            "confirmed_at",
            "received_at",
            "cancelled_at",
            "shop",
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PurchaseOrder]:
        return (
            super()
            .get_queryset(request)
            .annotate(_ordered=Sum("lines__quantity_ordered"), _received=Sum("lines__quantity_received"))
        )

    @admin.display(description=_("units received / ordered"))
    def units(self, obj: PurchaseOrder) -> str:
        return f"{getattr(obj, '_received', 0) or 0} / {getattr(obj, '_ordered', 0) or 0}"

    def save_model(self, request: HttpRequest, obj: PurchaseOrder, form: Any, change: bool) -> None:
        if change:
            if "note" in form.changed_data:
                purchase_order_set_note(
                    purchase_order=obj, note=form.cleaned_data["note"], actor=_actor(request)
                )
            return
        created = purchase_order_create(
            supplier=form.cleaned_data["supplier"],
            number=form.cleaned_data["number"],
            expected_on=form.cleaned_data["expected_on"],
            note=form.cleaned_data.get("note") or "",
            actor=_actor(request),
        )
        obj.pk, obj.shop_id, obj.status = created.pk, created.shop_id, created.status

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not PurchaseOrderLine:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.deleted_objects, formset.changed_objects = [], [], []
        lines: dict[int, int] = {}
        for line_form in formset.forms:
            data = line_form.cleaned_data
            if not data or (not line_form.has_changed() and not data.get("DELETE")):
                continue
            variant = data.get("variant")
            if variant is None:
                continue
            if data.get("DELETE"):
                lines[variant.pk] = 0
            else:
                if line_form.instance.pk and line_form.instance.variant_id != variant.pk:
                    lines[line_form.instance.variant_id] = 0
                lines[variant.pk] = data["quantity_ordered"]
        if lines:
            try:
                purchase_order_set_lines(purchase_order=form.instance, lines=lines, actor=_actor(request))
            except PurchaseOrderRefused as error:
                self.message_user(request, _refusal_text(error), messages.ERROR)
        return None

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        extra = {
            "can_receive": obj is not None and obj.status in PurchaseOrder.Status.incoming(),
            "receive_url": reverse("admin:backorders_purchaseorder_receive", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    # --- actions ---

    def _each(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder], service: Any, done: str) -> None:
        succeeded = 0
        for purchase_order in queryset.order_by("pk"):
            try:
                service(purchase_order=purchase_order, actor=_actor(request))
                succeeded += 1
            except PurchaseOrderRefused as error:
                self.message_user(request, _refusal_text(error), messages.WARNING)
        if succeeded:
            self.message_user(request, done % {"n": succeeded}, messages.SUCCESS)

    @admin.action(description=_("Mark selected purchase orders as sent"))
    def mark_sent(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        self._each(
            request,
            queryset,
            purchase_order_send,
            gettext("%(n)d purchase order(s) sent: the customers they cover now count on them."),
        )

    @admin.action(description=_("Mark selected purchase orders as confirmed by the supplier"))
    def mark_confirmed(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        self._each(request, queryset, purchase_order_confirm, gettext("%(n)d purchase order(s) confirmed."))

    @admin.action(description=_("Cancel selected purchase orders"))
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        self._each(
            request,
            queryset,
            purchase_order_cancel,
            gettext("%(n)d purchase order(s) cancelled: the customers who counted on them get new ETAs."),
        )

    @admin.action(description=_("Receive…"))
    def receive(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> HttpResponse | None:
        """Opens the receiving page of the one purchase order selected."""
        selected = list(queryset[:2])
        if len(selected) != 1:
            self.message_user(request, _("Select exactly one purchase order to receive."), messages.ERROR)
            return None
        return HttpResponseRedirect(reverse("admin:backorders_purchaseorder_receive", args=[selected[0].pk]))

    @admin.action(description=_("Change the expected date…"))
    def change_expected(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> HttpResponse | None:
        """An intermediate page asks for the new date; its "save" moves each selected order's
        expected arrival, and with it its customers' ETAs (emailed past the shop's threshold)."""
        orders = list(queryset.select_related("supplier").order_by("pk"))
        if not orders:  # none of the selected ids is an order the user may change
            self.message_user(request, _("No purchase order you may change was selected."), messages.WARNING)
            return None
        status = 200
        if request.POST.get("post") == "yes":
            form = ExpectedDateForm(request.POST)
            if form.is_valid():
                moved, refused = 0, []
                for purchase_order in orders:
                    try:
                        purchase_order_set_expected(
                            purchase_order=purchase_order,
                            expected_on=form.cleaned_data["expected_on"],
                            note=form.cleaned_data["note"],
                            actor=_actor(request),
                        )
                        moved += 1
                    except PurchaseOrderRefused as error:
                        refused.append(f"{purchase_order}: {_refusal_text(error)}")
                if moved:
                    self.message_user(
                        request,
                        gettext(
                            "%(n)d purchase order(s) rescheduled; the customers they cover get their new "
                            "ETAs (and an email when the move passes the shop's threshold)."
                        )
                        % {"n": moved},
                        messages.SUCCESS,
                    )
                for message in refused:
                    self.message_user(request, message, messages.WARNING)
                if moved or not refused:
                    return None
                form.add_error("expected_on", refused[0])
            status = 400
        else:
            first: date | None = orders[0].expected_on if orders else None
            form = ExpectedDateForm(initial={"expected_on": first})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change the expected date"),
            "opts": self.model._meta,
            "media": self.media,
            "orders": orders,
            "form": form,
            "action": "change_expected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/backorders/purchaseorder/change_expected.html", context, status=status
        )

    # --- the receiving page ---

    def get_urls(self) -> list[URLPattern]:
        receive = path(
            "<path:object_id>/receive/",
            self.admin_site.admin_view(self.receive_view),
            name="backorders_purchaseorder_receive",
        )
        return [receive, *super().get_urls()]

    def receive_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Receive the order (all of it, or the units that came) at a location through
        ``purchase_order_receive``; a refusal (over-receipt, a draft or cancelled order) is
        answered 400 on the same page, and nothing changes."""
        purchase_order = self.get_object(request, unquote(object_id))
        if purchase_order is None or not self.has_change_permission(request, purchase_order):
            raise Http404(_("No such purchase order."))
        status = 200
        form = ReceiveForm(request.POST or None, purchase_order=purchase_order)
        if request.method == "POST":
            if form.is_valid():
                try:
                    receipt = purchase_order_receive(
                        purchase_order=purchase_order,
                        lines=form.quantities(),
                        location=form.cleaned_data.get("location"),
                        actor=_actor(request),
                    )
                except PurchaseOrderRefused as error:
                    form.add_error(None, _refusal_text(error))
                else:
                    self.message_user(
                        request,
                        gettext("%(n)d units received; waiting customers were allocated in order.")
                        % {"n": receipt.units},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:backorders_purchaseorder_change", args=[purchase_order.pk])
                    )
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": format_html("{} {}", gettext("Receive"), purchase_order),
            "opts": self.model._meta,
            "original": purchase_order,
            "form": form,
            "receivable": purchase_order.status in PurchaseOrder.Status.incoming(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/backorders/purchaseorder/receive.html", context, status=status
        )


__all__ = ["PurchaseOrderAdmin", "SupplierAdmin"]
