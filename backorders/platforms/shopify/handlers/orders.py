"""Order and fulfilment topics."""

import logging
from typing import Any

from backorders.platforms.shopify import payloads
from backorders.platforms.shopify.handlers.context import Context
from backorders.platforms.shopify.payloads import PayloadError
from backorders.selectors.orders import order_by_platform_id
from backorders.services.checkout import InvalidOrder, LineInput, order_record
from backorders.services.lifecycle import Tracking, order_cancel, order_fulfill
from backorders.services.platform_sync import (
    PlatformLine,
    ShipmentLine,
    order_line_variants,
    order_shipments_apply,
)

logger = logging.getLogger(__name__)


def order_changed(ctx: Context, payload: dict[str, Any]) -> None:
    """``orders/create``, ``/updated``, ``/cancelled``, ``/fulfilled``, ``/partially_fulfilled``.

    Every order topic carries the whole order, so each one records it (creating it if an earlier
    delivery is late, applying edits if this one is newer), then cancels it or marks what shipped.
    The platform already accepted the order: nothing is refused, over-limit lines are flagged.
    An order cancelled before we saw it is recorded without variants (``order_line_variants``).
    """
    data = payloads.order_data(payload, fallback_updated_at=ctx.triggered_at)
    variant_pks = order_line_variants(
        shop=ctx.shop,
        order_platform_id=data.platform_id,
        cancelled=data.cancelled_at is not None,
        lines=[
            PlatformLine(variant_id=line.variant_id, product_exists=line.product_exists)
            for line in data.lines
        ],
    )
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


def fulfillment_changed(ctx: Context, payload: dict[str, Any]) -> None:
    """``fulfillments/create``, ``/update``: a successful shipment marks its lines shipped, with
    tracking (``order_shipments_apply``). Pending, cancelled or failed fulfilments ship nothing."""
    data = payloads.fulfillment_data(payload)
    if data.status not in ("success", ""):
        return
    order = order_by_platform_id(shop=ctx.shop, platform_id=data.order_id)
    if order is None:
        # Not recorded (yet): when it is, its orders/* payload carries what has shipped.
        logger.info("fulfillment %s is for unknown order %s: nothing to do", data.platform_id, data.order_id)
        return
    order_shipments_apply(
        order=order,
        lines=[
            ShipmentLine(
                platform_id=line.platform_id, quantity=line.quantity, still_to_ship=line.fulfillable_quantity
            )
            for line in data.lines
        ],
        tracking=Tracking(**vars(data.tracking)),
        actor=ctx.actor,
    )
