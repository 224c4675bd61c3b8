"""Stock levels and their allocation to waiting backorders.

The stock model is the platform's: ``available = on hand - committed``, where committed counts
every unfulfilled ordered unit, backordered or not. Recording an order lowers ``available`` by the
whole ordered quantity, exactly as the platform does, so a platform inventory update that arrives
afterwards agrees with us instead of double-counting. A shop that sold 2 units beyond stock shows
``available = -2``; when 5 units arrive it shows 3.

The units that can go to waiting backorders at any moment are
``clamp(available + units_waiting, 0, units_waiting)``, where ``units_waiting`` counts backordered
units not yet allocated: with -2 and 2 waiting, none; with 3 and 2 waiting, 2 (leaving the
platform's 3 free). Allocation gives them out strictly in arrival order, and afterwards
"units waiting > 0 implies available <= 0" holds, so a new order may take ``max(available, 0)``.

Every function here runs with the variant's row locked (``locking.variants_lock``); all changes to
a variant's counters and to its backorders happen under that lock.
"""

from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet, Subquery, Sum, Value, Window
from django.utils import timezone

from backorders.models import Backorder, Event, InventoryLevel, Location, Shop, Variant
from backorders.services import notifications
from backorders.services.alerts import alert_waves_schedule, variant_orderable
from backorders.services.audit import Actor, event_build, events_record, events_record_for
from backorders.services.locking import retrying_atomic, variants_lock


def location_default(*, shop: Shop) -> Location:
    """The shop's first active location, created as "Default location" if it has none."""
    location = shop.locations.filter(is_active=True).order_by("pk").first()
    if location is None:
        location = Location.objects.create(shop=shop, name="Default location")
    return location


def _level_for_update(variant: Variant, location: Location | None) -> InventoryLevel:
    """The level at ``location``, else the variant's first level, else one at the default location."""
    levels = (
        InventoryLevel.objects.select_for_update(of=("self",))
        .select_related("location")
        .filter(variant=variant)
    )
    if location is not None:
        level = levels.filter(location=location).first()
    else:
        level = levels.order_by("location_id").first()
        location = level.location if level else location_default(shop=variant.shop)
    if level is None:
        level = InventoryLevel.objects.create(shop_id=variant.shop_id, variant=variant, location=location)
    return level


def _variant_refresh_available(variant: Variant) -> None:
    """Set ``variant.available`` to the sum of its levels (the variant row is locked)."""
    total = InventoryLevel.objects.filter(variant=variant).aggregate(total=Sum("available"))["total"] or 0
    if total != variant.available:
        Variant.objects.filter(pk=variant.pk).update(available=total, updated_at=timezone.now())
        variant.available = total


def stock_adjust(*, variant: Variant, delta: int, as_of: datetime | None = None) -> bool:
    """Add ``delta`` to the variant's available stock (an order commits units, a cancel frees them).

    ``as_of`` is when the change happened on the platform. If the stored level was reported by
    the platform at or after that moment, it already counts the change and nothing is done (the
    platform's inventory webhook and the order webhook race; neither may count twice). Returns
    whether the change was applied. The caller holds the variant lock.
    """
    if delta == 0:
        return False
    now = timezone.now()
    # The variant's first level, in one statement (the variant lock serialises writes to its levels).
    first = InventoryLevel.objects.filter(variant=variant).order_by("location_id").values("pk")[:1]
    level = InventoryLevel.objects.filter(pk=Subquery(first))
    if as_of is not None:
        level = level.filter(Q(platform_updated_at__isnull=True) | Q(platform_updated_at__lt=as_of))
    if not level.update(available=F("available") + delta, updated_at=now):
        # Either the platform's level already counts this change, or the variant has no level yet.
        if InventoryLevel.objects.filter(variant=variant).exists():
            return False
        created = _level_for_update(variant, None)
        InventoryLevel.objects.filter(pk=created.pk).update(available=delta, updated_at=now)
    Variant.objects.filter(pk=variant.pk).update(available=F("available") + delta, updated_at=now)
    variant.available += delta
    return True


@retrying_atomic
def stock_set_available(
    *,
    variant: Variant,
    available: int,
    location: Location | None = None,
    updated_at: datetime | None = None,
    actor: Actor,
) -> InventoryLevel:
    """Set the units available at ``location`` (default: the shop's first location) and allocate.

    ``updated_at`` is the platform's timestamp of the value: a value older than the one stored is
    ignored (older data never overwrites newer). A rise allocates to waiting backorders in
    arrival order. Returns the stored level (unchanged when the value was stale).
    """
    variant = variants_lock([variant.pk])[variant.pk]
    if location is not None and location.shop_id != variant.shop_id:
        raise ValueError("The location belongs to another shop.")
    was_orderable = variant_orderable(variant)
    level = _level_for_update(variant, location)
    if (
        updated_at is not None
        and level.platform_updated_at is not None
        and updated_at < level.platform_updated_at
    ):
        return level
    level.available = available
    level.platform_updated_at = updated_at or level.platform_updated_at
    level.save(update_fields=["available", "platform_updated_at", "updated_at"])
    _variant_refresh_available(variant)
    stock_allocate(variant=variant, actor=actor)
    alert_waves_schedule(variant=variant, was_orderable=was_orderable)  # back: restock alerts
    return level


def allocatable_units(variant: Variant) -> int:
    """``clamp(available + units_waiting, 0, units_waiting)``: units that can go to the queue now."""
    return max(0, min(variant.available + variant.units_waiting, variant.units_waiting))


def overallocated_units(variant: Variant) -> int:
    """Allocated units no longer backed by stock (the platform counted fewer units on hand)."""
    return max(0, min(-(variant.available + variant.units_waiting), variant.units_allocated))


def queue_waiting(variant: Variant) -> QuerySet[Backorder]:
    """The variant's waiting backorders in arrival order (the queue)."""
    return Backorder.objects.filter(variant=variant, status=Backorder.Status.WAITING).order_by(
        "queued_at", "pk"
    )


def stock_allocate(*, variant: Variant, actor: Actor) -> int:
    """Give allocatable units to waiting backorders strictly in arrival order (or take back
    allocated units that stock no longer covers, latest arrival first). Returns the units given.

    No later line is served before an earlier one is complete, even if it is smaller: the
    earliest waiting line takes a partial allocation and the rest wait. The caller holds the
    variant lock. A constant number of statements whatever the queue's length: one select of the
    lines that receive units (a running sum in SQL), one insert of their events and one update
    for the fully covered prefix, one update for a partial line, one for the counters.
    """
    if excess := overallocated_units(variant):
        _deallocate(variant=variant, units=excess, actor=actor)
        return 0
    units = allocatable_units(variant)
    if units == 0:
        return 0
    need = F("quantity") - F("quantity_allocated")
    receiving: list[Any] = list(
        queue_waiting(variant)
        .annotate(need=need, before=Window(Sum(need), order_by=[F("queued_at").asc(), F("pk").asc()]) - need)
        .filter(before__lt=units)
        .order_by("queued_at", "pk")
        .values_list("pk", "queued_at", "need", "before", named=True)
    )
    if not receiving:
        return 0
    now = timezone.now()
    last = receiving[-1]
    last_gets = min(units - last.before, last.need)
    complete = receiving if last_gets == last.need else receiving[:-1]
    if complete:
        cutoff = complete[-1]
        prefix = queue_waiting(variant).filter(
            Q(queued_at__lt=cutoff.queued_at) | Q(queued_at=cutoff.queued_at, pk__lte=cutoff.pk)
        )
        events_record_for(prefix, kind=Event.Kind.ALLOCATED, actor=actor, quantity=need)  # before the update
        prefix.update(quantity_allocated=F("quantity"), status=Backorder.Status.ALLOCATED, updated_at=now)
    if last_gets < last.need:
        Backorder.objects.filter(pk=last.pk).update(
            quantity_allocated=F("quantity_allocated") + last_gets, updated_at=now
        )
        events_record_for(
            Backorder.objects.filter(pk=last.pk),
            kind=Event.Kind.ALLOCATED,
            actor=actor,
            quantity=Value(last_gets),
        )
    total = sum(row.need for row in complete) + (last_gets if last_gets < last.need else 0)
    Variant.objects.filter(pk=variant.pk).update(
        units_waiting=F("units_waiting") - total, units_allocated=F("units_allocated") + total, updated_at=now
    )
    variant.units_waiting -= total
    variant.units_allocated += total
    _queue_changed(variant)
    if complete:
        notifications.backorders_notify_status(
            # Only what planning the emails needs; a signal listener loads the rest on access.
            backorders=Backorder.objects.filter(pk__in=[row.pk for row in complete])
            .only("pk", "shop_id", "order_id", "variant_id", "status")
            .order_by("queued_at", "pk"),
            old_status=Backorder.Status.WAITING,
            actor=actor,
        )
    return total


def _queue_changed(variant: Variant) -> None:
    """The queue of ``variant`` changed (units allocated or taken back): after commit, the ETAs
    of the customers still waiting follow their new places."""
    from backorders.services.eta import etas_refresh_enqueue  # eta imports lifecycle, which imports this

    etas_refresh_enqueue(variant_ids=[variant.pk])


def stock_receive(*, variant: Variant, location: Location, quantity: int, actor: Actor) -> InventoryLevel:
    """``quantity`` units arrived at ``location`` (a purchase order received): the level there
    rises by them, the variant's available with it, and the waiting customers are allocated in
    arrival order ("ready to ship" emails), as any stock rise. The caller holds the variant lock."""
    if quantity <= 0:
        raise ValueError("A receipt adds at least one unit.")
    if location.shop_id != variant.shop_id:
        raise ValueError("The location belongs to another shop.")
    was_orderable = variant_orderable(variant)
    level = _level_for_update(variant, location)
    InventoryLevel.objects.filter(pk=level.pk).update(
        available=F("available") + quantity, updated_at=timezone.now()
    )
    level.refresh_from_db(fields=["available"])
    _variant_refresh_available(variant)
    stock_allocate(variant=variant, actor=actor)
    alert_waves_schedule(variant=variant, was_orderable=was_orderable)
    return level


def stock_release(*, variant: Variant, waiting: int, allocated: int) -> None:
    """Take a closed backorder's units off the variant's counters (the caller holds the lock)."""
    if waiting or allocated:
        Variant.objects.filter(pk=variant.pk).update(
            units_waiting=F("units_waiting") - waiting,
            units_allocated=F("units_allocated") - allocated,
            updated_at=timezone.now(),
        )
        variant.units_waiting -= waiting
        variant.units_allocated -= allocated


def _deallocate(*, variant: Variant, units: int, actor: Actor) -> None:
    """Take back ``units`` allocated units, from the back of the queue (the latest arrival gives
    up its units first), after a stock count fell below what was promised. Rare and small: one
    statement per backorder touched."""
    now = timezone.now()
    holders = Backorder.objects.filter(
        variant=variant, status__in=Backorder.Status.open(), quantity_allocated__gt=0
    ).order_by("-queued_at", "-pk")
    events, reopened = [], []
    for backorder in holders:
        if units == 0:
            break
        taken = min(units, backorder.quantity_allocated)
        units -= taken
        backorder.quantity_allocated -= taken
        old_status, backorder.status = backorder.status, Backorder.Status.WAITING
        Backorder.objects.filter(pk=backorder.pk).update(
            quantity_allocated=backorder.quantity_allocated, status=backorder.status, updated_at=now
        )
        events.append(
            event_build(backorder=backorder, kind=Event.Kind.DEALLOCATED, actor=actor, quantity=taken)
        )
        if old_status != backorder.status:
            reopened.append(backorder)
    total = sum(event.quantity or 0 for event in events)
    Variant.objects.filter(pk=variant.pk).update(
        units_waiting=F("units_waiting") + total, units_allocated=F("units_allocated") - total, updated_at=now
    )
    variant.units_waiting += total
    variant.units_allocated -= total
    _queue_changed(variant)
    events_record(events)
    notifications.backorders_notify_status(
        backorders=reopened, old_status=Backorder.Status.ALLOCATED, actor=actor
    )
