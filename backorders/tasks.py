"""Celery tasks: thin wrappers that import a service inside their body and call it."""

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval

from backorders.conf import get_setting
from backorders.mail import ProviderNotReached


@shared_task(acks_late=True)
def stock_reconcile_task() -> int:
    """Nightly: repair denormalised stock counters from their rows; returns the number repaired."""
    from backorders.services.reconcile import stock_reconcile

    return len(stock_reconcile())


# --- Customer emails (services.notifications) ---


def _email_retry_countdown(retries: int) -> float:
    """Seconds before the next attempt of an email: 2, 4, 8, … capped at 60 (the sweeper's pick-up
    delay), with full jitter so that retries after a provider outage spread out."""
    return get_exponential_backoff_interval(factor=2, retries=retries, maximum=60, full_jitter=True)


# The outbox row decides when to stop, as the delivery row does for webhooks: the service raises
# ``ProviderNotReached`` only when it has put the row back to "pending" for another attempt, and
# marks it "failed" (returning normally) at the EMAIL_MAX_ATTEMPTS-th attempt. Every raising run
# used one attempt, so the task's own limit (that same number, read at run time) is never reached.
@shared_task(bind=True, acks_late=True)
def notification_send_task(self: Task, notification_id: int) -> str:
    """Send one outbox email at most once; retried with backoff only when the provider provably
    was not reached (the row is claimed before the provider is called)."""
    from backorders.services.notifications.outbox import notification_send

    try:
        return notification_send(notification_id=notification_id)
    except ProviderNotReached as exc:
        raise self.retry(
            exc=exc,
            countdown=_email_retry_countdown(self.request.retries),
            max_retries=get_setting("EMAIL_MAX_ATTEMPTS"),
        ) from exc


@shared_task(acks_late=True)
def notifications_send_task(notification_ids: list[int]) -> dict[str, int]:
    """Send several outbox emails in turn, each at most once. One the provider did not take
    (unreachable, 429, 5xx) is back to pending: the sweeper sends it again (the row decides)."""
    from backorders.services.notifications.outbox import notifications_send

    return notifications_send(notification_ids=notification_ids)


@shared_task(acks_late=True)
def notifications_sweep_task() -> dict[str, int]:
    """Every minute: enqueue emails left pending (broker down, lost task, follow-up now due) and
    mark emails stuck in "sending" as unknown."""
    from backorders.services.notifications.outbox import notifications_sweep

    return notifications_sweep()


@shared_task(acks_late=True)
def owner_digests_task() -> int:
    """Daily: plan each active shop's owner digest; returns how many were planned."""
    from backorders.services.notifications import owner_digests_plan

    return len(owner_digests_plan())


# --- Platform webhooks (services.webhooks, platforms.shopify) ---


# The delivery row decides when to stop (WEBHOOK_MAX_ATTEMPTS marks it failed): the service
# raises only when the row is back to "received" for another attempt, or when the database
# failed before the row was claimed. Both are safe to retry: the claim is one conditional UPDATE.
# Backoff: 2, 4, 8, … s capped at 60 s (never longer than the sweeper's pick-up delay).
@shared_task(
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=8,
)
def webhook_delivery_process_task(delivery_id: int) -> str:
    """Process one stored webhook delivery (claimed first, so never twice at the same time)."""
    from backorders.services.webhooks import webhook_delivery_process

    return webhook_delivery_process(delivery_id=delivery_id)


@shared_task(acks_late=True)
def webhook_deliveries_dispatch_task(delivery_ids: list[int]) -> int:
    """Fan a batch of new deliveries (one message from a web process) out to one task each."""
    from backorders.services.webhooks import webhook_deliveries_enqueue

    return webhook_deliveries_enqueue(delivery_ids=delivery_ids)


@shared_task(acks_late=True)
def webhook_deliveries_sweep_task() -> int:
    """Every minute: enqueue deliveries left waiting (broker down, lost task, dead worker)."""
    from backorders.services.webhooks import webhook_deliveries_sweep

    return webhook_deliveries_sweep()


@shared_task(acks_late=True)
def webhook_deliveries_prune_task() -> int:
    """Daily: delete finished deliveries past their retention (``webhook_deliveries_prune``)."""
    from backorders.services.webhooks import webhook_deliveries_prune

    return webhook_deliveries_prune()


# --- Restock alerts (services.alerts) ---


# A wave is one transaction under the variant's lock; a lost race (deadlock) is retried inside
# the service. Running it twice is harmless: the second run finds no wave due.
@shared_task(acks_late=True)
def alert_waves_run_task(variant_id: int) -> int:
    """Run the variant's due restock-alert wave; returns how many alert emails it planned."""
    from backorders.services.alerts import alert_waves_run

    return alert_waves_run(variant_id=variant_id)


@shared_task(acks_late=True)
def alert_waves_sweep_task() -> int:
    """Every minute: enqueue the restock-alert waves that are due (later waves, lost tasks)."""
    from backorders.services.alerts import alert_waves_sweep

    return alert_waves_sweep()


@shared_task(acks_late=True)
def alerts_expire_task() -> int:
    """Hourly: expire unconfirmed restock-alert sign-ups; returns how many expired."""
    from backorders.services.alerts import alerts_expire

    return alerts_expire()


# --- Alternatives (services.alternatives) ---


@shared_task(acks_late=True)
def alternatives_compute_task(shop_id: int, product_ids: list[int] | None = None) -> int:
    """Recompute a shop's ranked alternatives: all of them (None), or those ``product_ids`` and
    their neighbours need after a catalog change; returns the rows written. Running it twice
    writes the same lists again (each chunk is replaced whole)."""
    from backorders.services.alternatives import alternatives_refresh

    return alternatives_refresh(shop_id=shop_id, product_ids=product_ids)


@shared_task(acks_late=True)
def alternatives_nightly_task() -> int:
    """Nightly: enqueue one ``alternatives_compute_task`` per active shop; returns how many."""
    from backorders.services.alternatives import alternatives_nightly_enqueue

    return alternatives_nightly_enqueue()


# --- Supply and ETAs (services.eta, services.purchasing) ---


# A lost race (deadlock) is retried inside the service; running it twice writes nothing the
# second time (only changed ETAs are written, and the emails are de-duplicated by their rows).
@shared_task(acks_late=True)
def etas_refresh_task(variant_ids: list[int]) -> int:
    """Recompute the ETAs of the waiting customers of ``variant_ids``; returns how many moved."""
    from backorders.services.audit import Actor
    from backorders.services.eta import etas_refresh

    return etas_refresh(variant_ids=variant_ids, actor=Actor.system("ETA recomputation"))
