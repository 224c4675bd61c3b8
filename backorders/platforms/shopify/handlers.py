"""One handler per platform topic: decode the payload (``payloads``), call existing services.

Handlers hold no business rule. They run inside the transaction that also marks the delivery
processed (``services.webhooks.webhook_delivery_process``) and must be idempotent: a delivery may
be processed again after a crash or from the admin, and the platform itself delivers duplicates
and stale data, which the services ignore by the payload's ``updated_at`` (else the
``X-Shopify-Triggered-At`` header).

Errors: ``PayloadError`` (invalid for its topic, or a value out of bounds) rejects the delivery;
``NotYetKnown`` (it refers to rows that other deliveries have not brought yet) and other errors
that may pass on a later attempt are retried (``services.webhooks.processing`` decides).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backorders.models import InventoryLevel, Location, Order, Product, Shop, Variant, WebhookDelivery
from backorders.platforms.shopify import payloads
from backorders.platforms.shopify.payloads import PayloadError
from backorders.services.audit import Actor
from backorders.services.catalog import (
    StaleShopEvent,
    location_get_or_create,
    product_archive,
    product_upsert,
    shop_deactivate,
    variant_set_tracked,
)
from backorders.services.checkout import InvalidOrder, LineInput, order_record
from backorders.services.lifecycle import Tracking, order_cancel, order_fulfill
from backorders.services.privacy import (
    ShopRedactRefused,
    customer_data_request_record,
    customer_redact,
    shop_redact,
)
from backorders.services.stock import stock_set_available
from backorders.services.webhooks import (
    pending_inventory_apply,
    pending_inventory_locations_prepare,
    pending_inventory_record,
)
from backorders.services.webhooks.bodies import BodyTooDeep, body_load

logger = logging.getLogger(__name__)


class NotYetKnown(Exception):
    """The delivery refers to catalog rows not recorded yet; retried, since the platform's other
    deliveries (e.g. ``products/create``) usually bring them within seconds."""


@dataclass(frozen=True)
class Context:
    """What a handler knows about the delivery besides its payload."""

    shop: Shop
    topic: str
    triggered_at: datetime | None
    received_at: datetime | None = None

    @property
    def actor(self) -> Actor:
        return Actor.platform(self.topic)

    @property
    def happened_at(self) -> datetime | None:
        """When the platform says the event happened (``X-Shopify-Triggered-At``). A delivery
        without that header (not one the platform sends) falls back to when we received it: the
        latest the event can have happened, so that it is never taken for older than it is; a
        replay without the header therefore counts as new. Like every header it is outside the
        signature: these times guard against the platform's own late and repeated deliveries,
        not against someone who re-posts a captured body with headers of their choosing."""
        return self.triggered_at or self.received_at


Handler = Callable[[Context, dict[str, Any]], None]


# Catalog


def products_upsert(ctx: Context, payload: dict[str, Any]) -> None:
    """``products/create``, ``products/update``: upsert, then apply inventory that came first."""
    data = payloads.product_data(payload, fallback_updated_at=ctx.triggered_at)
    item_ids = [v.inventory_item_id for v in data.variants if v.inventory_item_id is not None]
    # Locations before variants (the house lock order, services/locking.py).
    pending_inventory_locations_prepare(shop=ctx.shop, inventory_item_ids=item_ids)
    product_upsert(shop=ctx.shop, data=data)
    pending_inventory_apply(shop=ctx.shop, inventory_item_ids=item_ids, actor=ctx.actor)


def products_delete(ctx: Context, payload: dict[str, Any]) -> None:
    """``products/delete``: archive the product (never delete it); flag its waiting backorders."""
    product = Product.objects.filter(shop=ctx.shop, platform_id=payloads.resource_id(payload)).first()
    if product is not None:
        product_archive(product=product, actor=ctx.actor)


def inventory_level_update(ctx: Context, payload: dict[str, Any]) -> None:
    """``inventory_levels/update``, ``/connect``: set available at that location (a rise
    allocates); an item no variant has yet is kept for its product."""
    level = payloads.inventory_level(payload, fallback_updated_at=ctx.triggered_at)
    variant = Variant.objects.filter(shop=ctx.shop, inventory_item_id=level.inventory_item_id).first()
    if level.available is None:  # a level without a count (untracked item): nothing to set
        return
    if variant is None:
        pending_inventory_record(
            shop=ctx.shop,
            inventory_item_id=level.inventory_item_id,
            location_platform_id=level.location_id,
            available=level.available,
            updated_at=level.updated_at,
        )
        return
    stock_set_available(
        variant=variant,
        available=level.available,
        location=location_get_or_create(shop=ctx.shop, platform_id=level.location_id),
        updated_at=level.updated_at,
        actor=ctx.actor,
    )


def inventory_item_update(ctx: Context, payload: dict[str, Any]) -> None:
    """``inventory_items/create``, ``/update``: ``tracked: false`` = never backordered."""
    item = payloads.inventory_item(payload, fallback_updated_at=ctx.triggered_at)
    variant = Variant.objects.filter(shop=ctx.shop, inventory_item_id=item.inventory_item_id).first()
    if variant is None:
        pending_inventory_record(
            shop=ctx.shop,
            inventory_item_id=item.inventory_item_id,
            tracked=item.tracked,
            updated_at=item.updated_at,
        )
        return
    variant_set_tracked(variant=variant, tracked=item.tracked, actor=ctx.actor)


def variant_stock_changed(ctx: Context, payload: dict[str, Any]) -> None:
    """``variants/in_stock``, ``variants/out_of_stock``: the variant's total quantity.

    A total can only be stored where it cannot be confused with a per-location count: a variant
    stocked at one location (or at none yet, in a shop with at most one location). Otherwise the
    per-location ``inventory_levels/update`` the platform sends with it carries the truth.
    """
    data = payloads.variant_stock(payload, fallback_updated_at=ctx.triggered_at)
    variant = Variant.objects.filter(shop=ctx.shop, platform_id=data.variant_id).first()
    if variant is None or data.inventory_quantity is None:
        return
    levels = list(InventoryLevel.objects.filter(variant=variant).select_related("location")[:2])
    if len(levels) == 1:
        location = levels[0].location
    elif not levels and Location.objects.filter(shop=ctx.shop).count() <= 1:
        location = None  # the shop's only (or default) location
    else:
        return
    stock_set_available(
        variant=variant,
        available=data.inventory_quantity,
        location=location,
        updated_at=data.updated_at,
        actor=ctx.actor,
    )


# Orders


def order_changed(ctx: Context, payload: dict[str, Any]) -> None:
    """``orders/create``, ``/updated``, ``/cancelled``, ``/fulfilled``, ``/partially_fulfilled``.

    Every order topic carries the whole order, so each one records it (creating it if an earlier
    delivery is late, applying edits if this one is newer), then cancels it or marks what shipped.
    The platform already accepted the order: nothing is refused, over-limit lines are flagged.
    """
    data = payloads.order_data(payload, fallback_updated_at=ctx.triggered_at)
    known = Order.objects.filter(shop=ctx.shop, platform_id=data.platform_id).exists()
    if not known and data.cancelled_at is not None:
        # Cancelled before we saw it: record it without variants (nothing is committed or
        # backordered, nobody is emailed) and cancelled, so that a late orders/create finds it
        # cancelled instead of creating backorders for it.
        variant_pks: dict[int, int] = {}
    else:
        variant_pks = _variant_pks(ctx.shop, data.lines)
    try:
        order = order_record(
            shop=ctx.shop,
            platform_id=data.platform_id,
            placed_at=data.placed_at,
            lines=[
                LineInput(
                    platform_id=line.platform_id,
                    variant_id=variant_pks.get(line.variant_id) if line.variant_id is not None else None,
                    quantity=line.quantity,
                    title=line.title,
                    sku=line.sku,
                    unit_price=line.unit_price,
                )
                for line in data.lines
            ],
            actor=ctx.actor,
            accepted=True,
            number=data.number,
            email=data.email,
            customer_name=data.customer_name,
            locale=data.locale,
            currency=data.currency,
            updated_at=data.updated_at,
        )
    except InvalidOrder as exc:
        raise PayloadError(str(exc)) from exc
    if data.cancelled_at is not None:
        order_cancel(order=order, actor=ctx.actor, reason=data.cancel_reason, cancelled_at=data.cancelled_at)
        return
    if ctx.topic == "orders/fulfilled":  # the topic itself says every line shipped in full
        shipped = {line.platform_id: line.quantity for line in data.lines if line.quantity}
    else:
        shipped = {line.platform_id: line.shipped for line in data.lines if line.shipped}
    if shipped:
        order_fulfill(order=order, actor=ctx.actor, shipped=shipped, tracking=Tracking(**vars(data.tracking)))


def _variant_pks(shop: Shop, lines: tuple[payloads.OrderLineData, ...]) -> dict[int, int]:
    """The platform's variant ids of ``lines`` → our Variant pks, in one query.

    A variant we do not know yet whose product still exists is expected (its ``products/create``
    is late): ``NotYetKnown`` retries the delivery rather than lose a backorder. One whose product
    was deleted becomes a line without a variant (stored, never backordered).
    """
    wanted = {line.variant_id for line in lines if line.variant_id is not None}
    if not wanted:
        return {}
    found: dict[int, int] = {
        platform_id: pk
        for platform_id, pk in Variant.objects.filter(shop=shop, platform_id__in=wanted).values_list(
            "platform_id", "pk"
        )
        if platform_id is not None
    }
    missing = sorted(
        {
            line.variant_id
            for line in lines
            if line.variant_id is not None and line.variant_id not in found and line.product_exists
        }
    )
    if missing:
        raise NotYetKnown(
            f"Variant(s) {', '.join(map(str, missing))} are not in the catalog yet (their products/create "
            "has not arrived). Once the products are synced, process this delivery again."
        )
    return found


def fulfillment_changed(ctx: Context, payload: dict[str, Any]) -> None:
    """``fulfillments/create``, ``/update``: a successful shipment marks its lines shipped, with
    tracking. Pending, cancelled or failed fulfilments ship nothing."""
    data = payloads.fulfillment_data(payload)
    if data.status not in ("success", ""):
        return
    order = Order.objects.filter(shop=ctx.shop, platform_id=data.order_id).first()
    if order is None:
        # Not recorded (yet): when it is, its orders/* payload carries what has shipped.
        logger.info("fulfillment %s is for unknown order %s: nothing to do", data.platform_id, data.order_id)
        return
    # The platform counts what is still to ship against its own quantity, which includes units
    # cancelled here until the owner edits the order.
    quantities = {
        platform_id: quantity + cancelled
        for platform_id, quantity, cancelled in order.lines.values_list(
            "platform_id", "quantity", "quantity_cancelled"
        )
    }
    shipped = {}
    for line in data.lines:
        if line.platform_id not in quantities:
            continue
        units = line.quantity
        if line.fulfillable_quantity is not None:  # cumulative: ordered minus what is still to ship
            units = max(units, quantities[line.platform_id] - line.fulfillable_quantity)
        shipped[line.platform_id] = units
    order_fulfill(order=order, actor=ctx.actor, shipped=shipped, tracking=Tracking(**vars(data.tracking)))


# The shop and privacy


def app_uninstalled(ctx: Context, payload: dict[str, Any]) -> None:
    """``app/uninstalled``: the shop becomes inactive (identified by the header, not the body).

    One from before the shop's latest (re)connection (late, or replayed) is refused: the delivery
    ends ``rejected`` with the reason, which the owner sees in the deliveries admin."""
    try:
        shop_deactivate(shop=ctx.shop, uninstalled_at=ctx.happened_at)
    except StaleShopEvent as exc:
        raise PayloadError(str(exc)) from exc


def _check_shop(ctx: Context, payload: dict[str, Any]) -> None:
    domain = payloads.shop_domain(payload)
    if domain and domain != ctx.shop.domain:
        raise PayloadError(f"The payload names shop {domain!r:.100} but was signed for {ctx.shop.domain}.")


def customers_data_request(ctx: Context, payload: dict[str, Any]) -> None:
    """``customers/data_request``: assemble what we hold about the customer for the owner."""
    _check_shop(ctx, payload)
    data = payloads.customer_privacy(payload, orders_key="orders_requested")
    customer_data_request_record(
        shop=ctx.shop,
        request_id=data.request_id,
        customer_id=data.customer_id,
        email=data.email,
        order_ids=list(data.order_ids),
    )


def customers_redact(ctx: Context, payload: dict[str, Any]) -> None:
    """``customers/redact``: erase the customer's personal data, keep anonymous quantities."""
    _check_shop(ctx, payload)
    data = payloads.customer_privacy(payload, orders_key="orders_to_redact")
    customer_redact(
        shop=ctx.shop, email=data.email, order_ids=list(data.order_ids), customer_id=data.customer_id
    )


def shop_redacted(ctx: Context, payload: dict[str, Any]) -> None:
    """``shop/redact``: delete all of the shop's data, if it is still uninstalled and the request
    is newer than that uninstall. Its body is the same every time, so only the trigger time tells
    a replay from a new request; a refused one ends ``rejected`` with the reason."""
    _check_shop(ctx, payload)
    try:
        shop_redact(shop=ctx.shop, requested_at=ctx.happened_at)
    except ShopRedactRefused as exc:
        raise PayloadError(str(exc)) from exc


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
    return topic in HANDLERS


def delivery_handle(*, delivery: WebhookDelivery) -> bool:
    """Run the topic's handler on the delivery's body; False if the topic is not handled."""
    handler = HANDLERS.get(delivery.topic)
    if handler is None:
        return False
    try:
        payload = body_load(delivery.body)
    except BodyTooDeep as exc:
        raise PayloadError(str(exc)) from None
    except ValueError:
        raise PayloadError("The body is not valid JSON.") from None
    payload = payloads.as_object(payload, "")
    context = Context(
        shop=delivery.shop,
        topic=delivery.topic,
        triggered_at=delivery.triggered_at,
        received_at=delivery.received_at,
    )
    handler(context, payload)
    return True
