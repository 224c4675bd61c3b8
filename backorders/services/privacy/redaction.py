"""A customer's erasure: personal data out of every row, anonymous quantities kept.

Stored webhook bodies are scrubbed by the platform that sent them (``registry``: it names its
personal keys, ``payload_scrub`` does the walk); what cannot be scrubbed is replaced whole.
"""

import json
import logging
import re
from collections.abc import Collection, Sequence
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from backorders.models import (
    AlertSignupCounter,
    Backorder,
    Cancellation,
    CustomerDataRequest,
    Event,
    Notification,
    Order,
    RestockAlert,
    Shop,
    Suppression,
    WebhookDelivery,
)
from backorders.selectors.privacy import DeliveryAbout, customer_orders
from backorders.services.alerts import signup_hash
from backorders.services.privacy.finding import customer_deliveries_about
from backorders.services.webhooks.registry import Customer, platform_for_topic, platforms_registered

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
# What replaces a stored body that mentions the customer but cannot be parsed (malformed, or nested
# deeper than the parser's limit): nothing of it can be kept safely.
REDACTED_BODY = json.dumps({"redacted": "The body could not be parsed, so all of it was erased."})


def text_scrub(text: str, email: str) -> str:
    """``text`` with every mention of ``email`` (any case) replaced by ``REDACTED``."""
    return re.sub(re.escape(email), REDACTED, text, flags=re.IGNORECASE) if email and text else text


def payload_scrub(payload: Any, *, email: str, personal_keys: Collection[str] = ()) -> Any:
    """``payload`` (a decoded body) with the value of every key in ``personal_keys`` nulled,
    wherever it occurs, and every mention of ``email`` replaced, in place and without recursion
    (a body's nesting is bounded by the parser, but the erasure must not depend on it). The walk
    a platform's ``body_redact`` calls with its own personal keys."""
    if isinstance(payload, str):
        return text_scrub(payload, email)
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
            if isinstance(container, dict) and key in personal_keys and value is not None:
                container[key] = None
            elif isinstance(value, str):
                container[key] = text_scrub(value, email)
            elif isinstance(value, dict | list):
                stack.append(value)
    return payload


def _scrubbed(topic: str, payload: Any, customer: Customer) -> Any:
    """The body scrubbed by the platform of ``topic``; a topic no platform claims (stored as
    ignored) by every platform in turn, and by the address alone when none is registered."""
    platform = platform_for_topic(topic)
    platforms = [platform] if platform is not None else list(platforms_registered())
    for candidate in platforms:
        payload = candidate.body_redact(payload, customer)
    return payload if platforms else payload_scrub(payload, email=customer.email)


def _redacted_body(topic: str, payload: Any, customer: Customer) -> str:
    """The scrubbed body as text a text column holds (lone surrogates escaped)."""
    payload = _scrubbed(topic, payload, customer)
    body = json.dumps(payload, ensure_ascii=False)
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        body = json.dumps(payload)  # ASCII, with every non-ASCII character escaped
    return body


def _redact_deliveries(found: list[DeliveryAbout], customer: Customer) -> tuple[int, list[int]]:
    """Scrub each stored body about the customer, one by one: a body that cannot be parsed, or
    whose scrubbed form cannot be stored, is replaced whole (``REDACTED_BODY``) and reported,
    and the others are still scrubbed. Returns (bodies redacted, pks of those replaced whole)."""
    email = customer.email
    replaced = []
    for about in found:
        delivery = about.delivery
        last_error = text_scrub(delivery.last_error, email)
        body = REDACTED_BODY
        if about.parsed:
            try:
                body = _redacted_body(delivery.topic, about.payload, customer)
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
    them to); suppressions, restock-alert sign-ups and data exports of the address are deleted;
    stored webhook bodies about them have every personal field nulled (their signatures no
    longer verify, which is fine: they were verified on arrival).

    Stored bodies are found by their decoded values (the address in any case and however JSON
    escaped it, the customer id, the orders named or found by address) and redacted one by one: a
    body that cannot be parsed (malformed, nested deeper than the parser's limit) is replaced
    whole, logged, and counted in ``webhook_bodies_replaced``; it never stops the others. Returns
    counts per kind of row.
    """
    orders = list(
        customer_orders(shop=shop, email=email, order_ids=order_ids).values_list("pk", "platform_id")
    )
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
            Event.objects.filter(pk=event.pk).update(note=text_scrub(event.note, email))
        for backorder in Backorder.objects.filter(shop=shop).filter(
            Q(cancel_reason__icontains=email) | Q(flag_reason__icontains=email)
        ):
            Backorder.objects.filter(pk=backorder.pk).update(
                cancel_reason=text_scrub(backorder.cancel_reason, email),
                flag_reason=text_scrub(backorder.flag_reason, email),
            )
    cancellations = Cancellation.objects.filter(shop=shop, order__in=order_pks)
    cancellations.filter(actor_kind=Event.ActorKind.CUSTOMER).update(actor_name="")
    if email:
        for cancellation in Cancellation.objects.filter(shop=shop, reason__icontains=email):
            Cancellation.objects.filter(pk=cancellation.pk).update(
                reason=text_scrub(cancellation.reason, email)
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
            last_error=text_scrub(mail.last_error, email),
            delivery_detail=text_scrub(mail.delivery_detail, email)[:500],
            updated_at=now,
        )
        counts["emails"] += 1
    counts["suppressions"] = (
        Suppression.objects.filter(shop=shop, email__iexact=email).delete()[0] if email else 0
    )
    # Restock alerts: the sign-ups are deleted (their emails above keep no address or content),
    # and the address's sign-up counts (a keyed hash of it) with them.
    counts["restock_alerts"] = (
        RestockAlert.objects.filter(shop=shop, email__iexact=email).delete()[0] if email else 0
    )
    if email:
        AlertSignupCounter.objects.filter(
            shop=shop, email_hash=signup_hash(shop, email.strip().lower())
        ).delete()
    requests = CustomerDataRequest.objects.filter(shop=shop).filter(
        (Q(customer_email__iexact=email) if email else Q(pk__in=[]))
        | (Q(customer_platform_id=customer_id) if customer_id else Q(pk__in=[]))
    )
    counts["data_requests"] = requests.delete()[0]
    order_platform_ids = sorted({pid for _, pid in orders if pid is not None} | set(order_ids))
    found = customer_deliveries_about(
        shop=shop, email=email, order_ids=order_platform_ids, customer_id=customer_id
    )
    customer = Customer(email=email.strip(), order_ids=frozenset(order_platform_ids), customer_id=customer_id)
    counts["webhook_bodies"], replaced = _redact_deliveries(found, customer)
    counts["webhook_bodies_replaced"] = len(replaced)
    logger.info("customer redacted for shop %s: %s", shop.domain, counts)
    return counts
