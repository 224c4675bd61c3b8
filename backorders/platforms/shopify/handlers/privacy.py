"""The shop and privacy topics: uninstall, customer data request, customer and shop redact."""

from typing import Any

from backorders.platforms.shopify import payloads
from backorders.platforms.shopify.handlers.context import Context
from backorders.platforms.shopify.payloads import PayloadError
from backorders.services.privacy import (
    ShopRedactRefused,
    customer_data_request_record,
    customer_redact,
    shop_redact,
)
from backorders.services.shops import StaleShopEvent, shop_deactivate


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
