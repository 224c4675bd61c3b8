"""What the shop's rows hold about one customer: their orders, the stored webhook bodies that may
mention them, and the data export a platform's data request is answered with.

Which stored bodies are really about the customer is decided by the platform that sent them (its
id fields), so the privacy services decide it (``services.privacy.customer_deliveries_about``)
from the candidates found here, and hand the result to ``customer_data_export``.
"""

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from backorders.models import (
    Backorder,
    Notification,
    Order,
    RestockAlert,
    Shop,
    Suppression,
    WebhookDelivery,
)


@dataclass(frozen=True)
class DeliveryAbout:
    """A stored delivery about the customer, with its decoded body (``parsed`` False: the body
    cannot be parsed, malformed or nested too deep, and ``payload`` is None)."""

    delivery: WebhookDelivery
    payload: Any
    parsed: bool = True


def customer_orders(*, shop: Shop, email: str, order_ids: Sequence[int]) -> QuerySet[Order]:
    """The customer's orders in the shop: those the platform listed (``order_ids``, the
    platform's ids), and any other with their email (any case)."""
    match = Q(platform_id__in=list(order_ids))
    if email:
        match |= Q(email__iexact=email)
    return Order.objects.filter(shop=shop).filter(match)


def customer_delivery_candidates(
    *, shop: Shop, email: str, order_ids: Iterable[int], customer_id: int | None
) -> QuerySet[WebhookDelivery]:
    """A superset of the shop's stored deliveries that can mention the customer, narrowed by
    text: the address as sent, or any JSON escape at all (``o\\u0026hara@…`` spells
    ``o&hara@…``; a body without a backslash holds its strings as written), or one of the ids
    (orders, customer). Ordered by pk, loading only what a privacy request reads. A rare request:
    scanning many of one shop's bodies is acceptable; each is then decoded by the caller."""
    numbers = {str(number) for number in order_ids}
    if customer_id is not None:
        numbers.add(str(customer_id))
    if not email and not numbers:
        return WebhookDelivery.objects.none()
    match = Q(pk__in=[])
    if email:
        match |= Q(body__icontains=email) | Q(body__contains="\\")
    for number in numbers:
        match |= Q(body__contains=number)
    return (
        WebhookDelivery.objects.filter(shop=shop)
        .filter(match)
        .only("pk", "topic", "body", "last_error")
        .order_by("pk")
    )


def customer_data_export(
    *,
    shop: Shop,
    email: str,
    order_ids: Sequence[int],
    customer_id: int | None = None,
    deliveries: Iterable[DeliveryAbout],
) -> dict[str, Any]:
    """Everything the shop's rows hold about one customer, as JSON values (read-only): their
    orders (``customer_orders``) with lines, backorders and their events, and emails; their
    restock-alert sign-ups with the emails about them; the suppressions of their address; and
    ``deliveries``, the stored webhook bodies about them
    (``services.privacy.customer_deliveries_about``: required, so that no caller forgets them).
    Strings ``jsonb`` refuses (NUL, lone surrogates) become U+FFFD, NaN and infinities null."""
    orders = list(
        customer_orders(shop=shop, email=email, order_ids=order_ids).prefetch_related(
            "lines",
            "backorders__events",
            # The customer's own emails: those to the owner about their order are the shop's.
            Prefetch(
                "notifications", queryset=Notification.objects.exclude(kind__in=Notification.Kind.to_owner())
            ),
        )
    )
    export = _json(
        {
            "shop": shop.domain,
            "customer": {"id": customer_id, "email": email},
            "generated_at": timezone.now(),
            "orders": [
                {
                    "id": order.platform_id,
                    "number": order.number,
                    "email": order.email,
                    "customer_name": order.customer_name,
                    "customer_locale": order.customer_locale,
                    "placed_at": order.placed_at,
                    "cancelled_at": order.cancelled_at,
                    "lines": [
                        {
                            "id": line.platform_id,
                            "title": line.title,
                            "sku": line.sku,
                            "quantity": line.quantity,
                            "quantity_fulfilled": line.quantity_fulfilled,
                        }
                        for line in order.lines.all()
                    ],
                    "backorders": [_backorder_export(backorder) for backorder in order.backorders.all()],
                    "emails": [
                        {
                            "kind": mail.kind,
                            "recipient": mail.recipient,
                            "status": mail.status,
                            "language": mail.language,
                            "content": mail.context,
                            "created_at": mail.created_at,
                            "sent_at": mail.sent_at,
                            "delivery_status": mail.delivery_status,
                        }
                        for mail in order.notifications.all()
                    ],
                }
                for order in orders
            ],
            "restock_alerts": _restock_alerts_export(shop, email),
            "suppressions": list(
                Suppression.objects.filter(shop=shop, email__iexact=email).values(
                    "email", "reason", "created_at"
                )
                if email
                else []
            ),
            "webhook_deliveries": [
                {
                    "topic": about.delivery.topic,
                    "webhook_id": about.delivery.webhook_id,
                    "received_at": about.delivery.received_at,
                    "body": about.payload if about.parsed else about.delivery.body,
                }
                for about in deliveries
            ],
        }
    )
    return _json_safe(export)  # a body may hold "\\u0000" or "\\ud800", which jsonb refuses


def _restock_alerts_export(shop: Shop, email: str) -> list[dict[str, Any]]:
    """The customer's restock-alert sign-ups at the shop, each with the emails sent about it."""
    if not email:
        return []
    alerts = (
        RestockAlert.objects.filter(shop=shop, email__iexact=email.strip())
        .select_related("variant__product")
        .prefetch_related("notifications")
        .order_by("created_at", "pk")
    )
    return [
        {
            "item": str(alert.variant),
            "sku": alert.variant.sku,
            "email": alert.email,
            "language": alert.language,
            "status": alert.status,
            "signed_up_at": alert.created_at,
            "confirmed_at": alert.confirmed_at,
            "alerted_at": alert.alerted_at,
            "unsubscribed_at": alert.unsubscribed_at,
            "emails": [
                {
                    "kind": mail.kind,
                    "recipient": mail.recipient,
                    "status": mail.status,
                    "language": mail.language,
                    "content": mail.context,
                    "created_at": mail.created_at,
                    "sent_at": mail.sent_at,
                    "delivery_status": mail.delivery_status,
                }
                for mail in alert.notifications.all()
            ],
        }
        for alert in alerts
    ]


def _backorder_export(backorder: Backorder) -> dict[str, Any]:
    return {
        "line_id": backorder.line_id,
        "quantity": backorder.quantity,
        "quantity_allocated": backorder.quantity_allocated,
        "status": backorder.status,
        "queued_at": backorder.queued_at,
        "promised_eta": backorder.promised_eta,
        "eta": backorder.eta,
        "eta_source": backorder.eta_source,
        "tracking": {
            "company": backorder.tracking_company,
            "number": backorder.tracking_number,
            "url": backorder.tracking_url,
        },
        "fulfilled_at": backorder.fulfilled_at,
        "cancelled_at": backorder.cancelled_at,
        "cancel_reason": backorder.cancel_reason,
        "events": [
            {
                "at": event.created_at,
                "kind": event.kind,
                "actor": event.actor_kind,
                "quantity": event.quantity,
                "eta_from": event.eta_from,
                "eta_to": event.eta_to,
                "note": event.note,
            }
            for event in backorder.events.all()
        ],
    }


def _json(data: Any) -> Any:
    """``data`` as plain JSON values (dates and decimals as strings), for a JSONField."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _json_safe(data: Any) -> Any:
    """``data`` with what ``jsonb`` refuses made harmless, in place and without recursion: NUL
    characters and lone surrogates in strings and keys become U+FFFD, NaN and infinities null."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _text_safe(value)
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    root = [data]
    stack: list[Any] = [root]
    while stack:
        container = stack.pop()
        if isinstance(container, dict):
            for key in list(container):
                value = clean(container.pop(key))
                container[_text_safe(key)] = value
                if isinstance(value, dict | list):
                    stack.append(value)
        else:
            for i, value in enumerate(container):
                container[i] = clean(value)
                if isinstance(container[i], dict | list):
                    stack.append(container[i])
    return root[0]


def _text_safe(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: pairs are joined, lone ones replaced
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
