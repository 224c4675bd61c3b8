"""The platform's part of a privacy erasure: which stored bodies name a customer by the
platform's ids, and which of the platform's keys hold personal data (``services.privacy`` does
the rest: finding candidate bodies, the address in any string, storing what is left)."""

from typing import Any

from backorders.services.privacy import payload_scrub
from backorders.services.webhooks.registry import Customer

# Keys of the platform's order, customer and fulfilment payloads that hold personal data; their
# values are replaced by null wherever they occur in a stored body (whole address and customer
# objects go at once).
PERSONAL_KEYS = frozenset(
    {
        "email",
        "contact_email",
        "phone",
        "first_name",
        "last_name",
        "customer",
        "billing_address",
        "shipping_address",
        "default_address",
        "addresses",
        "destination",
        "client_details",
        "browser_ip",
        "customer_locale",
        "note",
        "note_attributes",
        "landing_site",
        "referring_site",
    }
)
# The order id of an order or fulfilment topic's body, by the topic's prefix.
_ORDER_KEYS = (("orders/", "id"), ("fulfillments/", "order_id"))


def _names_order(customer: Customer, value: Any) -> bool:
    return isinstance(value, int) and value in customer.order_ids  # a list there is not hashable


def body_mentions(topic: str, payload: Any, customer: Customer) -> bool:
    """Whether a decoded body is about the customer by id: an order or fulfilment of one of
    their orders, or an object naming their customer id or one of their orders. Walked with a
    stack, not recursion."""
    if isinstance(payload, dict):
        for prefix, key in _ORDER_KEYS:
            if topic.startswith(prefix) and _names_order(customer, payload.get(key)):
                return True
    stack = [payload]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if customer.customer_id is not None and (
                value.get("customer_id") == customer.customer_id
                or (
                    isinstance(value.get("customer"), dict)
                    and value["customer"].get("id") == customer.customer_id
                )
            ):
                return True
            if _names_order(customer, value.get("order_id")):
                return True
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def body_redact(payload: Any, customer: Customer) -> Any:
    """The body with every personal key nulled and every mention of the address replaced."""
    return payload_scrub(payload, email=customer.email, personal_keys=PERSONAL_KEYS)
