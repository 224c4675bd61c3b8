"""One handler per platform topic: decode the payload (``payloads``), call services and selectors.

Handlers hold no business rule (the rules for applying platform facts are in
``services.platform_sync``). They run inside the transaction that also marks the delivery
processed (``services.webhooks.webhook_delivery_process``) and must be idempotent: a delivery may
be processed again after a crash or from the admin, and the platform itself delivers duplicates
and stale data, which the services ignore by the payload's ``updated_at`` (else the
``X-Shopify-Triggered-At`` header).

Errors: ``PayloadError`` (the core's ``DeliveryRejected``: invalid for its topic, or a value out
of bounds) rejects the delivery; ``NotYetKnown`` (it refers to rows that other deliveries have
not brought yet) and other errors that may pass on a later attempt are retried
(``services.webhooks.processing`` decides).

* ``catalog``: products, inventory items and levels, variant totals;
* ``orders``: orders and fulfilments;
* ``privacy``: the shop's uninstall and the privacy requests.
"""

from typing import Any

from backorders.models import WebhookDelivery
from backorders.platforms.shopify.handlers.catalog import (
    inventory_item_update,
    inventory_level_update,
    products_delete,
    products_upsert,
    variant_stock_changed,
)
from backorders.platforms.shopify.handlers.context import Context, Handler
from backorders.platforms.shopify.handlers.orders import fulfillment_changed, order_changed
from backorders.platforms.shopify.handlers.privacy import (
    app_uninstalled,
    customers_data_request,
    customers_redact,
    shop_redacted,
)
from backorders.services.platform_sync import NotYetKnown

HANDLERS: dict[str, Handler] = {
    "products/create": products_upsert,
    "products/update": products_upsert,
    "products/delete": products_delete,
    "inventory_levels/update": inventory_level_update,
    "inventory_levels/connect": inventory_level_update,
    "inventory_items/create": inventory_item_update,
    "inventory_items/update": inventory_item_update,
    "variants/in_stock": variant_stock_changed,
    "variants/out_of_stock": variant_stock_changed,
    "orders/create": order_changed,
    "orders/updated": order_changed,
    "orders/cancelled": order_changed,
    "orders/fulfilled": order_changed,
    "orders/partially_fulfilled": order_changed,
    "fulfillments/create": fulfillment_changed,
    "fulfillments/update": fulfillment_changed,
    "app/uninstalled": app_uninstalled,
    "customers/data_request": customers_data_request,
    "customers/redact": customers_redact,
    "shop/redact": shop_redacted,
}

# Topics the platform still sends after the app was uninstalled, and which must then be obeyed.
PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})


def topic_handled(topic: str) -> bool:
    """Whether the platform's deliveries of ``topic`` are processed (else stored as ignored)."""
    return topic in HANDLERS


def delivery_handle(delivery: WebhookDelivery, payload: dict[str, Any]) -> None:
    """Run the topic's handler on a delivery's decoded body (the core's ``DeliveryHandler``)."""
    HANDLERS[delivery.topic](Context.of(delivery), payload)


__all__ = [
    "HANDLERS",
    "PRIVACY_TOPICS",
    "Context",
    "Handler",
    "NotYetKnown",
    "delivery_handle",
    "topic_handled",
]
