"""The storefront API's views: parse, ask one selector (or service), present.

Every answer of ``StorefrontView`` and its subclasses:

* is anonymous: no session, no CSRF, no cookie read or set (``authentication_classes = []``);
* names the shop by its platform domain in the URL (the App Proxy: by the signed ``shop``
  parameter); an unknown or inactive shop, and a product or variant of another shop, is 404;
* is limited per client IP (``StorefrontRateThrottle``: 429 with ``Retry-After``);
* on a GET 200: ``Cache-Control: public, max-age=STOREFRONT_CACHE_SECONDS`` and an ETag over the
  bytes sent (so it changes whenever stock, policy, ETA or wording does: the ETA depends on
  today, which is in the body), and 304 with no body on a matching ``If-None-Match``;
* ``Vary: Origin, Accept-Language``; CORS for the shop's own storefront origins only.

CORS is written here rather than with django-cors-headers: that package allows origins from
static settings (or one hook for the whole site), whereas each shop allows its own origins
(``Shop.cors_origins()``: its platform domain, its storefront address, the owner's list), known
only once the URL's shop is looked up. An origin not on the shop's list gets no CORS header at
all, so the browser withholds the answer from that page.
"""

import hashlib
from typing import Any, ClassVar

from django.http import HttpResponseNotModified
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backorders.api.storefront import serializers as s
from backorders.api.storefront.throttles import StorefrontRateThrottle
from backorders.conf import get_setting
from backorders.models import Product, Shop
from backorders.models.shops import shipped_languages
from backorders.selectors.availability import availability_quote, shop_today
from backorders.selectors.storefront import (
    StorefrontNotFound,
    eta_text,
    product_availability,
    storefront_product,
    storefront_shop,
    storefront_shop_product,
    storefront_variants_by_platform_id,
)
from backorders.services.alerts import AlertRateLimited, AlertRefused, alert_signup
from backorders.throttling import AlertSignupIPThrottle

# Longest Origin and Accept-Language header read (longer ones are treated as absent).
_ORIGIN_MAX_LENGTH = 300
_ACCEPT_LANGUAGE_MAX_LENGTH = 500

UNKNOWN_SHOP = _("No active shop has this domain.")
UNKNOWN_PRODUCT = _("This shop has no product with this id or handle on its storefront.")
UNKNOWN_VARIANT = _("This shop has no variant with this id on its storefront.")


class StorefrontView(APIView):
    """The base of every storefront resource (the API's and the App Proxy's)."""

    authentication_classes: ClassVar[list] = []
    permission_classes: ClassVar[list] = []
    throttle_classes: ClassVar[list] = [StorefrontRateThrottle]
    renderer_classes: ClassVar[list] = [JSONRenderer]
    parser_classes: ClassVar[list] = [JSONParser]
    # The public API: cacheable by anyone, CORS for the shop's origins. The App Proxy's answers
    # are private to the shopper and same-origin with the shop (``platforms.shopify.app_proxy``).
    public: ClassVar[bool] = True
    shop: Shop | None = None

    # --- The shop, the language, the product ----------------------------------------------------

    def resolve_shop(self, request: Request, kwargs: dict[str, Any]) -> Shop:
        """The shop the request is for (the URL's domain); 404 when there is no active one."""
        try:
            return storefront_shop(domain=str(kwargs.get("shop", "")))
        except StorefrontNotFound:
            raise NotFound(UNKNOWN_SHOP) from None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # the throttle first: a 429 costs no query
        self.shop = self.resolve_shop(request, kwargs)

    def language(self, request: Request, requested: str | None) -> str:
        """The language to answer in: ``requested`` when the app ships it (or its base language),
        else the first shipped one of Accept-Language, else the shop's."""
        shipped = shipped_languages()
        candidates = [requested] if requested else []
        header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
        if header and len(header) <= _ACCEPT_LANGUAGE_MAX_LENGTH:
            candidates += [part.split(";")[0].strip() for part in header.split(",")][:10]
        for candidate in candidates:
            code = candidate.lower()
            if code in shipped:
                return code
            if code.split("-")[0] in shipped:
                return code.split("-")[0]
        assert self.shop is not None
        return self.shop.language

    def query_language(self, request: Request) -> str:
        """The ``lang`` of the query (as ``LanguageQuerySerializer`` documents it), resolved."""
        requested = request.query_params.get("lang")
        if requested is not None and not s.language_valid(requested):
            raise ValidationError({"lang": [s.LANGUAGE_INVALID]})
        return self.language(request, requested)

    def product(self, ref: str) -> Product:
        assert self.shop is not None
        try:
            return storefront_product(shop=self.shop, ref=ref)
        except StorefrontNotFound:
            raise NotFound(UNKNOWN_PRODUCT) from None

    # --- Headers: CORS, caching, ETag -----------------------------------------------------------

    def allowed_origin(self, request: Request) -> str:
        """The request's Origin when it is one of the shop's storefront origins, else ""."""
        origin = request.META.get("HTTP_ORIGIN", "")
        if not origin or len(origin) > _ORIGIN_MAX_LENGTH or self.shop is None:
            return ""
        allowed = {value.lower().rstrip("/") for value in self.shop.cors_origins()}
        return origin if origin.lower() in allowed else ""

    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A CORS preflight: which methods and headers the shop's pages may use, for how long.
        Answered without CORS headers to an origin that is not the shop's."""
        response = Response(status=status.HTTP_204_NO_CONTENT)
        if self.public and self.allowed_origin(request):
            response["Access-Control-Allow-Methods"] = ", ".join(self.allowed_methods)
            response["Access-Control-Allow-Headers"] = "Content-Type, If-None-Match"
            response["Access-Control-Max-Age"] = str(get_setting("STOREFRONT_CORS_MAX_AGE"))
        return response

    def cache_control(self) -> str:
        return f"public, max-age={int(get_setting('STOREFRONT_CACHE_SECONDS'))}"

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.public:
            patch_vary_headers(response, ("Origin", "Accept-Language"))
            if origin := self.allowed_origin(request):
                response["Access-Control-Allow-Origin"] = origin
                response["Access-Control-Expose-Headers"] = "ETag, Retry-After"
        if request.method in ("GET", "HEAD") and response.status_code == status.HTTP_200_OK:
            response.render()
            etag = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
            response["ETag"] = etag
            response["Cache-Control"] = self.cache_control()
            if _etag_matches(request.META.get("HTTP_IF_NONE_MATCH", ""), etag):
                return _not_modified(response)
        elif request.method not in ("GET", "HEAD", "OPTIONS"):
            response["Cache-Control"] = "no-store"
        return response


def _etag_matches(header: str, etag: str) -> bool:
    if not header or len(header) > 2000:
        return False
    # Weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in parse_etags(header))


def _not_modified(response: Any) -> HttpResponseNotModified:
    not_modified = HttpResponseNotModified()
    for header in (
        "ETag",
        "Cache-Control",
        "Vary",
        "Access-Control-Allow-Origin",
        "Access-Control-Expose-Headers",
    ):
        if header in response:
            not_modified[header] = response[header]
    return not_modified


# --- Documentation shared by the endpoints ---------------------------------------------------------

SHOP_PARAMETER = OpenApiParameter(
    "shop",
    str,
    OpenApiParameter.PATH,
    description=str(_("The shop's platform domain, e.g. acme.myshopify.com.")),
)
REF_PARAMETER = OpenApiParameter(
    "ref",
    str,
    OpenApiParameter.PATH,
    description=str(_("The platform's product id, or the product's handle (at most 255 characters).")),
)
ERRORS = {
    400: OpenApiResponse(s.FIELD_ERRORS_SCHEMA, description="Bad input: a message per refused field."),
    404: OpenApiResponse(
        s.ErrorSerializer, description="No active shop by that domain, or nothing by that id."
    ),
    429: OpenApiResponse(
        s.ErrorSerializer, description="Too many requests from this address: see Retry-After."
    ),
}
GET_ERRORS = {304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)."), **ERRORS}

# One instance of each output serializer, its fields bound once: a serializer built per request
# deep-copies every declared field, which costs more than the rest of the presentation.
# ``to_representation`` keeps no state between calls.
_AVAILABILITY = s.AvailabilitySerializer()
_QUOTE = s.QuoteSerializer()

AVAILABILITY_EXAMPLE = {
    "shop": "acme.myshopify.com",
    "language": "de",
    "product": {"id": 123, "handle": "red-mug", "title": "Red mug"},
    "variants": [
        {
            "id": 456,
            "sku": "MUG-R",
            "title": "Large",
            "state": "backorder",
            "badge": "Nachbestellt — Versand bis 12. Dez.",
            "can_order": True,
            "quantity_available": None,
            "backorder_units_left": 3,
            "eta": "2026-12-12",
            "eta_source": "manual",
            "eta_text": "Versand bis Samstag, 12. Dezember 2026 (der erwartete Wareneingang des Shops).",
            "alert_signup": False,
            "alert_waiting": None,
        }
    ],
}


class AvailabilityView(StorefrontView):
    # The shop and the product in one query (``storefront_shop_product``), looked up with the
    # shop in ``initial``; the App Proxy, which finds the shop otherwise, looks the product up in
    # ``get``.
    _product: Product | None = None
    _product_looked_up = False

    def resolve_shop(self, request: Request, kwargs: dict[str, Any]) -> Shop:
        shop, self._product = storefront_shop_product(
            domain=str(kwargs.get("shop", "")), ref=str(kwargs.get("ref", ""))
        )
        if shop is None:
            raise NotFound(UNKNOWN_SHOP)
        self._product_looked_up = True
        return shop

    @extend_schema(
        operation_id="storefront_availability",
        summary="A product's variants as the product page shows them",
        description=(
            "Per variant: state, badge, whether it can be ordered, stock and backorder room where "
            "the shop shows them, the ETA a new order would get (after everyone already waiting), "
            "and whether notify-me applies. Cacheable (Cache-Control, ETag, 304)."
        ),
        parameters=[SHOP_PARAMETER, REF_PARAMETER, s.LanguageQuerySerializer],
        responses={200: s.AvailabilitySerializer, **GET_ERRORS},
        examples=[OpenApiExample("A backorderable variant", value=AVAILABILITY_EXAMPLE, response_only=True)],
        tags=["storefront"],
    )
    def get(self, request: Request, ref: str, **kwargs: Any) -> Response:
        language = self.query_language(request)
        if not self._product_looked_up:
            product = self.product(ref)
        elif self._product is None:
            raise NotFound(UNKNOWN_PRODUCT)
        else:
            product = self._product
        availability = product_availability(product=product, language=language)
        return Response(_AVAILABILITY.to_representation(availability))


class QuoteView(StorefrontView):
    @extend_schema(
        operation_id="storefront_quote",
        summary="What checkout would accept for a cart",
        description=(
            "Per line: the units from stock, the units that would wait, whether checkout would "
            "accept it (and why not), and the ETA of the waiting units. The same rules as "
            "checkout: what the cart promises is what the order records. A read (nothing is "
            "reserved); POST only to carry the cart."
        ),
        parameters=[SHOP_PARAMETER],
        request=s.QuoteRequestSerializer,
        responses={200: s.QuoteSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "Two units of a backorderable variant",
                value={"lines": [{"variant_id": 456, "quantity": 2}], "language": "de"},
                request_only=True,
            )
        ],
        tags=["storefront"],
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        assert self.shop is not None
        body = s.QuoteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lines = body.validated_data["lines"]
        language = self.language(request, body.validated_data.get("language"))
        variants = storefront_variants_by_platform_id(
            shop=self.shop, platform_ids=[line["variant_id"] for line in lines]
        )
        missing: list[dict[str, list[str]]] = []
        for number, line in enumerate(lines, start=1):
            known = line["variant_id"] in variants
            message = _t("Line %(n)d: no variant with id %(id)d in this shop.")
            missing.append(
                {} if known else {"variant_id": [message % {"n": number, "id": line["variant_id"]}]}
            )
        if any(missing):
            raise ValidationError({"lines": missing})
        answers = []
        with translation.override(language):
            for line in lines:
                variant = variants[line["variant_id"]]
                quote = availability_quote(variant=variant, quantity=line["quantity"])
                answers.append(
                    {
                        "variant_id": line["variant_id"],
                        "quantity": line["quantity"],
                        "from_stock": quote.from_stock,
                        "backordered": quote.backordered,
                        "allowed": quote.allowed,
                        "reason": quote.reason,
                        "state": quote.state,
                        "eta": quote.eta.date,
                        "eta_source": quote.eta.source,
                        "eta_text": eta_text(quote.eta, shop_today(variant)) if quote.backordered else "",
                    }
                )
        data = {"allowed": all(answer["allowed"] for answer in answers), "lines": answers}
        return Response(_QUOTE.to_representation(data))


class AlertSignupView(StorefrontView):
    # Both limits: the API's per-IP request rate and the sign-up rate per IP; the service adds
    # its own per-address limit (counted in the database).
    throttle_classes: ClassVar[list] = [StorefrontRateThrottle, AlertSignupIPThrottle]

    @extend_schema(
        operation_id="storefront_alert_signup",
        summary="Notify me when it is back (double opt-in)",
        description=(
            "Signs an email address up for one email when the variant can be ordered again. Only "
            "for a variant that cannot be ordered now (out of stock and not backorderable, or over "
            "its backorder limit). A confirmation email is sent first: nothing is sent until its "
            "link's button is pressed. Signing up again returns the same pending sign-up."
        ),
        parameters=[SHOP_PARAMETER],
        request=s.AlertSignupRequestSerializer,
        responses={202: s.AlertSignupSerializer, **ERRORS},
        examples=[
            OpenApiExample(
                "A sign-up in German",
                value={"variant_id": 456, "email": "a@b.example", "language": "de"},
                request_only=True,
            )
        ],
        tags=["storefront"],
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        assert self.shop is not None
        body = s.AlertSignupRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        language = self.language(request, body.validated_data.get("language"))
        platform_id = body.validated_data["variant_id"]
        variant = storefront_variants_by_platform_id(shop=self.shop, platform_ids=[platform_id]).get(
            platform_id
        )
        if variant is None:
            raise NotFound(UNKNOWN_VARIANT)
        with translation.override(language):
            try:
                alert_signup(variant=variant, email=body.validated_data["email"], language=language)
            except AlertRefused as refused:
                # "orderable": the variant's fault (it can be ordered now); else the address's.
                field = "variant_id" if refused.code == "orderable" else "email"
                raise ValidationError({field: refused.messages}) from None
            except AlertRateLimited as limited:
                raise Throttled(wait=limited.retry_after, detail=limited.message) from None
            message = _t("Check your inbox and confirm your address: we will email you once it is back.")
        return Response(
            _ALERT_SIGNUP.to_representation({"status": "pending_confirmation", "message": message}),
            status=status.HTTP_202_ACCEPTED,
        )


_ALERT_SIGNUP = s.AlertSignupSerializer()
