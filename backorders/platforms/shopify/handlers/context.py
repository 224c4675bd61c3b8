"""What every handler is given besides its payload."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backorders.models import Shop, WebhookDelivery
from backorders.services.audit import Actor


@dataclass(frozen=True)
class Context:
    """What a handler knows about the delivery besides its payload."""

    shop: Shop
    topic: str
    triggered_at: datetime | None
    received_at: datetime | None = None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> "Context":
        return cls(
            shop=delivery.shop,
            topic=delivery.topic,
            triggered_at=delivery.triggered_at,
            received_at=delivery.received_at,
        )

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
