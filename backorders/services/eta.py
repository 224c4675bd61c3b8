"""ETAs: the date a backordered unit is expected to ship, always with its source.

``eta_estimate`` answers for a unit at a given place in the variant's queue. Today it knows the
owner's manual restock date and the shop's restock lead time; purchase orders will slot in here
as a further source (the n-th waiting unit covered by the n-th incoming unit) without changing its
callers, which is why it takes the queue position.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from backorders.models import Variant
from backorders.models.orders import EtaSource
from backorders.services.policy import Policy, policy_resolve


@dataclass(frozen=True)
class Eta:
    date: date | None
    source: str  # an EtaSource value

    @classmethod
    def unknown(cls) -> "Eta":
        return cls(None, EtaSource.UNKNOWN)


def shop_today(variant: Variant) -> date:
    """Today in the shop's time zone (an ETA is a date where the shop is)."""
    return timezone.localdate(timezone=variant.shop.zoneinfo)


def eta_estimate(*, variant: Variant, units_ahead: int = 0, policy: Policy | None = None) -> Eta:
    """The ETA of a unit with ``units_ahead`` waiting units before it in ``variant``'s queue.

    Manual restock date + handling days if the owner set one (never in the past: a passed date
    means "any day now", so today + handling days); else today + restock lead time + handling
    days when a lead time is configured; else unknown.
    """
    policy = policy or policy_resolve(variant)
    today = shop_today(variant)
    handling = timedelta(days=policy.handling_days)
    if policy.restock_date is not None:
        return Eta(max(policy.restock_date, today) + handling, EtaSource.MANUAL)
    if policy.restock_lead_days is not None:
        return Eta(today + timedelta(days=policy.restock_lead_days) + handling, EtaSource.LEAD_TIME)
    return Eta.unknown()
