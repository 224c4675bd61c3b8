"""The mandatory privacy topics."""

from dataclasses import dataclass
from typing import Any

from backorders.models import Order, Shop
from backorders.platforms.shopify.payloads.fields import (
    PayloadError,
    as_id,
    as_list,
    as_object,
    as_optional_id,
    as_str,
    max_length,
    required,
)


@dataclass(frozen=True)
class CustomerPrivacyData:
    shop_domain: str
    customer_id: int | None
    email: str
    phone: str
    order_ids: tuple[int, ...]
    request_id: int | None = None


def customer_privacy(payload: Any, *, orders_key: str) -> CustomerPrivacyData:
    """``customers/data_request`` (``orders_requested``) and ``customers/redact``
    (``orders_to_redact``): who, and which orders."""
    data = as_object(payload, "")
    customer = as_object(required(data, "customer"), "customer")
    request = data.get("data_request")
    request_id = None
    if isinstance(request, dict) and request.get("id") is not None:
        request_id = as_id(request["id"], "data_request.id")
    privacy = CustomerPrivacyData(
        shop_domain=shop_domain(data),
        customer_id=as_optional_id(customer.get("id"), "customer.id"),
        email=as_str(customer.get("email"), "customer.email", max_length=max_length(Order, "email")).strip(),
        phone=as_str(customer.get("phone"), "customer.phone").strip(),
        order_ids=tuple(
            as_id(item, f"{orders_key}[{i}]")
            for i, item in enumerate(as_list(data.get(orders_key), orders_key))
        ),
        request_id=request_id,
    )
    if not privacy.email and not privacy.order_ids:
        raise PayloadError(f"customer.email and {orders_key} are both empty: nothing identifies the data.")
    return privacy


def shop_domain(payload: Any) -> str:
    """The ``shop_domain`` a privacy payload names ("" when absent)."""
    domain = as_object(payload, "").get("shop_domain")
    return as_str(domain, "shop_domain", max_length=max_length(Shop, "domain")).strip().lower()
