"""Restock dates for many items at once: what a new date would do (``restock_preview``), then
doing it (``restock_set``).

The preview follows the rules of the change itself rather than a copy of them: the same queue
recomputation (``services.eta.eta_refresh_plan``, the pinned ETAs included) on the variants as
they would be, and the same email rules (``services.notifications.planning.eta_changes_emailed``:
the shop's threshold against the date each customer was last told, pending confirmations, no
address, suppressions). The change goes through ``variants_set_policy``/``products_set_policy``,
the services of a single edit: validated, audited (an ``eta_changed`` event per moved backorder),
emails through the outbox, one per order.

"Customers" here are orders: each order's customer gets at most one email per change.
"""

import copy
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from backorders.models import Backorder, Product, Variant
from backorders.selectors.availability import policy_resolve
from backorders.services.audit import Actor
from backorders.services.catalog import (
    PolicyChanges,
    policy_validate,
    products_set_policy,
    variants_set_policy,
)
from backorders.services.eta import eta_queue, eta_refresh_plan
from backorders.services.locking import retrying_atomic
from backorders.services.notifications.planning import eta_changes_emailed, eta_rows_queued

RESTOCK_NOTE_MAX = 255


@dataclass(frozen=True)
class RestockPreview:
    """What setting a restock date would do now."""

    variants: int  # variants whose restock date changes (selected, or of the selected products)
    backorders_moved: int  # waiting backorders whose ETA would move
    customers_moved: int  # orders among them
    customers_emailed: int  # orders whose customer would be emailed


@dataclass(frozen=True)
class RestockResult:
    """What setting a restock date did."""

    variants: int
    backorders_moved: int
    customers_moved: int
    emails_queued: int


def _variants_of(variants: Sequence[Variant], products: Sequence[Product]) -> list[Variant]:
    if bool(variants) == bool(products):
        raise ValueError("Pass either variants or products (one of them, not empty).")
    if variants:
        found = Variant.objects.filter(pk__in=[variant.pk for variant in variants])
    else:
        found = Variant.objects.filter(product_id__in=[product.pk for product in products])
    return list(found.select_related("product__shop", "shop").order_by("pk"))


def _changes(restock_date: date, note: str) -> PolicyChanges:
    changes: PolicyChanges = {"restock_date": restock_date}
    if note := " ".join(note.split())[:RESTOCK_NOTE_MAX]:
        changes["restock_note"] = note
    return changes


def restock_preview(
    *,
    variants: Sequence[Variant] = (),
    products: Sequence[Product] = (),
    restock_date: date,
) -> RestockPreview:
    """What ``restock_set`` with the same arguments would do now, without writing anything.

    Either ``variants`` (their own restock date) or ``products`` (the product's date, which their
    variants inherit unless they have their own). Refuses a date before today or more than
    ``services.eta.ETA_MAX_DAYS_AHEAD`` days ahead in a shop's time zone as the change would
    (``PolicyRefused`` naming ``restock_date``). Three queries whatever the selection: the
    variants, their queues, and what their customers were last told.
    """
    targets = _variants_of(variants, products)
    owners: dict[int, Product | Variant] = {}
    as_they_would_be: list[Variant] = []
    for variant in targets:
        future = copy.copy(variant)
        if variants:
            future.restock_date = restock_date
            owners[variant.pk] = variant
        else:
            future.product = copy.copy(variant.product)
            future.product.restock_date = restock_date
            owners[variant.product_id] = variant.product
        as_they_would_be.append(future)
    for obj in owners.values():
        policy_validate(obj=obj, changes={"restock_date": restock_date})
    queues: dict[int, list[Backorder]] = defaultdict(list)
    for backorder in eta_queue(variant.pk for variant in targets):
        queues[backorder.variant_id].append(backorder)
    new_etas: dict[int, date | None] = {}
    old_etas: dict[int, date | None] = {}
    orders: set[int] = set()
    for future in as_they_would_be:
        if future.pk not in queues:
            continue
        for move in eta_refresh_plan(variant=future, queue=queues[future.pk], policy=policy_resolve(future)):
            new_etas[move.backorder.pk], old_etas[move.backorder.pk] = move.new.date, move.old
            orders.add(move.backorder.order_id)
    emailed = eta_changes_emailed(new_etas=new_etas, old_etas=old_etas) if new_etas else set()
    return RestockPreview(
        variants=len(targets),
        backorders_moved=len(new_etas),
        customers_moved=len(orders),
        customers_emailed=len(emailed),
    )


@retrying_atomic
def restock_set(
    *,
    variants: Sequence[Variant] = (),
    products: Sequence[Product] = (),
    restock_date: date,
    note: str = "",
    actor: Actor,
) -> RestockResult:
    """Set ``restock_date`` (and, when given, the restock ``note`` customers read) on every one
    of ``variants``, or on every one of ``products``, in one transaction through
    ``variants_set_policy``/``products_set_policy``: each moved ETA audited, the customers
    emailed through the outbox per the shop's threshold, one email per order. All or nothing:
    a refused date (``PolicyRefused``) writes nothing.
    """
    changes = _changes(restock_date, note)
    if bool(variants) == bool(products):
        raise ValueError("Pass either variants or products (one of them, not empty).")
    if variants:
        moved = variants_set_policy(variants=variants, actor=actor, **changes)
        count = len({variant.pk for variant in variants})
    else:
        moved = products_set_policy(products=products, actor=actor, **changes)
        count = Variant.objects.filter(product_id__in=[product.pk for product in products]).count()
    orders = {backorder.order_id for backorder in moved}
    return RestockResult(
        variants=count,
        backorders_moved=len(moved),
        customers_moved=len(orders),
        emails_queued=eta_rows_queued(orders),  # this transaction's rows: read before it commits
    )
