"""The management API's JSON for suppliers and purchase orders. Input serializers bound every
value before ``services.purchasing`` sees it; the services still refuse what only they can judge
(a number already used, a date in the past, over-receipt) and the views return that as a 400 on
the field."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backorders.api.management.serializers import PLATFORM_ID_MAX
from backorders.models import PurchaseOrder, Supplier
from backorders.models.suppliers import LEAD_TIME_MAX_DAYS
from backorders.selectors.supply import Reliability
from backorders.services.purchasing import PO_LINES_MAX, PO_NOTE_MAX, PO_NUMBER_MAX, PO_QUANTITY_MAX

REASON_MAX_LENGTH = 255


class ReliabilitySerializer(serializers.Serializer):
    receipts = serializers.IntegerField(help_text=_("Receipts measured (the latest N)."))
    mean_days_late = serializers.FloatField(allow_null=True, help_text=_("Mean days late; negative: early."))
    spread_days = serializers.FloatField(allow_null=True, help_text=_("Standard deviation of the lateness."))
    on_time_rate = serializers.FloatField(
        allow_null=True, help_text=_("Share of receipts on or before the promised date (0 to 1).")
    )


class SupplierSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text=_("The supplier's id here."))
    name = serializers.CharField(max_length=200, help_text=_("Unique in the shop."))
    email = serializers.EmailField(allow_blank=True, required=False, help_text=_("Where orders go."))
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        allow_blank=True,
        required=False,
        help_text=_("ISO 4217, e.g. EUR; empty: the shop's."),
        error_messages={"invalid": _("Give a three-letter ISO 4217 code such as EUR.")},
    )
    lead_time_days = serializers.IntegerField(
        min_value=0, max_value=LEAD_TIME_MAX_DAYS, required=False, help_text=_("Usual days to arrival.")
    )
    lead_time_spread_days = serializers.IntegerField(
        min_value=0,
        max_value=LEAD_TIME_MAX_DAYS,
        required=False,
        help_text=_("How many days arrival varies (one standard deviation), until receipts measure it."),
    )
    is_active = serializers.BooleanField(
        required=False, help_text=_("Inactive suppliers are not counted on.")
    )
    reliability = serializers.SerializerMethodField(help_text=_("Its measured record."))

    @extend_schema_field(ReliabilitySerializer)
    def get_reliability(self, supplier: Supplier) -> dict[str, Any]:
        record: Reliability | None = self.context.get("reliability", {}).get(supplier.pk)
        return dict(ReliabilitySerializer(record).data) if record else {}

    def validate_name(self, value: str) -> str:
        return " ".join(value.split())

    def validate_currency(self, value: str) -> str:
        return value.upper()


class LineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text=_("The line's id (to receive it)."))
    variant = serializers.IntegerField(
        source="variant.platform_id", read_only=True, help_text=_("The platform's variant id.")
    )
    sku = serializers.CharField(source="variant.sku", read_only=True, help_text=_("The variant's SKU."))
    quantity_ordered = serializers.IntegerField(read_only=True, help_text=_("Units ordered."))
    quantity_received = serializers.IntegerField(read_only=True, help_text=_("Units received so far."))


class PurchaseOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("The purchase order's id here."))
    number = serializers.CharField(help_text=_("Its number, unique in the shop."))
    supplier = serializers.IntegerField(source="supplier_id", help_text=_("The supplier's id."))
    status = serializers.ChoiceField(choices=PurchaseOrder.Status.choices, help_text=_("Where it stands."))
    expected_on = serializers.DateField(help_text=_("Expected arrival (shop's time zone)."))
    note = serializers.CharField(help_text=_("The owner's note."))
    sent_at = serializers.DateTimeField(allow_null=True, help_text=_("When it was sent."))
    confirmed_at = serializers.DateTimeField(allow_null=True, help_text=_("When the supplier confirmed it."))
    received_at = serializers.DateTimeField(allow_null=True, help_text=_("When it was fully received."))
    cancelled_at = serializers.DateTimeField(allow_null=True, help_text=_("When it was cancelled."))
    lines = LineSerializer(many=True, help_text=_("What was ordered and what came."))


class LineInSerializer(serializers.Serializer):
    variant = serializers.IntegerField(
        min_value=1, max_value=PLATFORM_ID_MAX, help_text=_("Platform variant id.")
    )
    quantity = serializers.IntegerField(
        min_value=0, max_value=PO_QUANTITY_MAX, help_text=_("Units to order; 0 removes the line.")
    )


def _lines_field(**kwargs: Any) -> LineInSerializer:
    return LineInSerializer(many=True, max_length=PO_LINES_MAX, **kwargs)


def unique_variants(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    variants = [line["variant"] for line in lines]
    if len(set(variants)) != len(variants):
        raise serializers.ValidationError(_("Give each variant once."))
    return lines


class PurchaseOrderCreateSerializer(serializers.Serializer):
    supplier = serializers.IntegerField(
        min_value=1, max_value=PLATFORM_ID_MAX, help_text=_("The supplier's id.")
    )
    number = serializers.CharField(max_length=PO_NUMBER_MAX, help_text=_("Unique in the shop."))
    expected_on = serializers.DateField(help_text=_("Expected arrival (shop's time zone)."))
    note = serializers.CharField(
        max_length=PO_NOTE_MAX, allow_blank=True, required=False, help_text=_("A note.")
    )
    lines = _lines_field(required=False, help_text=_("What to order (at most 500 lines)."))

    def validate_lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return unique_variants(lines)


class PurchaseOrderUpdateSerializer(serializers.Serializer):
    expected_on = serializers.DateField(required=False, help_text=_("A new expected arrival."))
    note = serializers.CharField(
        max_length=PO_NOTE_MAX, allow_blank=True, required=False, help_text=_("A note.")
    )
    lines = _lines_field(required=False, help_text=_("Quantities to set; other lines keep theirs."))

    def validate_lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return unique_variants(lines)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(_("Send expected_on, note or lines."))
        return attrs


class ConfirmSerializer(serializers.Serializer):
    expected_on = serializers.DateField(
        required=False, help_text=_("The supplier's arrival date, if it gave one.")
    )


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH,
        allow_blank=True,
        required=False,
        help_text=_("Why (kept in its history)."),
    )


class ReceiveLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=PLATFORM_ID_MAX, help_text=_("The line's id."))
    quantity = serializers.IntegerField(
        min_value=0, max_value=PO_QUANTITY_MAX, help_text=_("Units that arrived.")
    )


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiveLineSerializer(
        many=True, min_length=1, max_length=PO_LINES_MAX, help_text=_("What arrived, per line.")
    )
    location = serializers.IntegerField(
        min_value=1,
        max_value=PLATFORM_ID_MAX,
        required=False,
        help_text=_("The platform's location id; absent: the shop's first location."),
    )

    def validate_lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = [line["line"] for line in lines]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError(_("Give each line once."))
        return lines


class PurchaseOrderQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=PurchaseOrder.Status.choices, required=False, help_text=_("Only orders in this status.")
    )
    supplier = serializers.IntegerField(
        min_value=1, max_value=PLATFORM_ID_MAX, required=False, help_text=_("Only this supplier's orders.")
    )
