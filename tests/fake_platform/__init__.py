"""A second platform, for tests only: it registers with the core's registry from a test fixture
(``fake_platform`` in tests/conftest.py), never from the app, and proves the seam: the
core processes and erases its deliveries without knowing it exists, and nothing in
``backorders/services`` names it.

Its payloads are deliberately unlike Shopify's: stock is set by ``{"variant": id, "available": n}``
under the topic ``fake/stock_set``; a customer is named by ``buyer_id`` and their personal data sits
under ``buyer``; ``fake/forget_me`` (a privacy topic) erases a buyer.
"""

from typing import Any

from backorders.models import WebhookDelivery
from backorders.selectors.catalog import variant_by_platform_id
from backorders.services.audit import Actor
from backorders.services.privacy import customer_redact, payload_scrub
from backorders.services.stock import stock_set_available
from backorders.services.webhooks.registry import Customer, DeliveryRejected, Platform

NAME = "fake"
PERSONAL_KEYS = frozenset({"buyer"})


class FakePayloadError(DeliveryRejected):
    """The fake platform's own payload error, a ``DeliveryRejected`` as the core requires."""


def _int(payload: dict[str, Any], key: str) -> int:
    value = payload.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise FakePayloadError(f"{key} must be an integer.")
    return value


def stock_set(delivery: WebhookDelivery, payload: dict[str, Any]) -> None:
    variant = variant_by_platform_id(shop=delivery.shop, platform_id=_int(payload, "variant"))
    if variant is None:
        raise FakePayloadError("No such variant.")
    stock_set_available(
        variant=variant, available=_int(payload, "available"), actor=Actor.platform(delivery.topic)
    )


def forget_me(delivery: WebhookDelivery, payload: dict[str, Any]) -> None:
    customer_redact(
        shop=delivery.shop,
        email=str(payload.get("email") or ""),
        order_ids=[],
        customer_id=_int(payload, "buyer_id"),
    )


def body_mentions(topic: str, payload: Any, customer: Customer) -> bool:
    return isinstance(payload, dict) and payload.get("buyer_id") == customer.customer_id


def body_redact(payload: Any, customer: Customer) -> Any:
    return payload_scrub(payload, email=customer.email, personal_keys=PERSONAL_KEYS)


PLATFORM = Platform(
    name=NAME,
    handlers={"fake/stock_set": stock_set, "fake/forget_me": forget_me},
    privacy_topics=frozenset({"fake/forget_me"}),
    body_mentions=body_mentions,
    body_redact=body_redact,
)
