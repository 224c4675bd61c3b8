"""Celery tasks: thin wrappers that import a service inside their body and call it."""

from celery import shared_task


@shared_task(acks_late=True)
def stock_reconcile_task() -> int:
    """Nightly: repair denormalised stock counters from their rows; returns the number repaired."""
    from backorders.services.reconcile import stock_reconcile

    return len(stock_reconcile())
