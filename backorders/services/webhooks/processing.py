"""Processing: claiming a delivery, running its topic's handler, retrying, sweeping, pruning."""

import logging
from datetime import datetime, timedelta

from django.db import DataError, transaction
from django.db.models import F, Q
from django.utils import timezone

from backorders.conf import get_setting
from backorders.models import PendingInventory, WebhookDelivery
from backorders.services.webhooks.bodies import BodyTooDeep, body_load
from backorders.services.webhooks.pending import pending_inventory_sweep
from backorders.services.webhooks.receiving import _enqueue
from backorders.services.webhooks.registry import DeliveryRejected, platform_for_topic

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status


class DeliveryRetry(Exception):
    """A processing attempt failed; the delivery is back to ``received`` and will be retried."""


# Errors that the same body raises on every attempt: the delivery is ``rejected`` at once with the
# error, never retried. ``ValueError`` covers ``DeliveryRejected`` (a platform's payload error: a
# field out of bounds, named), ``UnicodeError`` and the services' refusals of a value; ``DataError`` is a
# value no column holds that slipped past the payload layer; ``RecursionError`` and
# ``ArithmeticError`` (overflow, decimal) come from the value too. Everything else (database
# outages, lock timeouts, deadlocks, a lost connection, ``NotYetKnown``, a bug fixed by the next
# deploy) may pass on a later attempt and is retried up to WEBHOOK_MAX_ATTEMPTS.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (ValueError, DataError, RecursionError, ArithmeticError)


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the delivery for processing: received, or processing but abandoned (a worker died)."""
    abandoned = now - timedelta(seconds=get_setting("WEBHOOK_PROCESSING_TIMEOUT"))
    claimable = Q(status=Status.RECEIVED) | Q(
        status=Status.PROCESSING, claimed_at__lt=abandoned, attempts__lt=get_setting("WEBHOOK_MAX_ATTEMPTS")
    )
    return bool(
        WebhookDelivery.objects.filter(claimable, pk=delivery_id).update(
            status=Status.PROCESSING, attempts=F("attempts") + 1, claimed_at=now
        )
    )


def _finish(
    delivery: WebhookDelivery, claimed_at: datetime, status: str, error: str = "", **fields: object
) -> None:
    """Leave ``processing`` for ``status``, unless the claim was lost meanwhile (then the other
    claimant decides)."""
    done = status in (Status.PROCESSED, Status.REJECTED, Status.FAILED, Status.IGNORED)
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.PROCESSING, claimed_at=claimed_at).update(
        status=status,
        last_error=error,
        processed_at=timezone.now() if done else None,
        **fields,
    )


def webhook_delivery_process(*, delivery_id: int) -> str:
    """Process one stored delivery if it is waiting (else do nothing); return its new status.

    The topic's handler (of the platform that registered the topic, ``registry``) and the
    ``processed`` mark commit together; a topic no platform handles ends ``ignored``. A
    ``DeliveryRejected`` (or
    another of ``PERMANENT_ERRORS``) rolls the handler's writes back and marks the delivery
    ``rejected`` with its message, on the first attempt (retrying cannot help). Any other error
    puts it back to ``received`` and raises ``DeliveryRetry`` for the task to retry with backoff,
    until the WEBHOOK_MAX_ATTEMPTS-th attempt, which marks it ``failed`` with the error instead.
    """
    now = timezone.now()
    if not _claim(delivery_id, now):
        return "not claimable"
    delivery = WebhookDelivery.objects.select_related("shop").get(pk=delivery_id)
    try:
        with transaction.atomic():
            handled = _handle(delivery)
            _finish(delivery, now, Status.PROCESSED if handled else Status.IGNORED)
    except DeliveryRejected as exc:
        logger.warning("webhook delivery %s (%s) rejected: %s", delivery.pk, delivery.topic, exc)
        _finish(delivery, now, Status.REJECTED, _text(str(exc)) or "The payload is invalid for its topic.")
        return Status.REJECTED
    except PERMANENT_ERRORS as exc:
        # Not named by the payload layer: say what kind of value failed, for the owner.
        error = _text(f"A value in the payload cannot be stored or used ({type(exc).__name__}: {exc}).")
        logger.warning("webhook delivery %s (%s) rejected: %s", delivery.pk, delivery.topic, error)
        _finish(delivery, now, Status.REJECTED, error)
        return Status.REJECTED
    except Exception as exc:
        error = _text(f"{type(exc).__name__}: {exc}")
        if delivery.attempts >= get_setting("WEBHOOK_MAX_ATTEMPTS"):
            logger.exception("webhook delivery %s (%s) failed for good", delivery.pk, delivery.topic)
            _finish(delivery, now, Status.FAILED, error)
            return Status.FAILED
        logger.warning(
            "webhook delivery %s (%s) attempt %d failed, will retry: %s",
            delivery.pk,
            delivery.topic,
            delivery.attempts,
            error,
        )
        _finish(delivery, now, Status.RECEIVED, error, enqueued_at=timezone.now())
        raise DeliveryRetry(error) from exc
    return Status.PROCESSED if handled else Status.IGNORED


def _handle(delivery: WebhookDelivery) -> bool:
    """Run the topic's handler on the delivery's decoded body; False if no platform handles it."""
    platform = platform_for_topic(delivery.topic)
    if platform is None:
        return False
    try:
        payload = body_load(delivery.body)
    except BodyTooDeep as exc:
        raise DeliveryRejected(str(exc)) from None
    except ValueError:
        raise DeliveryRejected("The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise DeliveryRejected(f"The body must be a JSON object, not {_kind(payload)}.")
    platform.handlers[delivery.topic](delivery, payload)
    return True


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else "null"


def _text(message: str) -> str:
    """An error message as ``last_error`` can hold it (a DataError may quote a NUL or a lone
    surrogate from the value; a RecursionError's message is long)."""
    return message.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")[:2000]


@transaction.atomic
def webhook_delivery_retry(*, delivery: WebhookDelivery) -> bool:
    """Process a finished delivery again ("process again" in the admin), with a fresh set of
    attempts. Returns False (and does nothing) for a delivery that is still waiting or being
    processed. Safe on a processed one: every handler ignores data it already applied."""
    finished = [Status.PROCESSED, Status.FAILED, Status.REJECTED, Status.IGNORED]
    updated = WebhookDelivery.objects.filter(pk=delivery.pk, status__in=finished).update(
        status=Status.RECEIVED, attempts=0, claimed_at=None, processed_at=None, enqueued_at=timezone.now()
    )
    if updated:
        _enqueue([delivery.pk])
    return bool(updated)


@transaction.atomic
def webhook_deliveries_sweep() -> int:
    """Periodic pick-up (beat, every minute): enqueue deliveries still ``received`` a while after
    they were last enqueued (the broker was down, a task was lost) and those abandoned in
    ``processing`` (a worker died); an abandoned one that used up its attempts is marked failed.
    Also applies inventory facts whose product has arrived since. Returns how many it enqueued."""
    now = timezone.now()
    abandoned = now - timedelta(seconds=get_setting("WEBHOOK_PROCESSING_TIMEOUT"))
    max_attempts = get_setting("WEBHOOK_MAX_ATTEMPTS")
    WebhookDelivery.objects.filter(
        status=Status.PROCESSING, claimed_at__lt=abandoned, attempts__gte=max_attempts
    ).update(
        status=Status.FAILED,
        processed_at=now,
        last_error=f"Processing did not finish within {get_setting('WEBHOOK_PROCESSING_TIMEOUT')} s "
        f"on any of {max_attempts} attempts (did the worker stop?).",
    )
    waiting = Q(
        status=Status.RECEIVED, enqueued_at__lt=now - timedelta(seconds=get_setting("WEBHOOK_SWEEP_AFTER"))
    )
    stuck = Q(status=Status.PROCESSING, claimed_at__lt=abandoned)
    ids = list(
        WebhookDelivery.objects.filter(waiting | stuck)
        .order_by("enqueued_at", "pk")
        .values_list("pk", flat=True)[: get_setting("WEBHOOK_SWEEP_BATCH")]
    )
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids).update(enqueued_at=now)
        logger.info("webhook sweeper: enqueuing %d waiting deliveries", len(ids))
        _enqueue(ids, dispatcher=False)
    pending_inventory_sweep()
    return len(ids)


@transaction.atomic
def webhook_deliveries_prune() -> int:
    """Daily: delete processed and ignored deliveries received more than WEBHOOK_RETENTION_DAYS
    ago (far beyond the platform's redelivery window), failed and rejected ones received more
    than WEBHOOK_FAILED_RETENTION_DAYS ago, and inventory facts for items that never arrived.
    Deliveries still waiting or being processed always stay. Returns the number of deliveries
    deleted.

    Failed and rejected rows are deleted, not kept with a blanked body: their body is the only
    thing that would let them be processed again, their error may quote the payload, and a row
    without either tells the owner nothing the logs did not."""
    now = timezone.now()
    done = now - timedelta(days=get_setting("WEBHOOK_RETENTION_DAYS"))
    unprocessed = now - timedelta(days=get_setting("WEBHOOK_FAILED_RETENTION_DAYS"))
    deleted, _ = WebhookDelivery.objects.filter(
        Q(status__in=[Status.PROCESSED, Status.IGNORED], received_at__lt=done)
        | Q(status__in=[Status.FAILED, Status.REJECTED], received_at__lt=unprocessed)
    ).delete()
    PendingInventory.objects.filter(received_at__lt=done).delete()
    return deleted
