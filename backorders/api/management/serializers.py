"""The management API's JSON, in and out. Input serializers bound every value (ranges, lengths,
choices) before a service sees it; the services still validate (a restock date before today in
the shop's time zone, too far ahead) and their refusals come back as 400 on the field."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backorders.models import BackorderMode, Variant
from backorders.selectors.availability import AvailabilityState, availability_state, policy_resolve

PLATFORM_ID_MAX = 2**63 - 1
LIMIT_MAX = 1_000_000
DAYS_MAX = 365
NOTE_MAX_LENGTH = 255
RESTOCK_ITEMS_MAX = 500


class ProductRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="platform_id", allow_null=True, help_text=_("The platform's id."))
    handle = serializers.CharField(help_text=_("The product's handle (its storefront address)."))
    title = serializers.CharField(help_text=_("The product's title."))


class PolicySerializer(serializers.Serializer):
    """A variant's own policy overrides (null or "": inherit the product's, then the shop's)."""

    backorder_mode = serializers.ChoiceField(
        choices=BackorderMode.choices, allow_null=True, required=False, help_text=_("null: inherit.")
    )
    backorder_limit = serializers.IntegerField(
        min_value=0, max_value=LIMIT_MAX, allow_null=True, required=False, help_text=_("Most units waiting.")
    )
    restock_date = serializers.DateField(
        allow_null=True, required=False, help_text=_("The next restock (ISO date, shop's time zone).")
    )
    restock_note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH,
        allow_blank=True,
        required=False,
        help_text=_("Shown with the restock date, e.g. the supplier's words."),
    )
    handling_days = serializers.IntegerField(
        min_value=0,
        max_value=DAYS_MAX,
        allow_null=True,
        required=False,
        help_text=_("Days from stock arrival to shipping; null: inherit."),
    )
    low_stock_threshold = serializers.IntegerField(
        min_value=0,
        max_value=LIMIT_MAX,
        allow_null=True,
        required=False,
        help_text=_("At or below this many units the badge says low stock; null: inherit."),
    )
    discontinued = serializers.BooleanField(
        required=False, help_text=_("No more will come: not backorderable, no ETA.")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                _("Send at least one policy field: %(fields)s.") % {"fields": ", ".join(self.fields)}
            )
        if "restock_note" in attrs:
            attrs["restock_note"] = attrs["restock_note"].strip()
        if "backorder_mode" in attrs and attrs["backorder_mode"] is None:
            attrs["backorder_mode"] = ""  # the model's "inherit"
        return attrs


class EffectivePolicySerializer(serializers.Serializer):
    """The policy in force once inheritance is resolved."""

    backorder_mode = serializers.CharField(source="mode", help_text=_("allow or deny."))
    backorder_limit = serializers.IntegerField(
        source="limit", allow_null=True, help_text=_("Most units waiting; null: no limit.")
    )
    restock_date = serializers.DateField(allow_null=True, help_text=_("The restock date in force."))
    handling_days = serializers.IntegerField(help_text=_("Days from stock arrival to shipping."))
    restock_lead_days = serializers.IntegerField(
        allow_null=True, help_text=_("Lead time used without a restock date; null: ETA unknown.")
    )
    discontinued = serializers.BooleanField(help_text=_("No more will come."))


class VariantSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="platform_id", help_text=_("The platform's variant id."))
    sku = serializers.CharField(help_text=_("The variant's SKU."))
    title = serializers.CharField(help_text=_("The variant's title, e.g. Red / L."))
    product = ProductRefSerializer()
    state = serializers.SerializerMethodField(help_text=_("What customers see: in stock, backorderable, …"))
    available = serializers.IntegerField(help_text=_("Units on hand not promised to anyone."))
    units_waiting = serializers.IntegerField(help_text=_("Units customers wait for."))
    units_allocated = serializers.IntegerField(help_text=_("Units set aside for waiting customers."))
    policy = serializers.SerializerMethodField()
    effective_policy = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=AvailabilityState.choices))
    def get_state(self, variant: Variant) -> str:
        return str(availability_state(variant).value)

    @extend_schema_field(PolicySerializer)
    def get_policy(self, variant: Variant) -> dict[str, Any]:
        return {
            "backorder_mode": variant.backorder_mode or None,
            "backorder_limit": variant.backorder_limit,
            "restock_date": variant.restock_date.isoformat() if variant.restock_date else None,
            "restock_note": variant.restock_note,
            "handling_days": variant.handling_days,
            "low_stock_threshold": variant.low_stock_threshold,
            "discontinued": variant.discontinued,
        }

    @extend_schema_field(EffectivePolicySerializer)
    def get_effective_policy(self, variant: Variant) -> dict[str, Any]:
        return dict(EffectivePolicySerializer(policy_resolve(variant)).data)


class VariantQuerySerializer(serializers.Serializer):
    sku = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text=_("Only variants with this SKU.")
    )
    product = serializers.IntegerField(
        min_value=1, max_value=PLATFORM_ID_MAX, required=False, help_text=_("Only this product's variants.")
    )


class RestockItemSerializer(serializers.Serializer):
    variant = serializers.IntegerField(
        min_value=1, max_value=PLATFORM_ID_MAX, help_text=_("Platform variant id.")
    )
    restock_date = serializers.DateField(allow_null=True, help_text=_("null: no restock date."))
    restock_note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, allow_blank=True, required=False, help_text=_("Shown with the date.")
    )


class RestockDatesSerializer(serializers.Serializer):
    """Restock dates of many variants, applied together or not at all."""

    items = RestockItemSerializer(
        many=True,
        min_length=1,
        max_length=RESTOCK_ITEMS_MAX,
        help_text=_("One per variant, at most 500."),
    )

    def validate_items(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[int] = set()
        for item in items:
            if item["variant"] in seen:
                raise serializers.ValidationError(
                    _("Variant %(id)s is listed twice: give each variant once.") % {"id": item["variant"]}
                )
            seen.add(item["variant"])
        return items


class RestockResultSerializer(serializers.Serializer):
    variants = serializers.IntegerField(help_text=_("Variants whose restock date was set."))
