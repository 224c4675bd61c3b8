"""The management API's suppliers and purchase orders: list, create, change, send, confirm,
cancel, receive. Each view parses, calls one service of ``services.purchasing`` (several in one
transaction for a PATCH that changes several things: all or nothing), and presents. Ids are ours
(a supplier's or order's ``id``) or the platform's (variants, locations), always within the key's
shop: another shop's ids are 404."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _t
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from backorders.api.management import supply_serializers as s
from backorders.api.management.views import (
    ERRORS,
    REFUSED,
    THROTTLED,
    UNAUTHORIZED,
    ManagementPagination,
    ManagementView,
    query_parse,
    refusal,
    url_id,
)
from backorders.models import Location, PurchaseOrder, Supplier
from backorders.selectors.catalog import variant_pks_by_platform_id
from backorders.selectors.supply import purchase_orders_of_shop, suppliers_of_shop, suppliers_reliability
from backorders.services.purchasing import (
    purchase_order_cancel,
    purchase_order_confirm,
    purchase_order_create,
    purchase_order_receive,
    purchase_order_send,
    purchase_order_set_expected,
    purchase_order_set_lines,
    purchase_order_set_note,
    supplier_create,
    supplier_update,
)

SUPPLY_TAG = "management: supply"


def _parameter(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, int, OpenApiParameter.PATH, description=f"The {what}'s id (of the key's shop)."
    )


class SupplyView(ManagementView):
    def supplier(self, pk: int | str) -> Supplier:
        supplier = suppliers_of_shop(shop_id=self.shop.pk).filter(pk=url_id(str(pk))).first()
        if supplier is None:
            raise NotFound(_t("This shop has no supplier with id %(id)s.") % {"id": str(pk)[:30]})
        return supplier

    def purchase_order(self, pk: str) -> PurchaseOrder:
        order = purchase_orders_of_shop(shop_id=self.shop.pk).filter(pk=url_id(pk)).first()
        if order is None:
            raise NotFound(_t("This shop has no purchase order with id %(id)s.") % {"id": pk[:30]})
        return order

    def variant_pks(self, lines: list[dict[str, Any]]) -> dict[int, int]:
        """{our variant id: quantity} of ``lines`` given by platform ids; 404 naming the unknown."""
        known = variant_pks_by_platform_id(shop=self.shop, platform_ids=[line["variant"] for line in lines])
        if missing := [str(line["variant"]) for line in lines if line["variant"] not in known]:
            raise NotFound(_t("This shop has no variant with id %(ids)s.") % {"ids": ", ".join(missing)})
        return {known[line["variant"]]: line["quantity"] for line in lines}

    def present_supplier(self, supplier: Supplier, code: int = status.HTTP_200_OK) -> Response:
        context = {"reliability": suppliers_reliability(supplier_ids=[supplier.pk])}
        return Response(s.SupplierSerializer(supplier, context=context).data, status=code)

    def present_order(self, order: PurchaseOrder, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.PurchaseOrderSerializer(self.purchase_order(str(order.pk))).data, status=code)


class SupplyPagination(ManagementPagination):
    ordering = "-pk"


class SupplierListView(SupplyView, ListAPIView):
    serializer_class = s.SupplierSerializer
    pagination_class = SupplyPagination

    def get_queryset(self) -> QuerySet[Supplier]:
        return suppliers_of_shop(shop_id=self.shop.pk)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "reliability": getattr(self, "_reliability", {})}

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        self._reliability = suppliers_reliability(supplier_ids=[supplier.pk for supplier in page or []])
        return page

    @extend_schema(
        tags=[SUPPLY_TAG],
        operation_id="manage_suppliers_list",
        summary="The shop's suppliers with their measured record",
        responses={200: s.SupplierSerializer(many=True), 400: REFUSED, 401: UNAUTHORIZED, 429: THROTTLED},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=[SUPPLY_TAG],
        operation_id="manage_supplier_create",
        summary="Add a supplier",
        request=s.SupplierSerializer,
        responses={201: s.SupplierSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = s.SupplierSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            supplier = supplier_create(shop=self.shop, actor=self.actor, **body.validated_data)
        except DjangoValidationError as error:
            raise refusal(error) from None
        return self.present_supplier(supplier, status.HTTP_201_CREATED)


@extend_schema(parameters=[_parameter("supplier_id", "supplier")])
class SupplierDetailView(SupplyView):
    @extend_schema(
        tags=[SUPPLY_TAG],
        operation_id="manage_supplier_read",
        summary="One supplier",
        responses={200: s.SupplierSerializer, **ERRORS},
    )
    def get(self, request: Request, supplier_id: str) -> Response:
        return self.present_supplier(self.supplier(supplier_id))

    @extend_schema(
        tags=[SUPPLY_TAG],
        operation_id="manage_supplier_update",
        summary="Change a supplier (a new lead time moves the ETAs that count on it)",
        request=s.SupplierSerializer(partial=True),
        responses={200: s.SupplierSerializer, **ERRORS},
    )
    def patch(self, request: Request, supplier_id: str) -> Response:
        supplier = self.supplier(supplier_id)
        body = s.SupplierSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            supplier = supplier_update(supplier=supplier, actor=self.actor, **body.validated_data)
        except DjangoValidationError as error:
            raise refusal(error) from None
        return self.present_supplier(supplier)


class PurchaseOrderListView(SupplyView, ListAPIView):
    serializer_class = s.PurchaseOrderSerializer
    pagination_class = SupplyPagination

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        query = query_parse(s.PurchaseOrderQuerySerializer, self.request)
        return purchase_orders_of_shop(
            shop_id=self.shop.pk, status=query.get("status", ""), supplier_id=query.get("supplier")
        )

    @extend_schema(
        tags=[SUPPLY_TAG],
        operation_id="manage_purchase_orders_list",
        summary="The shop's purchase orders with their lines, newest first",
        parameters=[s.PurchaseOrderQuerySerializer],
        responses={
            200: s.PurchaseOrderSerializer(many=True),
            400: REFUSED,
            401: UNAUTHORIZED,
            429: THROTTLED,
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=[SUPPLY_TAG],
        operation_id="manage_purchase_order_create",
        summary="Create a draft purchase order (it counts on nothing until it is sent)",
        request=s.PurchaseOrderCreateSerializer,
        responses={201: s.PurchaseOrderSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = s.PurchaseOrderCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        supplier = self.supplier(data["supplier"])
        lines = self.variant_pks(data.get("lines", []))
        try:
            order = purchase_order_create(
                supplier=supplier,
                number=data["number"],
                expected_on=data["expected_on"],
                note=data.get("note", ""),
                lines=lines,
                actor=self.actor,
            )
        except DjangoValidationError as error:
            raise refusal(error) from None
        return self.present_order(order, status.HTTP_201_CREATED)


PO_PARAMETER = _parameter("purchase_order_id", "purchase order")


@extend_schema(parameters=[PO_PARAMETER])
class PurchaseOrderDetailView(SupplyView):
    @extend_schema(
        tags=[SUPPLY_TAG],
        operation_id="manage_purchase_order_read",
        summary="One purchase order with its lines",
        responses={200: s.PurchaseOrderSerializer, **ERRORS},
    )
    def get(self, request: Request, purchase_order_id: str) -> Response:
        return self.present_order(self.purchase_order(purchase_order_id))

    @extend_schema(
        tags=[SUPPLY_TAG],
        operation_id="manage_purchase_order_update",
        summary="Change the expected date, the note or line quantities (all or nothing)",
        description=(
            "A new expected date moves the ETAs of the customers the order covers; each whose "
            "ETA moves past the shop's threshold gets one email."
        ),
        request=s.PurchaseOrderUpdateSerializer,
        responses={200: s.PurchaseOrderSerializer, **ERRORS},
    )
    def patch(self, request: Request, purchase_order_id: str) -> Response:
        order = self.purchase_order(purchase_order_id)
        body = s.PurchaseOrderUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lines = self.variant_pks(data["lines"]) if "lines" in data else None
        try:
            with transaction.atomic():
                if lines is not None:
                    order = purchase_order_set_lines(purchase_order=order, lines=lines, actor=self.actor)
                if "expected_on" in data:
                    order = purchase_order_set_expected(
                        purchase_order=order, expected_on=data["expected_on"], actor=self.actor
                    )
                if "note" in data:
                    order = purchase_order_set_note(purchase_order=order, note=data["note"], actor=self.actor)
        except DjangoValidationError as error:
            raise refusal(error) from None
        return self.present_order(order)


class _OrderAction(SupplyView):
    """POST …/purchase-orders/<id>/<action>: one service call on the order."""

    def act(self, order: PurchaseOrder, request: Request) -> Any:
        raise NotImplementedError

    def post(self, request: Request, purchase_order_id: str) -> Response:
        order = self.purchase_order(purchase_order_id)
        try:
            self.act(order, request)
        except DjangoValidationError as error:
            raise refusal(error) from None
        return self.present_order(order)


def _action_schema(operation: str, summary: str, request: Any = None) -> Any:
    return extend_schema(
        tags=[SUPPLY_TAG],
        operation_id=operation,
        summary=summary,
        request=request,
        responses={200: s.PurchaseOrderSerializer, **ERRORS},
        parameters=[PO_PARAMETER],
    )


class PurchaseOrderSendView(_OrderAction):
    @_action_schema("manage_purchase_order_send", "Mark a draft as sent: its units now count as incoming")
    def post(self, request: Request, purchase_order_id: str) -> Response:
        return super().post(request, purchase_order_id)

    def act(self, order: PurchaseOrder, request: Request) -> Any:
        return purchase_order_send(purchase_order=order, actor=self.actor)


class PurchaseOrderConfirmView(_OrderAction):
    @_action_schema("manage_purchase_order_confirm", "The supplier confirmed it", s.ConfirmSerializer)
    def post(self, request: Request, purchase_order_id: str) -> Response:
        return super().post(request, purchase_order_id)

    def act(self, order: PurchaseOrder, request: Request) -> Any:
        body = s.ConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return purchase_order_confirm(
            purchase_order=order, actor=self.actor, expected_on=body.validated_data.get("expected_on")
        )


class PurchaseOrderCancelView(_OrderAction):
    @_action_schema("manage_purchase_order_cancel", "Cancel it: customers' ETAs follow", s.CancelSerializer)
    def post(self, request: Request, purchase_order_id: str) -> Response:
        return super().post(request, purchase_order_id)

    def act(self, order: PurchaseOrder, request: Request) -> Any:
        body = s.CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return purchase_order_cancel(
            purchase_order=order, actor=self.actor, reason=body.validated_data.get("reason", "")
        )


class PurchaseOrderReceiveView(_OrderAction):
    @_action_schema(
        "manage_purchase_order_receive",
        "Receive it, fully or in part: stock rises, waiting customers are allocated first come first served",
        s.ReceiveSerializer,
    )
    def post(self, request: Request, purchase_order_id: str) -> Response:
        return super().post(request, purchase_order_id)

    def act(self, order: PurchaseOrder, request: Request) -> Any:
        body = s.ReceiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        location = None
        if "location" in body.validated_data:
            platform_id = body.validated_data["location"]
            location = Location.objects.filter(shop=self.shop, platform_id=platform_id).first()
            if location is None:
                raise NotFound(_t("This shop has no location with id %(id)s.") % {"id": platform_id})
        lines = {line["line"]: line["quantity"] for line in body.validated_data["lines"]}
        return purchase_order_receive(purchase_order=order, lines=lines, location=location, actor=self.actor)
