"""The management API's views: authenticate the shop's token, parse, call one selector or
service, present. Every lookup is within the token's shop (``self.shop``): another shop's ids
are 404, exactly as ids that do not exist."""

from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _t
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backorders.api.management import serializers as s
from backorders.api.management.authentication import (
    ApiTokenAuthentication,
    HasShopToken,
    ManagementRateThrottle,
)
from backorders.models import ApiToken, Shop, Variant
from backorders.selectors.catalog import variant_by_platform_id, variants_of_shop
from backorders.services.audit import Actor
from backorders.services.catalog import variant_set_policy

TAG = "management"

UNAUTHORIZED = OpenApiResponse(description="No API key, or a key that is unknown or revoked.")
THROTTLED = OpenApiResponse(description="Over MANAGEMENT_API_RATE for this key; see Retry-After.")
NOT_THIS_SHOPS = OpenApiResponse(description="Not a variant of this shop (another shop's ids are 404 too).")
REFUSED = OpenApiResponse(description="A field is refused (the body names it and says why); nothing changed.")
ERRORS = {400: REFUSED, 401: UNAUTHORIZED, 404: NOT_THIS_SHOPS, 429: THROTTLED}


def refusal(error: DjangoValidationError, prefix: str = "") -> ValidationError:
    """A service's refusal as a 400 that names each field (``prefix`` before each name)."""
    if hasattr(error, "error_dict"):
        return ValidationError({f"{prefix}{name}": messages for name, messages in error.message_dict.items()})
    return ValidationError({f"{prefix}non_field_errors" if prefix else "non_field_errors": error.messages})


def url_id(ref: str) -> int:
    """A URL's id part as a number from 1 to 2⁶³ − 1, else 0 (nothing has it: the view's 404)."""
    number = int(ref) if ref.isascii() and ref.isdigit() and len(ref) <= 19 else 0
    return number if number <= s.PLATFORM_ID_MAX else 0


class ManagementView(APIView):
    """The base of every management resource: a shop's API token, JSON only, never cached."""

    authentication_classes: ClassVar[list] = [ApiTokenAuthentication]
    permission_classes: ClassVar[list] = [HasShopToken]
    throttle_classes: ClassVar[list] = [ManagementRateThrottle]
    renderer_classes: ClassVar[list] = [JSONRenderer]
    parser_classes: ClassVar[list] = [JSONParser]

    @property
    def shop(self) -> Shop:
        assert isinstance(self.request.auth, ApiToken)
        return self.request.auth.shop

    @property
    def actor(self) -> Actor:
        assert isinstance(self.request.auth, ApiToken)
        return Actor.api(self.request.auth.name)

    def permission_denied(self, request: Request, message: Any = None, code: Any = None) -> None:
        if request.auth is None:
            raise NotAuthenticated(HasShopToken.message)
        super().permission_denied(request, message, code)

    def variant(self, ref: str) -> Variant:
        """The token's shop's variant whose platform id is ``ref`` (a URL part); 404 otherwise."""
        platform_id = url_id(ref)
        variant = variant_by_platform_id(shop=self.shop, platform_id=platform_id) if platform_id else None
        if variant is None:
            raise NotFound(_t("This shop has no variant with id %(id)s.") % {"id": ref[:30]})
        return variant

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class ManagementPagination(CursorPagination):
    """Cursor pages (stable under inserts) whose bad cursor or page size is a 400 naming it,
    never a 404 or a silently different page."""

    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {
                    "cursor": [
                        _t("This cursor is not one of ours: follow the next or previous link of a page.")
                    ]
                }
            ) from None

    def get_page_size(self, request: Request) -> int:
        """``page_size`` when given (1 to 500, once), else 100; anything else is a 400 rather
        than a silently different page."""
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        value = values[0]
        if len(values) > 1 or not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 500:
            raise ValidationError({"page_size": [_t("Give page_size once, a whole number from 1 to 500.")]})
        return int(value)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        answer = super().get_paginated_response_schema(schema)
        properties = answer["properties"]
        properties["next"]["description"] = "The next page's URL; null on the last page."
        properties["previous"]["description"] = "The previous page's URL; null on the first page."
        properties["results"]["description"] = "This page's rows, in a stable order."
        return answer


def query_parse(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    """The validated query of ``request`` (400 naming each bad parameter). A parameter given
    empty (``?status=``) is refused unless its field allows blanks: DRF would read it as absent,
    and the caller meant something."""
    query = serializer_class(data=request.query_params)
    empty = {
        name: [_t("Give a value, or leave the parameter out.")]
        for name, field in query.fields.items()
        if request.query_params.get(name) == "" and not getattr(field, "allow_blank", False)
    }
    if empty:
        raise ValidationError(empty)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


class VariantPagination(ManagementPagination):
    ordering = "pk"


class VariantListView(ManagementView, ListAPIView):
    serializer_class = s.VariantSerializer
    pagination_class = VariantPagination

    def get_queryset(self) -> QuerySet[Variant]:
        query = query_parse(s.VariantQuerySerializer, self.request)
        return variants_of_shop(
            shop=self.shop, sku=query.get("sku", ""), product_platform_id=query.get("product")
        )

    @extend_schema(
        tags=[TAG],
        operation_id="manage_variants_list",
        summary="The shop's variants with their policy and waiting counts",
        parameters=[s.VariantQuerySerializer],
        responses={200: s.VariantSerializer(many=True), 400: REFUSED, 401: UNAUTHORIZED, 429: THROTTLED},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


VARIANT_PARAMETER = OpenApiParameter(
    "variant_id",
    int,
    OpenApiParameter.PATH,
    description="The platform's variant id (of the key's shop).",
)


@extend_schema(parameters=[VARIANT_PARAMETER])
class VariantDetailView(ManagementView):
    @extend_schema(
        tags=[TAG],
        operation_id="manage_variant_read",
        summary="One variant with its policy and waiting counts",
        responses={200: s.VariantSerializer, 401: UNAUTHORIZED, 404: NOT_THIS_SHOPS, 429: THROTTLED},
    )
    def get(self, request: Request, variant_id: str) -> Response:
        return Response(s.VariantSerializer(self.variant(variant_id)).data)

    @extend_schema(
        tags=[TAG],
        operation_id="manage_variant_policy_update",
        summary="Change a variant's policy (waiting customers' ETAs move and they are emailed)",
        request=s.PolicySerializer,
        responses={200: s.VariantSerializer, **ERRORS},
    )
    def patch(self, request: Request, variant_id: str) -> Response:
        variant = self.variant(variant_id)
        changes = s.PolicySerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        try:
            variant = variant_set_policy(variant=variant, actor=self.actor, **changes.validated_data)
        except DjangoValidationError as error:
            raise refusal(error) from None
        variant = self.variant(variant_id)  # as stored, with its counters
        return Response(s.VariantSerializer(variant).data)


class RestockDatesView(ManagementView):
    @extend_schema(
        tags=[TAG],
        operation_id="manage_restock_dates",
        summary="Set the restock dates of many variants at once (all or none)",
        request=s.RestockDatesSerializer,
        responses={200: s.RestockResultSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = s.RestockDatesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        items = body.validated_data["items"]
        variants = {
            v.platform_id: v
            for v in variants_of_shop(shop=self.shop).filter(
                platform_id__in=[item["variant"] for item in items]
            )
        }
        if missing := [str(item["variant"]) for item in items if item["variant"] not in variants]:
            raise NotFound(
                _t("This shop has no variant with id %(ids)s; nothing was changed.")
                % {"ids": ", ".join(missing)}
            )
        with transaction.atomic():
            for index, item in enumerate(items):
                changes = {"restock_date": item["restock_date"]}
                if "restock_note" in item:
                    changes["restock_note"] = item["restock_note"].strip()
                try:
                    variant_set_policy(variant=variants[item["variant"]], actor=self.actor, **changes)
                except DjangoValidationError as error:
                    raise refusal(error, prefix=f"items[{index}].") from None
        return Response(s.RestockResultSerializer({"variants": len(items)}).data, status=status.HTTP_200_OK)
