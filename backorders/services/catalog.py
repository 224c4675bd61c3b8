"""Shops and the catalog, created and updated from plain values (platform adapter, demo, commands).

Platform data carries its own ``updated_at``: data older than what is stored is ignored, so that
late or out-of-order deliveries never overwrite newer data.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backorders.models import Backorder, Event, Location, Product, Shop, Variant
from backorders.models.catalog import http_url_valid
from backorders.services.alerts import alert_waves_schedule, variant_orderable
from backorders.services.alternatives import alternatives_enqueue
from backorders.services.audit import Actor, event_build, events_record
from backorders.services.eta import ETA_MAX_DAYS_AHEAD, eta_refresh
from backorders.services.locking import retrying_atomic, variants_lock

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VariantData:
    platform_id: int | None
    title: str = ""
    sku: str = ""
    price: Decimal = Decimal("0")
    inventory_item_id: int | None = None
    inventory_policy: str = ""  # "continue", "deny" or "" (not from a platform)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ProductData:
    platform_id: int | None
    title: str
    handle: str = ""
    product_type: str = ""
    vendor: str = ""
    tags: Sequence[str] = ()
    status: str = Product.Status.ACTIVE
    image_url: str = ""
    updated_at: datetime | None = None
    variants: Sequence[VariantData] = field(default_factory=tuple)


def tags_parse(value: str | Sequence[str]) -> list[str]:
    """Tags as a clean list; the platform sends one comma-separated string."""
    items = value.split(",") if isinstance(value, str) else value
    seen: dict[str, None] = {}
    for tag in items:
        if tag := str(tag).strip():
            seen.setdefault(tag, None)
    return list(seen)


def _is_stale(stored: datetime | None, incoming: datetime | None) -> bool:
    return stored is not None and incoming is not None and incoming < stored


@transaction.atomic
def product_upsert(*, shop: Shop, data: ProductData, archive_missing_variants: bool = True) -> Product:
    """Create or update a product and its variants from the platform's (or a store's) values.

    A product whose stored ``platform_updated_at`` is newer than ``data.updated_at`` is left as it
    is (stale delivery). Variants no longer listed are archived, never deleted: their backorders
    stay. Matching is by platform id within the shop; a product without one is always created.
    """
    # Lock order (services.locking): the variants (listed, and the product's own, which may be
    # archived below) in primary-key order, then the product, as every other service does.
    listed = [v.platform_id for v in data.variants if v.platform_id is not None]
    mine = Q(platform_id__in=listed)
    if data.platform_id is not None:
        mine |= Q(product__shop=shop, product__platform_id=data.platform_id)
    locked = variants_lock(Variant.objects.filter(mine, shop=shop).values_list("pk", flat=True))
    was_orderable = {pk: variant_orderable(variant) for pk, variant in locked.items()}
    product = None
    if data.platform_id is not None:
        product = Product.objects.select_for_update().filter(shop=shop, platform_id=data.platform_id).first()
    if product is not None and _is_stale(product.platform_updated_at, data.updated_at):
        return product
    product = product or Product(shop=shop, platform_id=data.platform_id)
    product.title = data.title[:255]
    product.handle = data.handle[:255]
    product.product_type = data.product_type[:255]
    product.vendor = data.vendor[:255]
    product.tags = tags_parse(data.tags)
    product.status = data.status if data.status in Product.Status.values else Product.Status.ACTIVE
    # Only an http(s) link is stored as one (a payload or a host could pass javascript: or data:).
    image_url = data.image_url if len(data.image_url) <= 1000 and http_url_valid(data.image_url) else ""
    if data.image_url and not image_url:
        logger.warning(
            "product %s: image URL dropped, not an http(s) URL: %.80r", data.platform_id, data.image_url
        )
    product.image_url = image_url
    product.platform_updated_at = data.updated_at or product.platform_updated_at
    product.save()

    existing: dict[int | None, Variant] = {
        v.platform_id: v for v in locked.values() if v.platform_id in listed
    }
    if missing := set(listed) - set(existing):  # created by a concurrent upsert that held the product
        new = Variant.objects.filter(shop=shop, platform_id__in=missing).values_list("pk", flat=True)
        existing.update({v.platform_id: v for v in variants_lock(new).values()})
    seen: list[int] = []
    for item in data.variants:
        variant = existing.get(item.platform_id) if item.platform_id is not None else None
        if variant is not None and _is_stale(variant.platform_updated_at, item.updated_at):
            seen.append(variant.pk)
            continue
        variant = variant or Variant(shop=shop, platform_id=item.platform_id)
        variant.product = product
        variant.title = item.title[:255]
        variant.sku = item.sku[:255]
        variant.price = item.price
        variant.inventory_item_id = item.inventory_item_id
        variant.inventory_policy = item.inventory_policy
        variant.is_archived = False
        variant.platform_updated_at = item.updated_at or variant.platform_updated_at
        variant.save()
        seen.append(variant.pk)
        if variant.pk in was_orderable:  # the platform now sells it beyond stock: restock alerts
            alert_waves_schedule(variant=variant, was_orderable=was_orderable[variant.pk])
    if archive_missing_variants and data.variants:
        product.variants.exclude(pk__in=seen).update(is_archived=True, updated_at=timezone.now())
    # Its type, tags, prices or status may have changed: its list and its neighbours' lists.
    alternatives_enqueue(shop_id=shop.pk, product_ids=[product.pk])
    return product


@transaction.atomic
def location_get_or_create(*, shop: Shop, platform_id: int, name: str = "") -> Location:
    """The shop's location with the platform's ``platform_id``, created if new.

    A shop whose stock we counted before the platform named any location has one location
    without a platform id (``stock.location_default``); the first platform location seen takes
    that row over, so that its units are not counted twice (a single-location shop, the common
    case, then ends up with exactly one location).

    Lock order (``services.locking``): call it before locking any variant. A new location's
    unique key is held until commit, and a stock update creates its location before locking its
    variant; a transaction doing it the other way round would deadlock with one.
    """
    location = Location.objects.filter(shop=shop, platform_id=platform_id).first()
    if location is not None:
        return location
    if not Location.objects.filter(shop=shop, platform_id__isnull=False).exists():
        unnamed = list(Location.objects.select_for_update().filter(shop=shop, platform_id__isnull=True)[:2])
        if len(unnamed) == 1:
            unnamed[0].platform_id = platform_id
            unnamed[0].save(update_fields=["platform_id"])
            return unnamed[0]
    # INSERT … ON CONFLICT DO NOTHING: a concurrent insert of the same location is waited for,
    # then this one is a no-op and the row read below is theirs.
    Location.objects.bulk_create(
        [Location(shop=shop, platform_id=platform_id, name=(name or f"Location {platform_id}")[:255])],
        ignore_conflicts=True,
    )
    return Location.objects.get(shop=shop, platform_id=platform_id)


@transaction.atomic
def location_update(*, location: Location, name: str, is_active: bool) -> Location:
    """The owner renames a location or stops counting it as active (its stock stays recorded)."""
    location = Location.objects.select_for_update().get(pk=location.pk)
    location.name, location.is_active = name.strip(), is_active
    location.full_clean()
    location.save(update_fields=["name", "is_active"])
    return location


def _backorders_flag(*, variant_ids: list[int], reason: str, actor: Actor) -> int:
    """Flag the open backorders of ``variant_ids`` for the owner (the variants are locked)."""
    backorders = list(
        Backorder.objects.filter(variant_id__in=variant_ids, status__in=Backorder.Status.open()).exclude(
            flagged=True, flag_reason=reason[:255]
        )
    )
    if backorders:
        Backorder.objects.filter(pk__in=[bo.pk for bo in backorders]).update(
            flagged=True, flag_reason=reason[:255], updated_at=timezone.now()
        )
        events_record(
            event_build(backorder=bo, kind=Event.Kind.FLAGGED, actor=actor, note=reason) for bo in backorders
        )
    return len(backorders)


@retrying_atomic
def product_archive(*, product: Product, actor: Actor, reason: str = "") -> Product:
    """The product is gone from the platform: archive it and its variants (never delete them:
    their backorders and history stay) and flag every open backorder of its variants for the
    owner, who decides whether to cancel or fulfil them. Archiving twice changes nothing more."""
    reason = reason or "The product was deleted on the platform."
    variant_ids = list(Variant.objects.filter(product=product).values_list("pk", flat=True))
    variants_lock(variant_ids)
    product = Product.objects.select_for_update().get(pk=product.pk)
    now = timezone.now()
    if product.status != Product.Status.ARCHIVED:
        product.status = Product.Status.ARCHIVED
        product.save(update_fields=["status", "updated_at"])
    Variant.objects.filter(pk__in=variant_ids, is_archived=False).update(is_archived=True, updated_at=now)
    _backorders_flag(variant_ids=variant_ids, reason=reason, actor=actor)
    # The lists that offered it refill without it (the read-time filter already hides it).
    alternatives_enqueue(shop_id=product.shop_id, product_ids=[product.pk])
    return product


@retrying_atomic
def variant_set_tracked(*, variant: Variant, tracked: bool, actor: Actor) -> Variant:
    """Record whether the platform tracks the variant's stock. An untracked variant is never
    backordered (it is always sellable); its open backorders are flagged for the owner."""
    variant = variants_lock([variant.pk])[variant.pk]
    if variant.inventory_tracked != tracked:
        variant.inventory_tracked = tracked
        variant.save(update_fields=["inventory_tracked", "updated_at"])
    if not tracked:
        _backorders_flag(
            variant_ids=[variant.pk], reason="Stock is no longer tracked on the platform.", actor=actor
        )
    return variant


class PolicyChanges(TypedDict, total=False):
    """The owner's policy fields of a product or variant (``None``/"" = inherit again)."""

    backorder_mode: str | None
    backorder_limit: int | None
    restock_date: date | None
    restock_note: str
    handling_days: int | None
    low_stock_threshold: int | None
    discontinued: bool


POLICY_FIELDS = tuple(PolicyChanges.__annotations__)


class PolicyRefused(ValidationError):
    """The owner's policy values are refused (``message_dict`` names each field and says why);
    nothing is written. A ``ValidationError``, so that a form shows each message on its field."""


def policy_validate(*, obj: Product | Variant, changes: Mapping[str, Any]) -> None:
    """Refuse policy ``changes`` for ``obj`` that would tell customers something untrue, before
    anything is written (the admin's form calls this too, to show the message on its field).

    A restock date before today, in the shop's time zone, is refused: it would move every waiting
    customer's ETA to "now" and email them good news that a correction then takes back. So is one
    more than ``ETA_MAX_DAYS_AHEAD`` days ahead (the bound of a customer's ETA set by hand): a
    date years away is a typing error that would email every waiting customer a delay.
    """
    errors: dict[str, str] = {}
    restock_date = changes.get("restock_date")
    if isinstance(restock_date, date):
        today = timezone.localdate(timezone=obj.shop.zoneinfo)
        if restock_date < today:
            errors["restock_date"] = _(
                "The restock date %(date)s is in the past (today is %(today)s in the shop's time "
                "zone, %(zone)s). Enter today or a later date, or leave it empty for none."
            ) % {"date": restock_date.isoformat(), "today": today.isoformat(), "zone": obj.shop.timezone}
        elif restock_date > today + timedelta(days=ETA_MAX_DAYS_AHEAD):
            errors["restock_date"] = _(
                "The restock date %(date)s is more than %(n)d days from today: enter a date before %(limit)s."
            ) % {
                "date": restock_date.isoformat(),
                "n": ETA_MAX_DAYS_AHEAD,
                "limit": (today + timedelta(days=ETA_MAX_DAYS_AHEAD + 1)).isoformat(),
            }
    if errors:
        raise PolicyRefused(errors)


def _policy_apply(obj: Product | Variant, changes: Mapping[str, Any]) -> list[str]:
    """Set the owner's policy ``changes`` on ``obj`` after validating them; returns the fields."""
    if unknown := sorted(set(changes) - set(POLICY_FIELDS)):
        raise ValueError(f"Not a policy field: {', '.join(unknown)} (known: {', '.join(POLICY_FIELDS)}).")
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.clean_fields(exclude=[f.name for f in obj._meta.fields if f.name not in changes])
    policy_validate(obj=obj, changes={name: getattr(obj, name) for name in changes})
    return list(changes)


def _variant_policy_write(variant: Variant, changes: Mapping[str, Any], actor: Actor) -> list[Backorder]:
    """Write ``changes`` on ``variant`` (locked by the caller) and move its customers' ETAs;
    returns the backorders whose ETA moved."""
    was_orderable = variant_orderable(variant)
    fields = _policy_apply(variant, changes)
    variant.save(update_fields=[*fields, "updated_at"])
    moved = eta_refresh(variant=variant, actor=actor)
    alert_waves_schedule(variant=variant, was_orderable=was_orderable)  # now backorderable: alerts
    return moved


def _product_policy_write(
    product: Product, variants: Mapping[int, Variant], changes: Mapping[str, Any], actor: Actor
) -> list[Backorder]:
    """Write ``changes`` on ``product`` (its ``variants`` and then itself locked by the caller)
    and move the ETAs of its variants' customers; returns the backorders whose ETA moved."""
    was_orderable = {pk: variant_orderable(variant) for pk, variant in variants.items()}
    fields = _policy_apply(product, changes)
    product.save(update_fields=[*fields, "updated_at"])
    if "discontinued" in fields:  # it leaves (or rejoins) the candidates of its neighbours
        alternatives_enqueue(shop_id=product.shop_id, product_ids=[product.pk])
    moved: list[Backorder] = []
    for variant in variants.values():
        variant.product = product
        moved += eta_refresh(variant=variant, actor=actor)
        alert_waves_schedule(variant=variant, was_orderable=was_orderable[variant.pk])
    return moved


@retrying_atomic
def variant_set_policy(*, variant: Variant, actor: Actor, **changes: Unpack[PolicyChanges]) -> Variant:
    """Set the owner's policy overrides of ``variant`` (``None``/"" = inherit again).

    Validates first (``ValidationError``; ``PolicyRefused`` for a restock date before today in the
    shop's time zone or too far ahead; nothing written, nobody emailed). The ETAs of its waiting
    customers move with a new restock date or handling time, each with an ``eta_changed`` event.
    """
    variant = variants_lock([variant.pk])[variant.pk]
    _variant_policy_write(variant, changes, actor)
    return variant


@retrying_atomic
def product_set_policy(*, product: Product, actor: Actor, **changes: Unpack[PolicyChanges]) -> Product:
    """Set the owner's product-level policy (inherited by variants without their own) and move
    the ETAs of every waiting customer of its variants accordingly. Validates first, as
    ``variant_set_policy`` does (``ValidationError``/``PolicyRefused``, nothing written)."""
    variants = variants_lock(product.variants.values_list("pk", flat=True))
    product = Product.objects.select_for_update().get(pk=product.pk)
    _product_policy_write(product, variants, changes, actor)
    return product


@retrying_atomic
def variants_set_policy(
    *, variants: Sequence[Variant], actor: Actor, **changes: Unpack[PolicyChanges]
) -> list[Backorder]:
    """Set the same policy ``changes`` on each of ``variants`` in one transaction, as
    ``variant_set_policy`` would one by one (validated, audited, emails through the outbox: one
    per order however many of its lines move). All or nothing: a refusal for any variant
    (``ValidationError``/``PolicyRefused``) writes nothing. Returns the backorders whose ETA moved.
    Locks every variant first, in primary-key order."""
    locked = variants_lock(variant.pk for variant in variants)
    moved: list[Backorder] = []
    for variant in locked.values():
        moved += _variant_policy_write(variant, changes, actor)
    return moved


@retrying_atomic
def products_set_policy(
    *, products: Sequence[Product], actor: Actor, **changes: Unpack[PolicyChanges]
) -> list[Backorder]:
    """Set the same product-level policy ``changes`` on each of ``products`` in one transaction,
    as ``product_set_policy`` would one by one; all or nothing. Returns the backorders whose ETA
    moved. Locks every variant of them first (primary-key order), then the products (same)."""
    product_ids = sorted({product.pk for product in products})
    locked = variants_lock(Variant.objects.filter(product_id__in=product_ids).values_list("pk", flat=True))
    moved: list[Backorder] = []
    for product in Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk"):
        variants = {pk: variant for pk, variant in locked.items() if variant.product_id == product.pk}
        moved += _product_policy_write(product, variants, changes, actor)
    return moved
