"""The platforms the core knows, by what they register here, and nothing else.

A platform adapter (``backorders.platforms.<name>``) registers itself from ``AppConfig.ready()``
with ``platform_register``: its topic handlers (the topics it accepts are their keys), which of
those are privacy topics (still accepted and obeyed after the shop uninstalled the app), and
the two platform-specific parts of a privacy erasure: whether a decoded body is about a customer
by the platform's id fields, and how to scrub a body of the platform's personal-data keys. The
core (processing, privacy) asks here and never imports a platform.

Which platform a delivery is for: ``WebhookDelivery`` has no platform column, and each endpoint
stores its platform's topic names as they are sent. So a topic belongs to exactly one registered
platform, and the delivery's topic chooses it (``platform_for_topic``): registering a topic that
another platform already holds is an error (``ImproperlyConfigured``), found at start-up, never a
silent choice. A second platform whose topic names clash with the first would namespace its
topics when it stores them (``"<platform>:<topic>"``); none does yet, so nothing is prefixed and
every row stored so far keeps its meaning. A stored topic no platform claims (one an endpoint
stored as ignored) is never processed, and is erased with every platform's scrub (erasing too
much of an ignored body costs nothing).

Errors: a handler raises ``DeliveryRejected`` (or a subclass, such as a platform's payload error)
for a body that is invalid for its topic; the delivery is then rejected with the message, never
retried (``processing``).
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from backorders.models import WebhookDelivery


class DeliveryRejected(ValueError):
    """The stored body is invalid for its topic (a field missing, of the wrong type or out of
    bounds, or a value the services refuse): the delivery is rejected with this message, at once.
    The message is shown to the owner in the deliveries admin: it names what was wrong."""


@dataclass(frozen=True)
class Customer:
    """Who a privacy request is about, as a platform's stored bodies may name them."""

    email: str
    order_ids: frozenset[int]
    customer_id: int | None


DeliveryHandler = Callable[[WebhookDelivery, dict[str, Any]], None]
"""Apply one delivery: the delivery row and its body, decoded (a JSON object)."""

BodyMentions = Callable[[str, Any, Customer], bool]
"""Whether a decoded body of ``topic`` names the customer by one of the platform's ids."""

BodyRedact = Callable[[Any, Customer], Any]
"""The decoded body with the platform's personal fields nulled and every mention of the
customer's address replaced (in place allowed); the core stores the result."""


@dataclass(frozen=True)
class Platform:
    """What a platform adapter tells the core about itself."""

    name: str
    handlers: Mapping[str, DeliveryHandler]
    privacy_topics: frozenset[str]
    body_mentions: BodyMentions
    body_redact: BodyRedact

    def __post_init__(self) -> None:
        if unknown := self.privacy_topics - set(self.handlers):
            raise ImproperlyConfigured(
                f"Platform {self.name!r}: privacy topic(s) {', '.join(sorted(unknown))} have no handler."
            )


_platforms: dict[str, Platform] = {}
_by_topic: dict[str, Platform] = {}


def platform_register(*, platform: Platform) -> Platform:
    """Register ``platform`` (again: the new one replaces the old, so that ``ready()`` may run
    twice). Raises ``ImproperlyConfigured`` if another platform already holds one of its topics."""
    for topic in platform.handlers:
        holder = _by_topic.get(topic)
        if holder is not None and holder.name != platform.name:
            raise ImproperlyConfigured(
                f"Platforms {holder.name!r} and {platform.name!r} both register topic {topic!r}: "
                f"one of them must store its topics namespaced (e.g. '{platform.name}:{topic}')."
            )
    platform_unregister(name=platform.name)
    _platforms[platform.name] = platform
    _by_topic.update(dict.fromkeys(platform.handlers, platform))
    return platform


def platform_unregister(*, name: str) -> None:
    """Forget the platform ``name`` (nothing if it is not registered): its deliveries are then
    ignored. For tests and for a host project that replaces a platform."""
    old = _platforms.pop(name, None)
    if old is not None:
        for topic in old.handlers:
            _by_topic.pop(topic, None)


def platform_for_topic(topic: str) -> Platform | None:
    """The registered platform that handles ``topic``, or None (a topic nobody handles)."""
    return _by_topic.get(topic)


def platforms_registered() -> Iterator[Platform]:
    """Every registered platform, in the order they registered."""
    return iter(list(_platforms.values()))


def topic_handled(topic: str) -> bool:
    """Whether a registered platform processes deliveries of ``topic`` (else they are ignored)."""
    return topic in _by_topic


def topic_is_privacy(topic: str) -> bool:
    """Whether ``topic`` is a privacy topic: accepted, and obeyed, after the shop uninstalled."""
    platform = _by_topic.get(topic)
    return platform is not None and topic in platform.privacy_topics
