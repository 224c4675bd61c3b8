"""The shop: connection settings and the shop-wide backorder policy."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from backorders.admin.base import ScopedAdmin
from backorders.admin.tenancy import MembershipInline, memberships_save
from backorders.models import Membership, Shop
from backorders.models.shops import PAYMENT_TEXT_MAX_LENGTH, language_choices
from backorders.services.shops import shop_upsert


class ShopForm(forms.ModelForm):
    # The secret is never rendered back into the page; empty keeps the stored one.
    webhook_secret = forms.CharField(
        label=_("webhook secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Empty: keep the current secret (or, if none, verify with SHOPIFY_API_SECRET). "
            "To remove a secret, run: manage.py backorders_add_shop DOMAIN --secret ''."
        ),
    )

    class Meta:
        model = Shop
        fields = ["webhook_secret"]  # the admin adds the rest from its fieldsets

    def clean_currency(self) -> str:
        # "eur" is what was meant: normalised before the model checks it against ISO 4217.
        return (self.cleaned_data.get("currency") or "").strip().upper()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        texts = self.instance.cancellation_payment_texts or {}
        for code, _name in language_choices():
            if PAYMENT_TEXT_FIELD % code in self.fields:
                self.fields[PAYMENT_TEXT_FIELD % code].initial = texts.get(code, "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        texts = {
            code: cleaned.pop(PAYMENT_TEXT_FIELD % code).strip()
            for code, _name in language_choices()
            if cleaned.get(PAYMENT_TEXT_FIELD % code)
        }
        self.instance.cancellation_payment_texts = texts
        cleaned["cancellation_payment_texts"] = texts
        return cleaned


# One plain text box per language of the site: what a customer reads about their money when
# items are cancelled (Shop.cancellation_payment_texts).
PAYMENT_TEXT_FIELD = "payment_text_%s"
for _code, _language in language_choices():
    ShopForm.base_fields[PAYMENT_TEXT_FIELD % _code] = forms.CharField(
        label=format_lazy(_("Payment note in cancellation emails ({language})"), language=_language),
        required=False,
        max_length=PAYMENT_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "What happens to the customer's money, e.g. “We refund you within 3 working days.” "
            "Empty: the shop's language, else “Our team has been told and will refund the "
            "cancelled items to your original payment method.”"
        ),
    )
    ShopForm.declared_fields[PAYMENT_TEXT_FIELD % _code] = ShopForm.base_fields[PAYMENT_TEXT_FIELD % _code]


@admin.register(Shop)
class ShopAdmin(ScopedAdmin):
    """Staff see their shops; owners change their shop's settings; only superusers add shops
    (``backorders_add_shop`` or the platform's install) and decide who works on them."""

    shop_path = "pk"
    form = ShopForm
    inlines = [MembershipInline]
    list_display = [
        "domain",
        "name",
        "owner_email",
        "backorder_mode",
        "backorder_limit",
        "is_active",
        "connected_at",
        "uninstalled_at",
    ]
    list_filter = ["is_active", "backorder_mode"]
    search_fields = ["domain", "name", "owner_email"]
    # Written by the life-cycle services only (connect, uninstall); ticking "active" again on an
    # uninstalled shop counts as a reconnection (``shop_upsert``).
    readonly_fields = ["connected_at", "uninstalled_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["domain", "name", "owner_email", "from_email", "is_active"]}),
        (_("Locale"), {"fields": ["language", "timezone", "currency"]}),
        (_("Platform"), {"fields": ["webhook_secret"]}),
        (
            _("Backorder policy (defaults for every product)"),
            {
                "fields": [
                    "backorder_mode",
                    "backorder_limit",
                    "handling_days",
                    "restock_lead_days",
                    "low_stock_threshold",
                ]
            },
        ),
        (
            _("Customer emails"),
            {
                "fields": [
                    "eta_change_threshold_days",
                    "apology_threshold_days",
                    "apology_incentive",
                    "followup_days",
                    *(PAYMENT_TEXT_FIELD % code for code, _name in language_choices()),
                ]
            },
        ),
        (
            _("Storefront"),
            {
                "fields": [
                    "storefront_url",
                    "storefront_origins",
                    "show_quantity_available",
                    "show_alert_count",
                ]
            },
        ),
        (_("History"), {"fields": ["connected_at", "uninstalled_at", "created_at", "updated_at"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Shop | None = None) -> Any:
        # Settings added to Shop later show up under "Other settings" until placed in a group.
        fieldsets = list(super().get_fieldsets(request, obj))
        listed = {name for _title, options in fieldsets for name in options["fields"]}
        others = tuple(
            field.name
            for field in Shop._meta.concrete_fields
            if field.editable
            and not field.primary_key
            and field.name not in listed
            and field.name != "cancellation_payment_texts"  # edited as one box per language
        )
        if others:
            fieldsets.insert(-1, (_("Other settings"), {"fields": others}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Shop | None = None) -> list[str]:
        # The domain identifies the shop to the platform: changing it would orphan the connection.
        return [*self.readonly_fields, "domain"] if obj is not None else list(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Removing a shop and all its data is the platform's "shop redact" flow, not a button.
        return False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.scope(request).everything

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A shop's own settings (secret, policy defaults, emails) are its owner's to change.
        scope = self.scope(request)
        return scope.everything or bool(scope.owned_shop_ids) if obj is None else scope.can_own(obj.pk)

    def get_inline_instances(self, request: HttpRequest, obj: Shop | None = None) -> list[Any]:
        return super().get_inline_instances(request, obj) if self.scope(request).everything else []

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is Membership:
            memberships_save(request=request, shop=form.instance, formset=formset)
            return
        super().save_formset(request, form, formset, change)

    def save_model(self, request: HttpRequest, obj: Shop, form: forms.ModelForm, change: bool) -> None:
        """Save through ``shop_upsert``, the service every entry point uses."""
        if change and not self.scope(request).can_own(obj.pk):
            raise PermissionDenied(_("Only the shop's owner may change its settings."))
        own = {"domain", "name", "owner_email", "webhook_secret"}
        fields = {
            name: getattr(obj, name)
            for name in form.cleaned_data
            if name not in own and not name.startswith("payment_text_")
        }
        shop, _created = shop_upsert(
            domain=obj.domain,
            name=obj.name,
            owner_email=obj.owner_email,
            webhook_secret=form.cleaned_data.get("webhook_secret") or None,
            **fields,
        )
        obj.pk, obj.webhook_secret = shop.pk, shop.webhook_secret
        obj.created_at, obj.updated_at = shop.created_at, shop.updated_at
