"""Transactions that take row locks: bounded retries on deadlock and serialization failure."""

import functools
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, transaction
from django.db.models import QuerySet

from backorders.conf import get_setting
from backorders.models import Shop, Variant

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# PostgreSQL SQLSTATEs worth retrying: the transaction lost a race, not a bug.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def _is_retryable(exc: OperationalError) -> bool:
    sqlstate = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(exc)  # SQLite's busy timeout ran out


def retrying_atomic(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` in its own transaction, retried a bounded number of times on lost races.

    When called inside an outer transaction it cannot retry (the outer one is already doomed),
    so it just joins it and lets the error propagate to whoever owns the outermost transaction.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)
        attempts = get_setting("TRANSACTION_RETRIES")
        for attempt in range(1, attempts + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt == attempts or not _is_retryable(exc):
                    raise
                logger.warning("retrying %s after %s (attempt %d)", func.__name__, exc, attempt)
                time.sleep(random.uniform(0, 0.02 * attempt))  # jitter, so that racing retries spread out
        raise AssertionError("unreachable")

    return wrapper


def variants_lock(variant_ids: Iterable[int], *, shop: Shop | None = None) -> dict[int, Variant]:
    """Lock the variants in primary-key order (so two transactions never deadlock on them).

    The house lock order: a location being created (or taken over, ``location_get_or_create``)
    comes before any variant lock, since its unique key is held until commit; then the variants,
    in primary-key order; then the product, the order, then backorders. Every service that
    changes stock, an order, a product or a backorder follows it. With ``shop``, variants of
    other shops are left out (the caller compares what it asked for with what it got).
    """
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    locked: QuerySet[Variant] = (
        Variant.objects.select_for_update(of=("self",))
        .select_related("product", "shop")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if shop is not None:
        locked = locked.filter(shop=shop)
    return {variant.pk: variant for variant in locked}
