"""Orders and fulfilments."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from backorders.models import Backorder, Order, OrderLine
from backorders.platforms.shopify.payloads.fields import (
    PayloadError,
    _where,
    as_datetime,
    as_decimal,
    as_id,
    as_int,
    as_list,
    as_object,
    as_optional_id,
    as_optional_int,
    as_str,
    as_url,
    max_length,
    required,
)


@dataclass(frozen=True)
class TrackingData:
    company: str = ""
    number: str = ""
    url: str = ""


@dataclass(frozen=True)
class OrderLineData:
    platform_id: int
    variant_id: int | None  # the platform's variant id; None: custom item or deleted product
    quantity: int  # current quantity (after edits and removals)
    shipped: int  # units shipped so far, as far as the payload says (0 when it does not)
    title: str
    sku: str
    product_exists: bool
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class OrderData:
    platform_id: int
    number: str
    email: str
    customer_name: str
    locale: str
    placed_at: datetime
    updated_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    lines: tuple[OrderLineData, ...]
    currency: str = ""
    tracking: TrackingData = field(default_factory=TrackingData)


@dataclass(frozen=True)
class FulfillmentLineData:
    platform_id: int
    quantity: int  # units in this fulfilment
    fulfillable_quantity: int | None  # units of the order line still to ship after it


@dataclass(frozen=True)
class FulfillmentData:
    platform_id: int
    order_id: int
    status: str
    tracking: TrackingData
    lines: tuple[FulfillmentLineData, ...]


def _first_str(data: Mapping[str, Any], single: str, plural: str, path: str) -> str:
    limit = max_length(Backorder, single)
    value = as_str(data.get(single), _where(path, single), max_length=limit)
    if not value:
        many = as_list(data.get(plural), _where(path, plural))
        where = f"{_where(path, plural)}[]"
        value = next((as_str(item, where, max_length=limit) for item in many if item), "")
    return value


def _first_url(data: Mapping[str, Any], path: str) -> str:
    """``tracking_url``, else the first of ``tracking_urls``: an http(s) URL, else dropped ("")."""
    limit = max_length(Backorder, "tracking_url")
    single = data.get("tracking_url")
    if single:
        return as_url(single, _where(path, "tracking_url"), max_length=limit)
    many = as_list(data.get("tracking_urls"), _where(path, "tracking_urls"))
    for i, item in enumerate(many):
        if item:
            return as_url(item, f"{_where(path, 'tracking_urls')}[{i}]", max_length=limit)
    return ""


def tracking_data(data: Mapping[str, Any], path: str = "") -> TrackingData:
    """The tracking of a fulfilment; a URL that is not http(s) is dropped (logged), the rest kept."""
    return TrackingData(
        company=as_str(
            data.get("tracking_company"),
            _where(path, "tracking_company"),
            max_length=max_length(Backorder, "tracking_company"),
        ),
        number=_first_str(data, "tracking_number", "tracking_numbers", path),
        url=_first_url(data, path),
    )


def _line_title(data: Mapping[str, Any], path: str) -> str:
    limit = max_length(OrderLine, "title")
    title = as_str(data.get("title"), f"{path}.title", max_length=limit, cut=True) or as_str(
        data.get("name"), f"{path}.name", max_length=limit, cut=True
    )
    variant_title = as_str(data.get("variant_title"), f"{path}.variant_title", max_length=limit, cut=True)
    if variant_title and variant_title != "Default Title" and variant_title not in title:
        title = f"{title} — {variant_title}" if title else variant_title
    return title


def order_line(data: Any, path: str, *, cancelled: bool) -> OrderLineData:
    data = as_object(data, path)
    ordered = as_int(required(data, "quantity", path), f"{path}.quantity")
    current = as_optional_int(data.get("current_quantity"), f"{path}.current_quantity")
    quantity = ordered if current is None else current  # both within 0 .. QUANTITY_MAX
    fulfillable = as_optional_int(data.get("fulfillable_quantity"), f"{path}.fulfillable_quantity")
    status = as_str(data.get("fulfillment_status"), f"{path}.fulfillment_status")
    if cancelled:
        shipped = 0  # a cancelled order's lines are no longer fulfillable: that is not shipping
    elif fulfillable is not None:
        shipped = max(0, quantity - fulfillable)
    else:
        shipped = quantity if status == "fulfilled" else 0
    product_exists = data.get("product_exists")
    return OrderLineData(
        platform_id=as_id(required(data, "id", path), f"{path}.id"),
        variant_id=as_optional_id(data.get("variant_id"), f"{path}.variant_id"),
        quantity=quantity,
        shipped=shipped,
        title=_line_title(data, path)[: max_length(OrderLine, "title")],  # title — variant: may be longer
        sku=as_str(data.get("sku"), f"{path}.sku", max_length=max_length(OrderLine, "sku")),
        product_exists=product_exists is not False,
        unit_price=as_decimal(data["price"], f"{path}.price") if data.get("price") is not None else None,
    )


def _customer_name(data: Mapping[str, Any]) -> str:
    limit = max_length(Order, "customer_name")
    for key in ("customer", "billing_address", "shipping_address"):
        person = data.get(key)
        if isinstance(person, dict):
            name = " ".join(
                as_str(person.get(part), f"{key}.{part}", max_length=limit, cut=True).strip()
                for part in ("first_name", "last_name")
            ).strip()
            if name:
                return name
    return ""


def _currency(value: Any) -> str:
    """An ISO 4217 code such as "EUR" ("" when absent)."""
    code = as_str(value, "currency").strip().upper()
    if code and not (len(code) == 3 and code.isascii() and code.isalpha()):
        raise PayloadError(f"currency must be a three-letter ISO 4217 code, not {code!r:.20}.")
    return code


def order_data(payload: Any, *, fallback_updated_at: datetime | None = None) -> OrderData:
    """``orders/create``, ``orders/updated``, ``orders/cancelled``, ``orders/fulfilled``: the order."""
    data = as_object(payload, "")
    raw_customer = data.get("customer")
    customer: dict[str, Any] = raw_customer if isinstance(raw_customer, dict) else {}
    placed_at = as_datetime(data.get("created_at"), "created_at") or as_datetime(
        data.get("processed_at"), "processed_at"
    )
    if placed_at is None:
        raise PayloadError("created_at is missing.")
    cancelled_at = as_datetime(data.get("cancelled_at"), "cancelled_at")
    number_max = max_length(Order, "number")
    number = as_str(data.get("name"), "name", max_length=number_max) or as_str(
        data.get("order_number"), "order_number", max_length=number_max
    )
    email_max = max_length(Order, "email")
    fulfillments = as_list(data.get("fulfillments"), "fulfillments")
    last_fulfillment = next(
        (
            item
            for item in reversed(fulfillments)
            if isinstance(item, dict) and item.get("status") in (None, "success")
        ),
        None,
    )
    return OrderData(
        platform_id=as_id(required(data, "id"), "id"),
        number=number,
        email=(
            as_str(data.get("email"), "email", max_length=email_max)
            or as_str(data.get("contact_email"), "contact_email", max_length=email_max)
            or as_str(customer.get("email"), "customer.email", max_length=email_max)
        ),
        customer_name=_customer_name(data)[: max_length(Order, "customer_name")],  # first + last
        locale=as_str(
            data.get("customer_locale"), "customer_locale", max_length=max_length(Order, "customer_locale")
        ),
        placed_at=placed_at,
        updated_at=as_datetime(data.get("updated_at"), "updated_at") or fallback_updated_at,
        cancelled_at=cancelled_at,
        cancel_reason=as_str(
            data.get("cancel_reason"), "cancel_reason", max_length=max_length(Backorder, "cancel_reason")
        ),
        currency=_currency(data.get("currency")),
        lines=tuple(
            order_line(item, f"line_items[{i}]", cancelled=cancelled_at is not None)
            for i, item in enumerate(as_list(required(data, "line_items"), "line_items"))
        ),
        tracking=(
            tracking_data(last_fulfillment, "fulfillments[]")
            if last_fulfillment is not None
            else TrackingData()
        ),
    )


def fulfillment_data(payload: Any) -> FulfillmentData:
    """``fulfillments/create`` and ``fulfillments/update``: one shipment of an order's lines."""
    data = as_object(payload, "")
    lines = []
    for i, item in enumerate(as_list(data.get("line_items"), "line_items")):
        path = f"line_items[{i}]"
        item = as_object(item, path)
        lines.append(
            FulfillmentLineData(
                platform_id=as_id(required(item, "id", path), f"{path}.id"),
                quantity=as_int(required(item, "quantity", path), f"{path}.quantity"),
                fulfillable_quantity=as_optional_int(
                    item.get("fulfillable_quantity"), f"{path}.fulfillable_quantity"
                ),
            )
        )
    return FulfillmentData(
        platform_id=as_id(required(data, "id"), "id"),
        order_id=as_id(required(data, "order_id"), "order_id"),
        status=as_str(data.get("status"), "status"),
        tracking=tracking_data(data),
        lines=tuple(lines),
    )
