"""The platform's mandatory privacy requests: a customer's data export, the erasure of a
customer's personal data, and the erasure of a whole shop.

What we hold about a customer: their orders (email, name, locale), the backorders and events of
those orders (a customer who cancelled through their link is the actor of that event), the emails
we planned or sent them (recipient, content, provider replies), suppressions of their address,
earlier data exports, and the raw webhook bodies that mention them (addresses, phone, notes).
"""

import json
import logging
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from backorders.models import (
    Backorder,
    Cancellation,
    CustomerDataRequest,
    Event,
    Notification,
    Order,
    Shop,
    Suppression,
    WebhookDelivery,
)

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"

# Keys of the platform's order, customer and fulfilment payloads that hold personal data; their
# values are replaced by null wherever they occur in a stored body (whole address and customer
# objects go at once).
_PERSONAL_KEYS = frozenset(
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
_ORDER_TOPICS = ("orders/", "fulfillments/")


def _customer_orders(shop: Shop, email: str, order_ids: Sequence[int]) -> QuerySet[Order]:
    """The customer's orders: those the platform listed, and any other with their email."""
    match = Q(platform_id__in=list(order_ids))
    if email:
        match |= Q(email__iexact=email)
    return Order.objects.filter(shop=shop).filter(match)


def _mentions(payload: Any, email: str) -> bool:
    if isinstance(payload, str):
        return email.lower() in payload.lower()
    if isinstance(payload, dict):
        return any(_mentions(value, email) for value in payload.values())
    if isinstance(payload, list):
        return any(_mentions(value, email) for value in payload)
    return False


def _deliveries_about(shop: Shop, email: str, order_ids: Sequence[int]) -> list[WebhookDelivery]:
    """Stored webhook deliveries about the customer: every body that contains their email, and the
    order and fulfilment deliveries of their orders. A text search narrows the candidates (a
    rare request: a scan of one shop's deliveries is acceptable), parsing confirms each one."""
    match = Q()
    if email:
        match |= Q(body__icontains=email)
    for order_id in order_ids:
        match |= Q(body__contains=str(order_id))
    if not match:
        return []
    wanted = set(order_ids)
    found = []
    for delivery in WebhookDelivery.objects.filter(shop=shop).filter(match).order_by("pk"):
        try:
            payload = json.loads(delivery.body)
        except ValueError:
            payload = delivery.body
        about_order = (
            isinstance(payload, dict)
            and delivery.topic.startswith(_ORDER_TOPICS)
            and (payload.get("id") if delivery.topic.startswith("orders/") else payload.get("order_id"))
            in wanted
        )
        if about_order or (email and _mentions(payload, email)):
            found.append(delivery)
    return found


def _json(data: Any) -> Any:
    """``data`` as plain JSON values (dates and decimals as strings), for a JSONField."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def customer_data_export(
    *, shop: Shop, email: str, order_ids: Sequence[int], customer_id: int | None = None
) -> dict[str, Any]:
    """Everything the shop's rows hold about one customer, as JSON values (read-only)."""
    orders = list(
        _customer_orders(shop, email, order_ids).prefetch_related(
            "lines", "backorders__events", "notifications"
        )
    )
    deliveries = _deliveries_about(shop, email, [o.platform_id for o in orders] + list(order_ids))
    return _json(
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
            "suppressions": list(
                Suppression.objects.filter(shop=shop, email__iexact=email).values(
                    "email", "reason", "created_at"
                )
                if email
                else []
            ),
            "webhook_deliveries": [
                {
                    "topic": delivery.topic,
                    "webhook_id": delivery.webhook_id,
                    "received_at": delivery.received_at,
                    "body": _parsed(delivery.body),
                }
                for delivery in deliveries
            ],
        }
    )


def _parsed(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


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


@transaction.atomic
def customer_data_request_record(
    *,
    shop: Shop,
    email: str,
    order_ids: Sequence[int],
    request_id: int | None = None,
    customer_id: int | None = None,
) -> CustomerDataRequest:
    """Answer a platform data request: assemble the customer's data (``customer_data_export``)
    and keep it for the owner to download in the admin. The row is the record that the request
    was answered; the same request id twice gives the same row."""
    if request_id is not None:
        existing = CustomerDataRequest.objects.filter(shop=shop, platform_request_id=request_id).first()
        if existing is not None:
            return existing
    export = customer_data_export(shop=shop, email=email, order_ids=order_ids, customer_id=customer_id)
    try:
        with transaction.atomic():  # a savepoint: a concurrent duplicate fails only this
            request = CustomerDataRequest.objects.create(
                shop=shop,
                platform_request_id=request_id,
                customer_platform_id=customer_id,
                customer_email=email[:254],
                orders_requested=list(order_ids),
                export=export,
            )
    except IntegrityError:
        return CustomerDataRequest.objects.get(shop=shop, platform_request_id=request_id)
    logger.info("customer data request %s answered for shop %s", request_id or request.pk, shop.domain)
    return request


def _scrub_text(text: str, email: str) -> str:
    return re.sub(re.escape(email), REDACTED, text, flags=re.IGNORECASE) if email and text else text


def _scrub(payload: Any, email: str) -> Any:
    """``payload`` with every personal field nulled and every mention of ``email`` replaced."""
    if isinstance(payload, dict):
        return {
            key: (None if key in _PERSONAL_KEYS and value is not None else _scrub(value, email))
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [_scrub(value, email) for value in payload]
    if isinstance(payload, str):
        return _scrub_text(payload, email)
    return payload


def _redact_deliveries(deliveries: Iterable[WebhookDelivery], email: str) -> int:
    count = 0
    for delivery in deliveries:
        try:
            body = json.dumps(_scrub(json.loads(delivery.body), email), ensure_ascii=False)
        except ValueError:
            body = _scrub_text(delivery.body, email)
        # update(), not save(): the row may be the very delivery being processed.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            body=body, last_error=_scrub_text(delivery.last_error, email)
        )
        count += 1
    return count


@transaction.atomic
def customer_redact(
    *, shop: Shop, email: str, order_ids: Sequence[int], customer_id: int | None = None
) -> dict[str, int]:
    """Erase a customer's personal data from the shop's rows, keeping anonymous quantities.

    Orders lose email, name and locale (numbers, lines and backorders stay for the shop's
    statistics); events of their backorders lose the customer as named actor; their emails lose
    recipient, content and provider replies (unsent ones are suppressed: there is no one to send
    them to); suppressions and data exports of the address are deleted; stored webhook bodies
    about them have every personal field nulled (their signatures no longer verify, which is
    fine: they were verified on arrival). Returns counts per kind of row.
    """
    orders = list(_customer_orders(shop, email, order_ids).values_list("pk", "platform_id"))
    order_pks = [pk for pk, _ in orders]
    now = timezone.now()
    counts = {
        "orders": Order.objects.filter(pk__in=order_pks).update(
            email="", customer_name="", customer_locale="", updated_at=now
        )
    }
    events = Event.objects.filter(shop=shop).filter(
        Q(backorder__order__in=order_pks, actor_kind=Event.ActorKind.CUSTOMER)
        | (Q(actor_name__iexact=email) if email else Q(pk__in=[]))
    )
    counts["events"] = events.update(actor_name="")
    if email:  # free text (reasons, notes) may quote the address
        for event in Event.objects.filter(shop=shop, note__icontains=email):
            Event.objects.filter(pk=event.pk).update(note=_scrub_text(event.note, email))
        for backorder in Backorder.objects.filter(shop=shop).filter(
            Q(cancel_reason__icontains=email) | Q(flag_reason__icontains=email)
        ):
            Backorder.objects.filter(pk=backorder.pk).update(
                cancel_reason=_scrub_text(backorder.cancel_reason, email),
                flag_reason=_scrub_text(backorder.flag_reason, email),
            )
    cancellations = Cancellation.objects.filter(shop=shop, order__in=order_pks)
    cancellations.filter(actor_kind=Event.ActorKind.CUSTOMER).update(actor_name="")
    if email:
        for cancellation in Cancellation.objects.filter(shop=shop, reason__icontains=email):
            Cancellation.objects.filter(pk=cancellation.pk).update(
                reason=_scrub_text(cancellation.reason, email)
            )
    mails = Notification.objects.filter(shop=shop).filter(
        Q(order__in=order_pks) | (Q(recipient__iexact=email) if email else Q(pk__in=[]))
    )
    mails.filter(status=Notification.Status.PENDING).update(status=Notification.Status.SUPPRESSED)
    counts["emails"] = 0
    for mail in mails:
        Notification.objects.filter(pk=mail.pk).update(
            recipient="",
            context={},
            last_error=_scrub_text(mail.last_error, email),
            delivery_detail=_scrub_text(mail.delivery_detail, email)[:500],
            updated_at=now,
        )
        counts["emails"] += 1
    counts["suppressions"] = (
        Suppression.objects.filter(shop=shop, email__iexact=email).delete()[0] if email else 0
    )
    requests = CustomerDataRequest.objects.filter(shop=shop).filter(
        (Q(customer_email__iexact=email) if email else Q(pk__in=[]))
        | (Q(customer_platform_id=customer_id) if customer_id else Q(pk__in=[]))
    )
    counts["data_requests"] = requests.delete()[0]
    counts["webhook_bodies"] = _redact_deliveries(
        _deliveries_about(shop, email, sorted({pid for _, pid in orders} | set(order_ids))), email
    )
    logger.info("customer redacted for shop %s: %s", shop.domain, counts)
    return counts


class ShopRedactRefused(Exception):
    """A shop redact that must not be obeyed (the shop is connected, or the request is older than
    its uninstall): nothing was deleted. The message says why, for the owner."""


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@transaction.atomic
def shop_redact(*, shop: Shop, requested_at: datetime | None = None) -> int:
    """Delete all of the shop's data, the Shop row itself included (no tombstone: the owner's
    address and the shop's settings are its data too). Sent by the platform 48 h after the app
    was uninstalled; ``requested_at`` is the platform's time of the request (None: now).
    Afterwards the shop's webhooks are refused as from an unknown shop (its privacy webhooks are
    answered 200: nothing is left to erase), and a reinstall starts from nothing
    (``backorders_add_shop``). Returns the number of rows deleted (0: already erased).

    Obeyed only for a shop that is still uninstalled, and only if the request came after that
    uninstall: a shop redact's body is the same every time, so a late or replayed one from before
    a reconnection would otherwise erase a shop in use. Such a request deletes nothing and raises
    ``ShopRedactRefused``. The shop's row is locked first, so that a reconnection
    (``catalog.shop_connect``) and an erasure cannot interleave."""
    requested_at = requested_at or timezone.now()
    locked = Shop.objects.select_for_update().filter(pk=shop.pk).first()
    if locked is None:
        return 0
    if locked.is_active:
        raise ShopRedactRefused(
            f"Nothing deleted: the shop is connected (since {_when(locked.connected_at)}), and only "
            f"an uninstalled shop is erased. This request of {_when(requested_at)} is a late or "
            "replayed one from an earlier uninstall, or the uninstall notice has not arrived yet."
        )
    if locked.uninstalled_at is None:
        raise ShopRedactRefused(
            "Nothing deleted: the shop was made inactive by hand, and the platform's notice of the "
            "uninstall has not arrived. Once it is processed, process this request again."
        )
    if requested_at <= locked.uninstalled_at or requested_at <= locked.connected_at:
        raise ShopRedactRefused(
            f"Nothing deleted, a late or replayed shop redact: requested at {_when(requested_at)}, "
            f"before the shop's latest uninstall ({_when(locked.uninstalled_at)}). The platform "
            "sends a new one 48 h after the latest uninstall."
        )
    domain = locked.domain
    deleted, _ = Shop.objects.filter(pk=locked.pk).delete()
    logger.info("shop %s redacted: %d rows deleted", domain, deleted)
    return deleted
