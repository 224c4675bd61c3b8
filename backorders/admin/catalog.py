"""The catalog as the platform describes it, with the owner's backorder policy overrides.

Platform data and stock counters are read-only: the platform adapter and the stock services own
them. The policy fields (mode, limit, restock date, handling days, threshold, discontinued) are
the owner's: edits go through ``variant_set_policy``/``product_set_policy``, which move the ETAs
of waiting customers and record who changed them.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from backorders.admin.base import ReadOnlyAdmin, ScopedInline, TenantAdmin
from backorders.admin.restock import export_action, policy_import_view, restock_action
from backorders.models import (
    AlternativeOverride,
    InventoryLevel,
    Location,
    Product,
    ProductAlternative,
    Variant,
)
from backorders.models.orders import EtaSource
from backorders.selectors.availability import availability_state, eta_estimate, policy_resolve
from backorders.services.alternatives import (
    AlternativeRefused,
    alternative_hide,
    alternative_override_remove,
    alternative_override_validate,
    alternative_pin,
)
from backorders.services.audit import Actor
from backorders.services.catalog import (
    POLICY_FIELDS,
    PolicyRefused,
    location_update,
    policy_validate,
    product_set_policy,
    variant_set_policy,
)

COUNTER_FIELDS = ("available", "units_waiting", "units_allocated")


class PolicyForm(forms.ModelForm):
    """A product's or variant's form: the service's refusal of a policy value (a restock date in
    the past) is shown on its field, and nothing is saved."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        changes = {name: cleaned.get(name) for name in self.changed_data if name in POLICY_FIELDS}
        if changes and self.instance.pk is not None:
            try:
                policy_validate(obj=self.instance, changes=changes)
            except PolicyRefused as refusal:
                self.add_error(None, refusal)
        return cleaned


def _policy_changes(obj: Product | Variant, form: Any) -> dict[str, Any]:
    """The policy fields the owner changed in ``form`` (already validated), with their values."""
    return {name: getattr(obj, name) for name in form.changed_data if name in POLICY_FIELDS}


class VariantStateMixin:
    @admin.display(description=_("state"))
    def state(self, variant: Variant) -> str:
        """The availability state customers see (expects product and shop loaded)."""
        if variant.pk is None:
            return "-"
        return str(availability_state(variant).label)


class VariantInline(VariantStateMixin, ScopedInline):
    model = Variant
    form = PolicyForm
    fk_name = "product"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "title",
        "sku",
        "price",
        "inventory_policy",
        "state",
        *COUNTER_FIELDS,
        "backorder_mode",
        "backorder_limit",
        "restock_date",
        "discontinued",
    ]
    readonly_fields = ["title", "sku", "price", "inventory_policy", "state", *COUNTER_FIELDS]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Variant]:
        return super().get_queryset(request).select_related("product", "shop")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ShopRawIdWidget(ForeignKeyRawIdWidget):
    """The raw-id lookup of an alternative opens the product list filtered to one shop."""

    shop_id: int | None = None

    def url_parameters(self) -> dict[str, str]:
        params = super().url_parameters()
        if self.shop_id is not None:
            params["shop__id__exact"] = str(self.shop_id)
        return params


class AlternativeOverrideForm(forms.ModelForm):
    """An owner's pin or hide: refused on its field (another shop's product, the product itself,
    a position out of range) with the service's message, and nothing saved."""

    class Meta:
        model = AlternativeOverride
        fields = ["alternative", "kind", "position"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        product = getattr(self.instance, "product", None)
        alternative = cleaned.get("alternative")
        if product is not None and alternative is not None and not cleaned.get("DELETE"):
            try:
                alternative_override_validate(
                    product=product, alternative=alternative, position=cleaned.get("position") or 0
                )
            except AlternativeRefused as refusal:
                self.add_error(None, refusal)
        return cleaned


class AlternativeOverrideInline(ScopedInline):
    """Pin (shown first, in position order, whenever in stock) or hide (never shown) another
    product of the same shop on this product's page. Saved through the services."""

    model = AlternativeOverride
    form = AlternativeOverrideForm
    fk_name = "product"
    extra = 0
    raw_id_fields = ["alternative"]
    fields = ["alternative", "kind", "position"]
    verbose_name = _("alternative pinned or hidden by hand")
    verbose_name_plural = _("alternatives pinned or hidden by hand")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AlternativeOverride]:
        return super().get_queryset(request).select_related("alternative")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "alternative":
            kwargs["widget"] = ShopRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        widget = formset.form.base_fields["alternative"].widget
        if isinstance(widget, ShopRawIdWidget) and obj is not None:
            widget.shop_id = obj.shop_id
        return formset


@admin.register(Product)
class ProductAdmin(TenantAdmin):
    form = PolicyForm
    list_display = [
        "title",
        "vendor",
        "product_type",
        "status",
        "discontinued",
        "tag_chips",
        "variant_count",
        "units_waiting",
        "shop",
    ]
    list_select_related = ["shop"]
    list_filter = ["shop", "status", "discontinued", "product_type", "vendor"]
    search_fields = ["title", "handle", "vendor", "product_type", "variants__sku"]
    readonly_fields = [
        "shop",
        "platform_id",
        "title",
        "handle",
        "product_type",
        "vendor",
        "tag_chips",
        "status",
        "image_url",
        "platform_updated_at",
        "created_at",
        "updated_at",
        "computed_alternatives",
    ]
    fieldsets = [
        (
            _("From the platform"),
            {
                "fields": [
                    "shop",
                    "title",
                    ("product_type", "vendor"),
                    "tag_chips",
                    "status",
                    ("platform_id", "handle"),
                    "image_url",
                    "platform_updated_at",
                ]
            },
        ),
        (_("Backorder policy (empty: the shop's)"), {"fields": POLICY_FIELDS}),
        (
            _("Alternatives (computed; in-stock ones are shown to customers)"),
            {"fields": ["computed_alternatives"]},
        ),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [VariantInline, AlternativeOverrideInline]
    actions = ["set_restock_date", "export_policies"]
    read_actions = ("export_policies",)

    @admin.action(description=_("Set restock date…"), permissions=["change"])
    def set_restock_date(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        """The date (and note) for every selected product, after a page saying what it moves."""
        return restock_action(self, request, queryset)

    @admin.action(description=_("Export policies (CSV)"), permissions=["view"])
    def export_policies(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse:
        """The policies of the selected products' variants, as CSV."""
        return export_action(self, request, queryset)

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        """Policy edits go through the service, which moves the ETAs of waiting customers."""
        if changed := _policy_changes(obj, form):
            product_set_policy(product=obj, actor=Actor.admin(request.user.get_username()), **changed)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        actor = Actor.admin(request.user.get_username())
        if formset.model is AlternativeOverride:
            self._save_overrides(formset, actor)
            return
        # What Django's change message reads (the inline can neither add nor delete).
        formset.new_objects, formset.deleted_objects, formset.changed_objects = [], [], []
        for variant_form in formset.forms:
            if changed := _policy_changes(variant_form.instance, variant_form):
                variant_set_policy(variant=variant_form.instance, actor=actor, **changed)
                formset.changed_objects.append((variant_form.instance, list(changed)))

    def _save_overrides(self, formset: Any, actor: Actor) -> None:
        """Pins, hides and removals through the services (the form has validated each)."""
        formset.new_objects, formset.deleted_objects, formset.changed_objects = [], [], []
        for override_form in formset.forms:
            if not override_form.has_changed() and not formset._should_delete_form(override_form):
                continue
            override = override_form.instance
            product, alternative = formset.instance, override_form.cleaned_data.get("alternative")
            if formset._should_delete_form(override_form):
                if override.pk is not None:
                    alternative_override_remove(
                        product=product, alternative=override.alternative, actor=actor
                    )
                    formset.deleted_objects.append(override)
                continue
            if override.pk is not None and override.alternative_id != alternative.pk:
                alternative_override_remove(product=product, alternative=override.alternative, actor=actor)
            if override_form.cleaned_data["kind"] == AlternativeOverride.Kind.PIN:
                saved = alternative_pin(
                    product=product,
                    alternative=alternative,
                    position=override_form.cleaned_data.get("position") or 0,
                    actor=actor,
                )
            else:
                saved = alternative_hide(product=product, alternative=alternative, actor=actor)
            if override.pk is None:
                formset.new_objects.append(saved)
            else:
                formset.changed_objects.append((saved, override_form.changed_data))

    @admin.display(description=_("tags"))
    def tag_chips(self, product: Product) -> SafeString | str:
        """The platform's tags as a list of chips (escaped), not as raw JSON."""
        tags = [str(tag) for tag in (product.tags or []) if str(tag).strip()]
        if not tags:
            return "—"
        items = format_html_join("", '<li class="backorders-chip">{}</li>', ((tag,) for tag in tags))
        return format_html('<ul class="backorders-chips">{}</ul>', items)

    @admin.display(description=_("computed alternatives"))
    def computed_alternatives(self, product: Product) -> SafeString | str:
        """The precomputed ranking, read-only: rank, product, score, higher tier."""
        rows = list(
            ProductAlternative.objects.filter(product=product)
            .select_related("alternative")
            .order_by("rank")[:50]
        )
        if not rows:
            return str(_("None computed yet (the catalog's next change or the nightly run computes them)."))
        header = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("rank"),
            _("alternative"),
            _("score"),
            _("higher tier"),
            _("computed at"),
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row.rank,
                    row.alternative.title,
                    f"{row.score:.3f}",
                    _("yes") if row.higher_tier else "",
                    row.computed_at.strftime("%Y-%m-%d %H:%M"),
                )
                for row in rows
            ),
        )
        return format_html('<div class="backorders-scroll"><table>{}{}</table></div>', header, body)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return (
            super()
            .get_queryset(request)
            .annotate(variant_count=Count("variants"), units_waiting=Sum("variants__units_waiting"))
        )

    @admin.display(description=_("variants"), ordering="variant_count")
    def variant_count(self, product: Product) -> int:
        return product.variant_count  # type: ignore[attr-defined]

    @admin.display(description=_("units waiting"), ordering="units_waiting")
    def units_waiting(self, product: Product) -> int:
        return product.units_waiting or 0  # type: ignore[attr-defined]


@admin.register(Variant)
class VariantAdmin(VariantStateMixin, TenantAdmin):
    form = PolicyForm
    list_display = [
        "__str__",
        "sku",
        "state",
        *COUNTER_FIELDS,
        "inventory_policy",
        "price",
        "shop",
    ]
    list_select_related = ["product", "shop"]
    list_filter = [
        "shop",
        "inventory_policy",
        "backorder_mode",
        "discontinued",
        "is_archived",
        "product__product_type",
    ]
    search_fields = ["sku", "title", "product__title"]
    readonly_fields = [
        "shop",
        "product",
        "platform_id",
        "inventory_item_id",
        "sku",
        "title",
        "price",
        "inventory_policy",
        "inventory_tracked",
        "is_archived",
        "platform_updated_at",
        "state",
        *COUNTER_FIELDS,
        "effective_policy",
        "eta_for_new_backorder",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            _("From the platform"),
            {
                "fields": [
                    "shop",
                    "product",
                    ("title", "sku"),
                    "price",
                    ("inventory_policy", "inventory_tracked", "is_archived"),
                    ("platform_id", "inventory_item_id"),
                    "platform_updated_at",
                ]
            },
        ),
        (
            _("Stock (kept by the stock services)"),
            {"fields": ["state", *COUNTER_FIELDS, "effective_policy", "eta_for_new_backorder"]},
        ),
        (_("Backorder policy (empty: the product's, then the shop's)"), {"fields": POLICY_FIELDS}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    actions = ["set_restock_date", "export_policies"]
    read_actions = ("export_policies",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Variant]:
        return super().get_queryset(request).select_related("product", "shop")

    def get_urls(self) -> list[URLPattern]:
        import_policies = path(
            "import-policies/",
            self.admin_site.admin_view(self.import_policies_view),
            name="backorders_variant_import_policies",
        )
        return [import_policies, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The list, with a link to the CSV import for those who may change variants."""
        extra = {"can_import_policies": self.has_change_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def import_policies_view(self, request: HttpRequest) -> HttpResponse:
        """Import policies from CSV: preview, then apply (``admin.restock.policy_import_view``)."""
        return policy_import_view(self, request)

    @admin.action(description=_("Set restock date…"), permissions=["change"])
    def set_restock_date(self, request: HttpRequest, queryset: QuerySet[Variant]) -> HttpResponse | None:
        """The date (and note) for every selected variant, after a page saying what it moves."""
        return restock_action(self, request, queryset)

    @admin.action(description=_("Export policies (CSV)"), permissions=["view"])
    def export_policies(self, request: HttpRequest, queryset: QuerySet[Variant]) -> HttpResponse:
        """The policies of the selected variants (all the filtered ones with "select all"), as CSV."""
        return export_action(self, request, queryset)

    def save_model(self, request: HttpRequest, obj: Variant, form: Any, change: bool) -> None:
        """Policy edits go through the service, which moves the ETAs of waiting customers."""
        if changed := _policy_changes(obj, form):
            variant_set_policy(variant=obj, actor=Actor.admin(request.user.get_username()), **changed)

    @admin.display(description=_("effective policy"))
    def effective_policy(self, variant: Variant) -> str:
        policy = policy_resolve(variant)
        parts = [
            _("backorders allowed") if policy.backorderable else _("no backorders"),
            _("no limit") if policy.limit is None else _("limit %(n)d") % {"n": policy.limit},
            _("handling %(n)d day(s)") % {"n": policy.handling_days},
            _("low stock at %(n)d or fewer") % {"n": policy.low_stock_threshold},
        ]
        if policy.discontinued:
            parts.append(_("discontinued"))
        return ", ".join(str(part) for part in parts)

    @admin.display(description=_("ETA for a new backorder"))
    def eta_for_new_backorder(self, variant: Variant) -> str:
        eta = eta_estimate(variant=variant, units_ahead=variant.units_waiting)
        return f"{eta.date or '-'} ({EtaSource(eta.source).label})"


@admin.register(Location)
class LocationAdmin(TenantAdmin):
    list_display = ["name", "is_active", "platform_id", "shop"]
    list_select_related = ["shop"]
    list_filter = ["shop", "is_active"]
    search_fields = ["name"]
    readonly_fields = ["shop", "platform_id"]
    fields = ["shop", "platform_id", "name", "is_active"]

    def save_model(self, request: HttpRequest, obj: Location, form: forms.ModelForm, change: bool) -> None:
        """Through ``location_update`` (locations themselves come from the platform)."""
        location_update(location=obj, name=obj.name, is_active=obj.is_active)


@admin.register(InventoryLevel)
class InventoryLevelAdmin(ReadOnlyAdmin):
    list_display = ["variant", "location", "available", "platform_updated_at", "updated_at", "shop"]
    list_select_related = ["variant__product", "location", "shop"]
    list_filter = ["shop", "location"]
    search_fields = ["variant__sku", "variant__product__title"]
