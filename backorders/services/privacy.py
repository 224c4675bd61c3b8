"""The platform's mandatory privacy requests: a customer's data export, the erasure of a
customer's personal data, and the erasure of a whole shop.

What we hold about a customer: their orders (email, name, locale), the backorders and events of
those orders (a customer who cancelled through their link is the actor of that event), the emails
we planned or sent them (recipient, content, provider replies), suppressions of their address,
earlier data exports, and the raw webhook bodies that mention them (addresses, phone, notes).
"""

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, transaction
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
from backorders.services.webhooks.bodies import body_load

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
# What replaces a stored body that mentions the customer but cannot be parsed (malformed, or nested
# deeper than the parser's limit): nothing of it can be kept safely.
REDACTED_BODY = json.dumps({"redacted": "The body could not be parsed, so all of it was erased."})

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


@dataclass(frozen=True)
class _Customer:
    """Who a privacy request is about, as the stored bodies may name them."""

    email: str
    order_ids: frozenset[int]
    customer_id: int | None

    def candidates(self, shop: Shop) -> QuerySet[WebhookDelivery]:
        """A superset of the shop's stored deliveries that can mention the customer, narrowed by
        text: the address as sent, or any JSON escape at all (``o\\u0026hara@…`` spells
        ``o&hara@…``; a body without a backslash holds its strings as written), or one of the ids.
        A rare request: scanning many of one shop's bodies is acceptable; each is then decoded."""
        numbers = {str(number) for number in self.order_ids}
        if self.customer_id is not None:
            numbers.add(str(self.customer_id))
        if not self.email and not numbers:
            return WebhookDelivery.objects.none()
        match = Q(pk__in=[])
        if self.email:
            match |= Q(body__icontains=self.email) | Q(body__contains="\\")
        for number in numbers:
            match |= Q(body__contains=number)
        return (
            WebhookDelivery.objects.filter(shop=shop)
            .filter(match)
            .only("pk", "topic", "body", "last_error")
            .order_by("pk")
        )

    def in_payload(self, topic: str, payload: Any) -> bool:
        """Whether a decoded body is about the customer: an order or fulfilment of one of their
        orders, an object naming their customer id, or any string holding their address (any
        case). Walked with a stack, not recursion."""
        if isinstance(payload, dict) and topic.startswith(_ORDER_TOPICS):
            key = "id" if topic.startswith("orders/") else "order_id"
            if self._names_order(payload.get(key)):
                return True
        needle = self.email.casefold()
        stack = [payload]
        while stack:
            value = stack.pop()
            if isinstance(value, str):
                if needle and needle in value.casefold():
                    return True
            elif isinstance(value, dict):
                if self.customer_id is not None and (
                    value.get("customer_id") == self.customer_id
                    or (
                        isinstance(value.get("customer"), dict)
                        and value["customer"].get("id") == self.customer_id
                    )
                ):
                    return True
                if self._names_order(value.get("order_id")):
                    return True
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
        return False

    def _names_order(self, value: Any) -> bool:
        return isinstance(value, int) and value in self.order_ids  # a list there is not hashable

    def in_text(self, text: str) -> bool:
        """Whether a body that cannot be parsed mentions the customer: its JSON escapes decoded
        leniently, then searched for the address (any case) and for the ids as whole numbers."""
        decoded = _JSON_ESCAPE.sub(_unescape, text).casefold()
        if self.email and self.email.casefold() in decoded:
            return True
        numbers = [*self.order_ids, *([self.customer_id] if self.customer_id is not None else [])]
        return any(re.search(rf"(?<![0-9]){number}(?![0-9])", text) for number in numbers)


_JSON_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|([\"\\/bfnrt]))")
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape(match: re.Match[str]) -> str:
    if match.group(1):
        return chr(int(match.group(1), 16))
    char = match.group(2)
    return _SIMPLE_ESCAPES.get(char, char)


_UNPARSED = object()


def _deliveries_about(
    shop: Shop, email: str, order_ids: Sequence[int], customer_id: int | None = None
) -> list[tuple[WebhookDelivery, Any]]:
    """Stored webhook deliveries about the customer, each with its decoded body (``_UNPARSED``
    for a body that cannot be parsed: malformed, or nested too deep): every body that names
    their address (decoded, any case) or customer id, and the order and fulfilment deliveries of
    their orders."""
    customer = _Customer(email=email.strip(), order_ids=frozenset(order_ids), customer_id=customer_id)
    found = []
    for delivery in customer.candidates(shop).iterator(chunk_size=200):
        try:
            payload = body_load(delivery.body)
        except ValueError:  # malformed, or nested too deep to parse
            if customer.in_text(delivery.body):
                found.append((delivery, _UNPARSED))
            continue
        if customer.in_payload(delivery.topic, payload):
            found.append((delivery, payload))
    return found


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
    deliveries = _deliveries_about(
        shop, email, [o.platform_id for o in orders] + list(order_ids), customer_id=customer_id
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
                    "body": delivery.body if payload is _UNPARSED else payload,
                }
                for delivery, payload in deliveries
            ],
        }
    )
    return _json_safe(export)  # a body may hold "\\u0000" or "\\ud800", which jsonb refuses


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
    """``payload`` with every personal field nulled and every mention of ``email`` replaced, in
    place and without recursion (a body's nesting is bounded by the parser, but the erasure must
    not depend on it)."""
    if isinstance(payload, str):
        return _scrub_text(payload, email)
    stack = [payload]
    while stack:
        container = stack.pop()
        if isinstance(container, dict):
            entries: Any = list(container.items())
        elif isinstance(container, list):
            entries = list(enumerate(container))
        else:
            continue
        for key, value in entries:
            if isinstance(container, dict) and key in _PERSONAL_KEYS and value is not None:
                container[key] = None
            elif isinstance(value, str):
                container[key] = _scrub_text(value, email)
            elif isinstance(value, dict | list):
                stack.append(value)
    return payload


def _redacted_body(payload: Any, email: str) -> str:
    """The scrubbed body as text a text column holds (lone surrogates escaped)."""
    body = json.dumps(_scrub(payload, email), ensure_ascii=False)
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        body = json.dumps(payload)  # ASCII, with every non-ASCII character escaped
    return body


def _redact_deliveries(found: list[tuple[WebhookDelivery, Any]], email: str) -> tuple[int, list[int]]:
    """Scrub each stored body about the customer, one by one: a body that cannot be parsed, or
    whose scrubbed form cannot be stored, is replaced whole (``REDACTED_BODY``) and reported,
    and the others are still scrubbed. Returns (bodies redacted, pks of those replaced whole)."""
    replaced = []
    for delivery, payload in found:
        last_error = _scrub_text(delivery.last_error, email)
        body = REDACTED_BODY
        if payload is not _UNPARSED:
            try:
                body = _redacted_body(payload, email)
            except (ValueError, TypeError, RecursionError) as exc:
                logger.warning("webhook delivery %s: scrubbing its body failed (%r)", delivery.pk, exc)
        if body == REDACTED_BODY:
            replaced.append(delivery.pk)
        try:
            with transaction.atomic():  # a savepoint: one row the database refuses fails only this
                # update(), not save(): the row may be the very delivery being processed.
                WebhookDelivery.objects.filter(pk=delivery.pk).update(body=body, last_error=last_error)
        except DatabaseError as exc:
            logger.warning("webhook delivery %s: storing its scrubbed body failed (%s)", delivery.pk, exc)
            WebhookDelivery.objects.filter(pk=delivery.pk).update(body=REDACTED_BODY, last_error=REDACTED)
            replaced.append(delivery.pk)
    for pk in replaced:
        logger.warning(
            "webhook delivery %s mentions a redacted customer but its body could not be parsed "
            "and scrubbed: it was replaced whole",
            pk,
        )
    return len(found), replaced


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
    fine: they were verified on arrival).

    Stored bodies are found by their decoded values (the address in any case and however JSON
    escaped it, the customer id, the orders named or found by address) and redacted one by one: a
    body that cannot be parsed (malformed, nested deeper than the parser's limit) is replaced
    whole, logged, and counted in ``webhook_bodies_replaced``; it never stops the others. Returns
    counts per kind of row.
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
    found = _deliveries_about(
        shop, email, sorted({pid for _, pid in orders} | set(order_ids)), customer_id=customer_id
    )
    counts["webhook_bodies"], replaced = _redact_deliveries(found, email)
    counts["webhook_bodies_replaced"] = len(replaced)
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
