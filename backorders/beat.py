"""The app's periodic work, for the host project's Celery beat.

Sweepers are the app's safety net: a task whose broker publish was lost, or a worker that died,
is only ever picked up again by them. A host project merges the schedule into its own::

    from backorders.beat import beat_schedule

    CELERY_BEAT_SCHEDULE = {**beat_schedule(), "my-own-task": {...}}

A system check (``backorders.W002``) warns when one of these tasks is missing from beat's schedule.
"""

from typing import Any

from celery.schedules import crontab


def beat_schedule() -> dict[str, dict[str, Any]]:
    """A fresh copy of the app's beat entries (name -> ``{"task": …, "schedule": …}``): change or
    extend it freely. Minute sweeps; daily jobs at quiet hours in ``CELERY_TIMEZONE``."""
    return {
        # Nightly: repair denormalised stock counters from their rows.
        "backorders-stock-reconcile": {
            "task": "backorders.tasks.stock_reconcile_task",
            "schedule": crontab(hour=3, minute=17),
        },
        # Deliveries left waiting (broker down, lost task, dead worker), and inventory facts whose
        # product has arrived since.
        "backorders-webhook-sweep": {
            "task": "backorders.tasks.webhook_deliveries_sweep_task",
            "schedule": 60.0,
        },
        # Processed deliveries past WEBHOOK_RETENTION_DAYS.
        "backorders-webhook-prune": {
            "task": "backorders.tasks.webhook_deliveries_prune_task",
            "schedule": crontab(hour=4, minute=7),
        },
        # Customer emails: send what is left pending (broker down, lost task, follow-ups now due)
        # and mark emails stuck in "sending" as unknown.
        "backorders-notifications-sweep": {
            "task": "backorders.tasks.notifications_sweep_task",
            "schedule": 60.0,
        },
        # Restock alerts: waves that are due (a variant's later wave, a task lost to the broker).
        "backorders-alert-waves-sweep": {
            "task": "backorders.tasks.alert_waves_sweep_task",
            "schedule": 60.0,
        },
        # Restock alerts: unconfirmed sign-ups past ALERT_CONFIRM_EXPIRY_DAYS expire.
        "backorders-alerts-expire": {
            "task": "backorders.tasks.alerts_expire_task",
            "schedule": crontab(minute=23),
        },
        # Every active shop's ranked alternatives, rebuilt from the whole catalog (catalog changes
        # recompute their neighbourhood at once; this repairs what a lost task missed).
        "backorders-alternatives-nightly": {
            "task": "backorders.tasks.alternatives_nightly_task",
            "schedule": crontab(hour=2, minute=41),
        },
        # The owner's daily digest (new backorders, overdue ETAs, flagged lines, failed deliveries).
        "backorders-owner-digests": {
            "task": "backorders.tasks.owner_digests_task",
            "schedule": crontab(hour=6, minute=30),
        },
    }


def periodic_task_names() -> frozenset[str]:
    """The names of the tasks beat must run for the app to keep its promises."""
    return frozenset(entry["task"] for entry in beat_schedule().values())
