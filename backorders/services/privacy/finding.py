"""Which of a shop's stored webhook bodies are about a customer.

The candidates are found by text (``selectors.privacy.customer_delivery_candidates``), then each
body is decoded and asked: does any string hold the customer's address (any case), or does the
platform that sent it (``registry``, by the delivery's topic) find one of the customer's ids in
it? A body that cannot be parsed is searched as text, its JSON escapes decoded leniently.
"""

import re
from collections.abc import Sequence
from typing import Any

from backorders.models import Shop
from backorders.selectors.privacy import DeliveryAbout, customer_delivery_candidates
from backorders.services.webhooks.bodies import body_load
from backorders.services.webhooks.registry import Customer, platform_for_topic, platforms_registered


def customer_deliveries_about(
    *, shop: Shop, email: str, order_ids: Sequence[int], customer_id: int | None = None
) -> list[DeliveryAbout]:
    """The shop's stored webhook deliveries about the customer, oldest first, each with its
    decoded body (``parsed`` False for one that cannot be parsed: malformed, or nested too deep):
    every body that names their address (decoded, any case), and every body in which the
    platform that sent it finds their customer id or one of their orders (``order_ids``, the
    platform's ids). A body of a topic no registered platform claims is asked of every platform.
    Reads only."""
    customer = Customer(email=email.strip(), order_ids=frozenset(order_ids), customer_id=customer_id)
    candidates = customer_delivery_candidates(
        shop=shop, email=customer.email, order_ids=customer.order_ids, customer_id=customer_id
    )
    found = []
    for delivery in candidates.iterator(chunk_size=200):
        try:
            payload = body_load(delivery.body)
        except ValueError:  # malformed, or nested too deep to parse
            if _in_text(customer, delivery.body):
                found.append(DeliveryAbout(delivery=delivery, payload=None, parsed=False))
            continue
        if _in_payload(customer, delivery.topic, payload):
            found.append(DeliveryAbout(delivery=delivery, payload=payload))
    return found


def _in_payload(customer: Customer, topic: str, payload: Any) -> bool:
    """Whether a decoded body is about the customer: a string holding their address (any case),
    or one of their ids as the platform of ``topic`` (else any platform) finds them."""
    if _mentions_email(customer.email, payload):
        return True
    platform = platform_for_topic(topic)
    platforms = [platform] if platform is not None else list(platforms_registered())
    return any(candidate.body_mentions(topic, payload, customer) for candidate in platforms)


def _mentions_email(email: str, payload: Any) -> bool:
    """Whether any string of ``payload`` holds ``email`` (any case); a stack, not recursion."""
    needle = email.casefold()
    if not needle:
        return False
    stack = [payload]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if needle in value.casefold():
                return True
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


_JSON_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|([\"\\/bfnrt]))")
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape(match: re.Match[str]) -> str:
    if match.group(1):
        return chr(int(match.group(1), 16))
    char = match.group(2)
    return _SIMPLE_ESCAPES.get(char, char)


def _in_text(customer: Customer, text: str) -> bool:
    """Whether a body that cannot be parsed mentions the customer: its JSON escapes decoded
    leniently, then searched for the address (any case) and for the ids as whole numbers."""
    decoded = _JSON_ESCAPE.sub(_unescape, text).casefold()
    if customer.email and customer.email.casefold() in decoded:
        return True
    numbers = [*customer.order_ids, *([customer.customer_id] if customer.customer_id is not None else [])]
    return any(re.search(rf"(?<![0-9]){number}(?![0-9])", text) for number in numbers)
