"""The storefront API's JSON, in and out: each serializer is what the OpenAPI schema documents
and what the views send, so that the two cannot drift apart.

Output serializers read the selectors' dataclasses (``selectors.storefront``,
``selectors.availability``, ``selectors.alternatives``); they decide nothing. Input serializers
bound every value from outside (lengths, ranges, characters) before a selector or service sees it.
"""

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from backorders.models.orders import EtaSource
from backorders.selectors.availability import AvailabilityState

# A BCP 47-ish language tag ("de", "de-AT", "pt-br"): letters, then up to four subtags. Leave
# the parameter out rather than empty ("lang=" is refused like any other malformed code).
LANGUAGE_PATTERN = r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8}){0,4}$"
LANGUAGE_MAX_LENGTH = 35
_LANGUAGE_RE = re.compile(LANGUAGE_PATTERN)
PLATFORM_ID_MAX = 2**63 - 1
QUOTE_MAX_LINES = 100
QUOTE_MAX_QUANTITY = 10_000
EMAIL_MAX_LENGTH = 254

_LANGUAGE_HELP = _(
    "Language of the texts (badge, ETA, reasons), e.g. de or de-AT. A language the app does not "
    "ship falls back to the Accept-Language header, then to the shop's language."
)


LANGUAGE_INVALID = _("Give a language code such as de or de-AT (letters, digits and hyphens).")


def _language_field(**kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(
        LANGUAGE_PATTERN,
        max_length=LANGUAGE_MAX_LENGTH,
        required=False,
        help_text=_LANGUAGE_HELP,
        error_messages={"invalid": LANGUAGE_INVALID, "max_length": LANGUAGE_INVALID},
        **kwargs,
    )


class LanguageQuerySerializer(serializers.Serializer):
    """The query of the storefront GETs."""

    lang = _language_field()


# --- Out ----------------------------------------------------------------------------------------


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        source="platform_id",
        allow_null=True,
        min_value=0,
        max_value=PLATFORM_ID_MAX,
        help_text=_("The platform's product id (null for a product the platform does not know)."),
    )
    handle = serializers.CharField(
        help_text=_("The product's handle: its storefront URL is /products/<handle>.")
    )
    title = serializers.CharField(help_text=_("The product's title."))


class VariantAvailabilitySerializer(serializers.Serializer):
    id = serializers.IntegerField(
        source="variant.platform_id",
        allow_null=True,
        min_value=0,
        max_value=PLATFORM_ID_MAX,
        help_text=_("The platform's variant id (null for a variant the platform does not know)."),
    )
    sku = serializers.CharField(source="variant.sku", help_text=_("The variant's SKU (may be empty)."))
    title = serializers.CharField(source="variant.title", help_text=_("The variant's title (may be empty)."))
    state = serializers.ChoiceField(
        choices=AvailabilityState.choices,
        help_text=_(
            "in_stock and low_stock: sold from stock; backorder: may be ordered now and ships later; "
            "out_of_stock: cannot be ordered (notify me applies); discontinued: no longer sold."
        ),
    )
    badge = serializers.CharField(
        help_text=_('The badge text in the answer\'s language, e.g. "Backorder — ships by 12 Dec".')
    )
    can_order = serializers.BooleanField(help_text=_("Whether a customer can order this variant now."))
    quantity_available = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        help_text=_("Units in stock now; null unless the shop shows stock counts (and tracks stock)."),
    )
    backorder_units_left = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        help_text=_("Units that may still be backordered (limit minus waiting); null when not limited."),
    )
    eta = serializers.DateField(
        source="eta.date",
        allow_null=True,
        help_text=_(
            "The date (in the shop's time zone) a new order placed now would ship, after everyone "
            "already waiting; null unless the state is backorder and the date is known."
        ),
    )
    eta_source = serializers.ChoiceField(
        source="eta.source",
        choices=EtaSource.choices,
        help_text=_("Where the ETA comes from: manual (the shop's date), lead_time, or unknown."),
    )
    eta_text = serializers.CharField(
        allow_blank=True, help_text=_("The ETA in words for the customer; empty unless backorder.")
    )
    alert_signup = serializers.BooleanField(
        help_text=_('Whether "notify me when it is back" applies (out of stock, not discontinued).')
    )
    alert_waiting = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        help_text=_(
            "People waiting for a restock alert; null unless the shop shows the count and the variant "
            "is out of stock."
        ),
    )


class AvailabilitySerializer(serializers.Serializer):
    shop = serializers.CharField(source="shop.domain", help_text=_("The shop's platform domain."))
    language = serializers.CharField(help_text=_("The language the texts are in."))
    product = ProductSerializer()
    variants = VariantAvailabilitySerializer(
        many=True, help_text=_("The variants a customer can pick, in the platform's order.")
    )


class AlternativeSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        source="product.platform_id",
        allow_null=True,
        min_value=0,
        max_value=PLATFORM_ID_MAX,
        help_text=_("The platform's product id of the alternative."),
    )
    handle = serializers.CharField(source="product.handle", help_text=_("The alternative's handle."))
    title = serializers.CharField(source="product.title", help_text=_("The alternative's title."))
    url = serializers.CharField(help_text=_("The alternative's page on the storefront (https)."))
    image_url = serializers.CharField(
        source="product.image_url", allow_blank=True, help_text=_("The product image (https), or empty.")
    )
    price = serializers.DecimalField(
        source="variant.price",
        max_digits=12,
        decimal_places=2,
        help_text=_("The price of the variant linked to, as a decimal string."),
    )
    currency = serializers.CharField(help_text=_("ISO 4217 code of the price, e.g. EUR."))
    variant_id = serializers.IntegerField(
        source="variant.platform_id",
        allow_null=True,
        min_value=0,
        max_value=PLATFORM_ID_MAX,
        help_text=_("The platform's id of the variant linked to: one a customer can buy from stock now."),
    )
    state = serializers.ChoiceField(
        choices=AvailabilityState.choices, help_text=_("That variant's state (in_stock or low_stock).")
    )
    badge = serializers.CharField(help_text=_("That variant's badge text."))
    higher_tier = serializers.BooleanField(help_text=_("A higher-priced option of the same type."))
    pinned = serializers.BooleanField(help_text=_("Chosen by the shop owner."))


class AlternativesSerializer(serializers.Serializer):
    product = ProductSerializer(help_text=_("The product the alternatives are for."))
    alternatives = AlternativeSerializer(
        many=True, help_text=_("Other products in stock now, best first (the owner's pins first).")
    )


# --- The quote ----------------------------------------------------------------------------------


class QuoteLineInSerializer(serializers.Serializer):
    variant_id = serializers.IntegerField(
        min_value=1, max_value=PLATFORM_ID_MAX, help_text=_("The platform's variant id.")
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=QUOTE_MAX_QUANTITY, help_text=_("Units the customer asks for.")
    )


class QuoteRequestSerializer(serializers.Serializer):
    lines = QuoteLineInSerializer(
        many=True,
        min_length=1,
        max_length=QUOTE_MAX_LINES,
        allow_empty=False,
        help_text=_("The cart's lines, one per variant (1 to 100)."),
    )
    language = _language_field()

    def validate_lines(self, lines: list[dict[str, int]]) -> list[dict[str, int]]:
        seen: set[int] = set()
        for number, line in enumerate(lines, start=1):
            if line["variant_id"] in seen:
                raise serializers.ValidationError(
                    _("Line %(n)d names variant %(id)d again: put its whole quantity on one line.")
                    % {"n": number, "id": line["variant_id"]}
                )
            seen.add(line["variant_id"])
        return lines


class QuoteLineSerializer(serializers.Serializer):
    variant_id = serializers.IntegerField(
        min_value=1, max_value=PLATFORM_ID_MAX, help_text=_("The platform's variant id, as asked.")
    )
    quantity = serializers.IntegerField(min_value=1, help_text=_("Units asked for."))
    from_stock = serializers.IntegerField(min_value=0, help_text=_("Units that would ship from stock."))
    backordered = serializers.IntegerField(min_value=0, help_text=_("Units that would wait (backordered)."))
    allowed = serializers.BooleanField(help_text=_("Whether checkout would accept this line as it is."))
    reason = serializers.CharField(allow_blank=True, help_text=_("Why not, in words; empty when allowed."))
    state = serializers.ChoiceField(choices=AvailabilityState.choices, help_text=_("The variant's state."))
    eta = serializers.DateField(
        allow_null=True, help_text=_("When the backordered units would ship; null when none wait.")
    )
    eta_source = serializers.ChoiceField(choices=EtaSource.choices, help_text=_("Where the ETA comes from."))
    eta_text = serializers.CharField(allow_blank=True, help_text=_("The ETA in words; empty when none wait."))


class QuoteSerializer(serializers.Serializer):
    allowed = serializers.BooleanField(help_text=_("Whether checkout would accept every line."))
    lines = QuoteLineSerializer(many=True, help_text=_("One answer per line asked, in the same order."))


# --- Restock alerts -----------------------------------------------------------------------------


class AlertSignupRequestSerializer(serializers.Serializer):
    variant_id = serializers.IntegerField(
        min_value=1, max_value=PLATFORM_ID_MAX, help_text=_("The platform's id of the variant to watch.")
    )
    email = serializers.EmailField(
        max_length=EMAIL_MAX_LENGTH, help_text=_("Where the confirmation and the alert go.")
    )
    language = _language_field()


class AlertSignupSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("pending_confirmation", "pending_confirmation")],
        help_text=_("pending_confirmation: a confirmation email is on its way."),
    )
    message = serializers.CharField(help_text=_("What to tell the customer, in the answer's language."))


# --- Errors (documentation of the 4xx answers) --------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("What was wrong, in words."))


# The 400 answer: one entry per refused field, each a list of messages (or, for the quote's
# lines, a list with one object of field messages per line).
FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One entry per refused field: a list of messages, or per-line objects for lines.",
    "additionalProperties": {},
    "example": {"lines": [{}, {"variant_id": ["Line 2: no variant with id 456 in this shop."]}]},
}


def language_valid(value: str) -> bool:
    """Whether ``value`` is a well-formed language code (what ``lang`` accepts)."""
    return len(value) <= LANGUAGE_MAX_LENGTH and bool(_LANGUAGE_RE.match(value))
