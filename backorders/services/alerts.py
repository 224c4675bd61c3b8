"""Restock alerts ("notify me"): sign-up with double opt-in, and the waves that email them.

Life of an alert (``models.RestockAlert``)::

    sign-up ──> pending ──(the customer presses "confirm")──> confirmed ──(a wave)──> alerted
                   │                                              │
                   └─(ALERT_CONFIRM_EXPIRY_DAYS)─> expired         └─(unsubscribe)─> unsubscribed

* ``alert_signup`` accepts a sign-up only for a variant that cannot be ordered now
  (``AvailabilityState.OUT_OF_STOCK``: not backorderable, or over its backorder limit), from a
  valid address the shop may email, within the per-address limit; it plans the confirmation
  email (outbox, sent after commit). Signing up again while an alert is active returns it.
* ``alert_confirm`` is what the confirmation page's button (a POST, never the GET a mail
  scanner follows) calls.
* Waves: when a variant becomes orderable again, the service that changed it (stock, policy)
  calls ``alert_waves_schedule`` under the variant's lock; it marks the variant's wave due
  (``models.RestockAlertWave``) and enqueues ``alert_waves_run`` after commit. A wave locks the
  variant, re-checks what can be ordered, and picks the confirmed alerts first come first served
  by confirmation time, at most ``orderable units × ALERT_RATIO``; it marks them alerted in the
  same transaction as their outbox rows (one per alert, unique dedupe key). When alerts remain,
  the next wave is due ``ALERT_WAVE_INTERVAL_SECONDS`` later and goes out only if units remain
  then. Beat's sweeper (``alert_waves_sweep``) runs the waves that are due, so nothing depends
  on a long Celery countdown.
* Exactly once: the wave runs under the variant's row lock and only when its schedule is due,
  and it moves its alerts out of ``confirmed`` before commit: a second or concurrent run finds
  nothing to do. Each email's dedupe key names its alert (and the alert's count of planned
  emails), unique per shop, kind and recipient.
* Before an alert email leaves, the outbox asks ``alert_notification_refresh``: an item that can
  no longer be ordered holds the alert back (confirmed again, first in line for the next wave)
  and supersedes the email; an alert unsubscribed meanwhile supersedes it too.
"""

import logging
import math
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext as _

from backorders.conf import get_setting
from backorders.models import (
    AlertSignupCounter,
    Notification,
    Product,
    RestockAlert,
    RestockAlertWave,
    Shop,
    Suppression,
    Variant,
)
from backorders.selectors.availability import (
    AvailabilityState,
    Policy,
    availability_state,
    backorder_room,
    free_stock,
    policy_resolve,
)
from backorders.selectors.suppressions import address_suppressed, suppression_exists
from backorders.services.locking import retrying_atomic, variants_lock
from backorders.services.notifications.batch import Batch
from backorders.services.notifications.planning import notification_language

logger = logging.getLogger(__name__)

Status = RestockAlert.Status
Kind = Notification.Kind

EMAIL_MAX_LENGTH = 254


class AlertRefused(ValidationError):
    """A sign-up that is not accepted (the item can be ordered now, the address is invalid or
    cannot be emailed); the message says what to do. Nothing was written."""


class AlertRateLimited(Exception):
    """Too many sign-ups from one address: try again in ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class AlertStateError(ValidationError):
    """The alert cannot take this step (e.g. confirming an expired or unsubscribed sign-up)."""


# --- What can be ordered --------------------------------------------------------------------


def variant_orderable(variant: Variant, policy: Policy | None = None) -> bool:
    """Whether a customer can order ``variant`` now (from stock or as a backorder within its
    limit). Expects ``product`` and ``shop`` loaded; no query."""
    state = availability_state(variant, policy)
    return state not in (AvailabilityState.OUT_OF_STOCK, AvailabilityState.DISCONTINUED)


def orderable_units(variant: Variant, policy: Policy | None = None) -> int | None:
    """Units a customer can order now: free stock plus the backorder room when it is limited;
    None when there is no limit (backorderable without one, or stock not tracked)."""
    policy = policy or policy_resolve(variant)
    if not variant_orderable(variant, policy):
        return 0
    if not policy.tracked:
        return None
    room = backorder_room(variant, policy)
    return None if room is None else free_stock(variant) + room


def wave_size(units: int | None) -> int:
    """Alerts a wave may plan for ``units`` orderable units: ``units × ALERT_RATIO`` rounded
    down (every alert when ``units`` is None), never more than ``ALERT_WAVE_MAX``."""
    most = get_setting("ALERT_WAVE_MAX")
    if units is None:
        return most
    ratio = Decimal(str(get_setting("ALERT_RATIO")))
    return max(0, min(most, math.floor(units * ratio)))


def _alert_context(variant: Variant) -> dict[str, str]:
    """What an alert email says about its item, frozen when it is planned."""
    product = variant.product
    return {
        "item": str(variant),
        "product_title": product.title,
        "sku": variant.sku,
        "product_url": variant.shop.product_url(product.handle),
    }


# --- Sign-up --------------------------------------------------------------------------------


def email_normalise(email: str) -> str:
    """``email`` stripped and lower-case, or ``AlertRefused`` when it is not a valid address."""
    if not isinstance(email, str):
        raise AlertRefused(_("Enter your email address."), code="email")
    email = email.strip().lower()
    if not email:
        raise AlertRefused(_("Enter your email address."), code="email")
    if len(email) > EMAIL_MAX_LENGTH:
        raise AlertRefused(
            _("This email address is too long (at most %(n)d characters).") % {"n": EMAIL_MAX_LENGTH},
            code="email",
        )
    try:
        validate_email(email)
    except ValidationError:
        raise AlertRefused(
            _("Enter a valid email address, such as name@example.com."), code="email"
        ) from None
    return email


def _language(language: str, shop: Shop) -> str:
    code = (language or "").strip().replace("_", "-")[:10] if isinstance(language, str) else ""
    if code:
        try:
            return get_supported_language_variant(code)
        except LookupError:
            pass
    return notification_language(order=None, shop=shop)


def _refusal(variant: Variant) -> str:
    """Why ``variant`` takes no sign-up ("" when it does)."""
    if not variant.shop.is_active:
        return _("This shop does not take restock alerts at the moment.")
    if variant.product.status == Product.Status.DRAFT:
        return _("This item is not on sale, so it cannot have a restock alert.")
    state = availability_state(variant)
    if state == AvailabilityState.DISCONTINUED:
        return _(
            "%(item)s is discontinued and will not come back, so there is nothing to alert you about."
        ) % {"item": variant}
    if state != AvailabilityState.OUT_OF_STOCK:
        return _("%(item)s can be ordered now: no need for an alert, you can order it right away.") % {
            "item": variant
        }
    return ""


def signup_hash(shop: Shop, email: str) -> str:
    """The keyed hash an address's sign-up counts are stored under (``email`` normalised)."""
    return salted_hmac("backorders.alerts.signup", f"{shop.pk}:{email}", algorithm="sha256").hexdigest()


def _count_signup(shop: Shop, email: str, now: datetime) -> None:
    """Count one sign-up of ``email`` at ``shop`` in this hour, or raise ``AlertRateLimited``.
    One conditional UPDATE on a per-(shop, address, hour) row: exact across processes."""
    limit = get_setting("ALERT_SIGNUPS_PER_EMAIL_PER_HOUR")
    window = now.replace(minute=0, second=0, microsecond=0)
    email_hash = signup_hash(shop, email)
    AlertSignupCounter.objects.bulk_create(
        [AlertSignupCounter(shop=shop, email_hash=email_hash, window=window, count=0)], ignore_conflicts=True
    )
    counted = AlertSignupCounter.objects.filter(
        shop=shop, email_hash=email_hash, window=window, count__lt=limit
    ).update(count=F("count") + 1)
    if not counted:
        retry_after = max(1, math.ceil((window + timedelta(hours=1) - now).total_seconds()))
        raise AlertRateLimited(
            _("Too many sign-ups for this email address. Please try again in %(minutes)d minutes.")
            % {"minutes": math.ceil(retry_after / 60)},
            retry_after=retry_after,
        )


def _confirmation_plan(alert: RestockAlert, variant: Variant, now: datetime) -> Notification:
    """The confirmation email's outbox row (enqueued after commit)."""
    row = Notification.objects.create(
        shop=alert.shop,
        kind=Kind.ALERT_CONFIRM,
        recipient=alert.email,
        alert=alert,
        language=alert.language,
        context={
            **_alert_context(variant),
            "expiry_days": get_setting("ALERT_CONFIRM_EXPIRY_DAYS"),
        },
        dedupe_key=f"alert {alert.pk} · confirmation {now.isoformat()}",
        due_at=now,
    )
    alert.confirmation_sent_at = now
    RestockAlert.objects.filter(pk=alert.pk).update(confirmation_sent_at=now, updated_at=now)
    Batch.current().add({(None, f"{Kind.ALERT_CONFIRM}-{row.pk}"): row})
    return row


def alert_signup(*, variant: Variant, email: str, language: str = "") -> RestockAlert:
    """Sign ``email`` up for an alert when ``variant`` can be ordered again (double opt-in).

    Refused with ``AlertRefused`` (nothing written) when the variant can be ordered now, is
    discontinued or not on sale, when the address is invalid, or when the shop must not email
    it (bounced, complained, refused). ``AlertRateLimited`` when the address signed up
    ``ALERT_SIGNUPS_PER_EMAIL_PER_HOUR`` times at this shop within the hour. Signing up again
    while an alert is active returns that alert: a pending one gets its confirmation email
    again, at most once per ``ALERT_CONFIRM_RESEND_SECONDS``. Otherwise creates a pending alert
    and plans its confirmation email (sent after commit). ``language`` is the customer's (else
    the shop's).
    """
    email = email_normalise(email)
    variant = Variant.objects.select_related("product", "shop").get(pk=variant.pk)
    shop = variant.shop
    if refusal := _refusal(variant):
        raise AlertRefused(refusal, code="orderable")
    if address_suppressed(shop_id=shop.pk, email=email, kind=Kind.ALERT_CONFIRM):
        raise AlertRefused(
            _(
                "We cannot send email to this address (earlier emails to it bounced or were refused). "
                "Please use another address."
            ),
            code="suppressed",
        )
    return _signup(variant=variant, shop=shop, email=email, language=_language(language, shop))


@transaction.atomic
def _signup(*, variant: Variant, shop: Shop, email: str, language: str) -> RestockAlert:
    now = timezone.now()
    _count_signup(shop, email, now)
    active = RestockAlert.objects.select_for_update().filter(
        shop=shop, variant=variant, email=email, status__in=Status.active()
    )
    existing = active.first()
    if existing is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent identical sign-up may win
                alert = RestockAlert.objects.create(
                    shop=shop,
                    variant=variant,
                    email=email,
                    language=language,
                    created_at=now,
                    expires_at=now + timedelta(days=get_setting("ALERT_CONFIRM_EXPIRY_DAYS")),
                )
        except IntegrityError:
            existing = active.get()
        else:
            _confirmation_plan(alert, variant, now)
            return alert
    resend_after = timedelta(seconds=get_setting("ALERT_CONFIRM_RESEND_SECONDS"))
    if existing.status == Status.PENDING and (
        existing.confirmation_sent_at is None or existing.confirmation_sent_at <= now - resend_after
    ):
        _confirmation_plan(existing, variant, now)
    return existing


# --- Confirming, unsubscribing, expiring -------------------------------------------------------


@retrying_atomic
def alert_confirm(*, alert: RestockAlert) -> RestockAlert:
    """Confirm a pending alert (the customer pressed the button behind the confirmation link).

    Confirming twice changes nothing. Raises ``AlertStateError`` for an alert that expired (or
    whose confirmation window passed) or was unsubscribed: the customer signs up again. An
    alert confirmed while its item can already be ordered again is due in the next wave.
    """
    variant = variants_lock([alert.variant_id]).get(alert.variant_id)
    alert = RestockAlert.objects.select_for_update().get(pk=alert.pk)
    now = timezone.now()
    if alert.status in (Status.CONFIRMED, Status.ALERTED):
        return alert
    if alert.status != Status.PENDING or alert.expires_at <= now:
        raise AlertStateError(
            _("This sign-up has expired or was cancelled. Please sign up again on the product page."),
            code="expired",
        )
    alert.status, alert.confirmed_at = Status.CONFIRMED, now
    alert.save(update_fields=["status", "confirmed_at", "updated_at"])
    if variant is not None:
        alert_waves_schedule(variant=variant)
    return alert


@transaction.atomic
def alert_unsubscribe(*, alert: RestockAlert, all_for_address: bool = False) -> RestockAlert:
    """Stop ``alert`` (pending, confirmed, or alerted: it will email nothing more); with
    ``all_for_address``, every active alert of the same address at the same shop too. An
    email of it not sent yet is superseded when its turn comes (``alert_notification_refresh``).
    Unsubscribing twice changes nothing."""
    alert = RestockAlert.objects.select_for_update().get(pk=alert.pk)
    now = timezone.now()
    if alert.status in (*Status.active(), Status.ALERTED):
        alert.status, alert.unsubscribed_at = Status.UNSUBSCRIBED, now
        alert.save(update_fields=["status", "unsubscribed_at", "updated_at"])
    if all_for_address:
        RestockAlert.objects.filter(
            shop_id=alert.shop_id, email=alert.email, status__in=Status.active()
        ).update(status=Status.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now)
    return alert


def alerts_expire(*, now: datetime | None = None) -> int:
    """Expire sign-ups still unconfirmed past their ``expires_at`` (``ALERT_CONFIRM_EXPIRY_DAYS``
    after they were made), and forget sign-up counts of past hours. Returns how many expired."""
    now = now or timezone.now()
    expired = RestockAlert.objects.filter(status=Status.PENDING, expires_at__lte=now).update(
        status=Status.EXPIRED, updated_at=now
    )
    AlertSignupCounter.objects.filter(window__lt=now - timedelta(hours=2)).delete()
    if expired:
        logger.info("restock alerts: %d unconfirmed sign-ups expired", expired)
    return expired


# --- Waves ---------------------------------------------------------------------------------


def _enqueue_wave(variant_id: int) -> None:
    from backorders.tasks import alert_waves_run_task

    try:
        alert_waves_run_task.delay(variant_id)
    except Exception:  # the broker is down: beat's sweeper runs the due wave
        logger.warning("could not enqueue the alert wave of variant %s; the sweeper will", variant_id)


def _wave_due(*, variant: Variant, now: datetime) -> RestockAlertWave:
    """Mark ``variant``'s next wave due as soon as the interval since the last one allows (the
    caller holds the variant's lock), enqueued after commit when that is now."""
    RestockAlertWave.objects.bulk_create(
        [RestockAlertWave(variant_id=variant.pk, shop_id=variant.shop_id)], ignore_conflicts=True
    )
    wave = RestockAlertWave.objects.select_for_update().get(variant_id=variant.pk)
    earliest = now
    if wave.last_wave_at is not None:
        earliest = max(now, wave.last_wave_at + timedelta(seconds=get_setting("ALERT_WAVE_INTERVAL_SECONDS")))
    if wave.due_at is None or wave.due_at > earliest:
        wave.due_at = earliest
        wave.save(update_fields=["due_at", "updated_at"])
    if wave.due_at <= now:
        transaction.on_commit(partial(_enqueue_wave, variant.pk), robust=True)
    return wave


def alert_waves_schedule(*, variant: Variant, was_orderable: bool = False) -> bool:
    """Plan a wave for ``variant`` if it can be ordered now (and could not before the change,
    ``was_orderable``) and confirmed alerts wait for it. Called by the services that change
    stock or policy, inside their transaction with the variant locked and ``product`` and
    ``shop`` loaded. No query unless the variant just became orderable. Returns whether a wave
    is scheduled."""
    if was_orderable or not variant_orderable(variant):
        return False
    if not RestockAlert.objects.filter(variant_id=variant.pk, status=Status.CONFIRMED).exists():
        return False
    _wave_due(variant=variant, now=timezone.now())
    return True


@retrying_atomic
def alert_waves_run(*, variant_id: int) -> int:
    """Run ``variant_id``'s due wave: returns how many alert emails it planned (0 when no wave
    is due, e.g. the task ran twice, or the item cannot be ordered any more).

    Under the variant's lock: re-check what can be ordered, pick the confirmed alerts first
    come first served by confirmation time (addresses the shop must not email left out), at
    most ``orderable units × ALERT_RATIO`` of them, mark them alerted and write their outbox
    rows in this transaction (sent after commit). If alerts remain, the next wave is due
    ``ALERT_WAVE_INTERVAL_SECONDS`` later and goes out only if units remain then (at once when
    the backorder room is unlimited and only ``ALERT_WAVE_MAX`` held the rest back). A constant
    number of statements whatever the number of alerts: lock, read, one update of the alerts,
    one insert of the emails, the schedule.
    """
    variant = variants_lock([variant_id]).get(variant_id)
    wave = RestockAlertWave.objects.select_for_update().filter(variant_id=variant_id).first()
    now = timezone.now()
    if variant is None or wave is None or wave.due_at is None or wave.due_at > now:
        return 0
    policy = policy_resolve(variant)
    units = orderable_units(variant, policy)
    size = wave_size(units)
    if size == 0:
        wave.due_at = None  # nothing can be ordered: the next rise schedules a wave again
        wave.save(update_fields=["due_at", "updated_at"])
        return 0
    blocked = suppression_exists(
        shop="shop", email="email", reasons=Suppression.Reason.blocking(Kind.RESTOCK_ALERT)
    )
    confirmed = RestockAlert.objects.filter(variant_id=variant_id, status=Status.CONFIRMED)
    picked = list(
        confirmed.exclude(blocked)
        .order_by("confirmed_at", "pk")
        .select_for_update(of=("self",))
        .only("pk", "email", "language", "alerts_planned")[: size + 1]
    )
    more = len(picked) > size
    picked = picked[:size]
    if picked:
        RestockAlert.objects.filter(pk__in=[alert.pk for alert in picked]).update(
            status=Status.ALERTED, alerted_at=now, alerts_planned=F("alerts_planned") + 1, updated_at=now
        )
        context = _alert_context(variant)
        rows = Notification.objects.bulk_create(
            [
                Notification(
                    shop_id=variant.shop_id,
                    kind=Kind.RESTOCK_ALERT,
                    recipient=alert.email,
                    alert_id=alert.pk,
                    language=alert.language,
                    context=context,
                    dedupe_key=f"restock alert {alert.pk} · {alert.alerts_planned + 1}",
                    due_at=now,
                    created_at=now,
                    updated_at=now,
                )
                for alert in picked
            ]
        )
        Batch.current().add({(None, f"{Kind.RESTOCK_ALERT}-{row.pk}"): row for row in rows})
    wave.last_wave_at, wave.waves = now, wave.waves + 1
    if not more:
        wave.due_at = None
    elif units is None:  # every alert may go: only ALERT_WAVE_MAX held the rest back
        wave.due_at = now
        transaction.on_commit(partial(_enqueue_wave, variant_id), robust=True)
    else:
        wave.due_at = now + timedelta(seconds=get_setting("ALERT_WAVE_INTERVAL_SECONDS"))
    wave.save(update_fields=["due_at", "last_wave_at", "waves", "updated_at"])
    logger.info(
        "restock alerts: variant %s wave planned %d alerts (units %s)", variant_id, len(picked), units
    )
    return len(picked)


def alert_waves_sweep(*, now: datetime | None = None) -> int:
    """Beat's safety net (every minute): enqueue every wave that is due (a later wave of a
    variant, or one whose task was lost); returns how many were enqueued."""
    now = now or timezone.now()
    due = list(
        RestockAlertWave.objects.filter(due_at__lte=now)
        .order_by("due_at")
        .values_list("variant_id", flat=True)[: get_setting("EMAIL_SWEEP_BATCH")]
    )
    from backorders.tasks import alert_waves_run_task

    enqueued = 0
    for variant_id in due:
        try:
            alert_waves_run_task.delay(variant_id)
        except Exception:  # the broker is down: the next sweep tries again
            logger.warning("could not enqueue alert waves; the next sweep will", exc_info=True)
            break
        enqueued += 1
    return enqueued


# --- Checked before sending (services.notifications.outbox) ---------------------------------


def alert_notification_refresh(notification: Notification) -> str:
    """Why an alert email (a claimed outbox row of ``Kind.about_alerts()``) must not leave now
    ("" when it may). A confirmation is sent only while its alert is pending; a restock alert
    only while its alert is alerted and its item can still be ordered. When the item cannot be
    ordered any more, the alert is held for the next wave: confirmed again (it keeps its place,
    its confirmation time), and the email is superseded. One read, one update when held."""
    alert = (
        RestockAlert.objects.select_related("variant__product", "variant__shop")
        .filter(pk=notification.alert_id or 0)
        .first()
    )
    if alert is None:
        return "Superseded before it was sent: the restock alert was erased."
    wanted = Status.PENDING if notification.kind == Kind.ALERT_CONFIRM else Status.ALERTED
    if alert.status != wanted:
        return (
            f"Superseded before it was sent: the restock alert is {alert.get_status_display().lower()} now."
        )
    if notification.kind == Kind.RESTOCK_ALERT and not variant_orderable(alert.variant):
        RestockAlert.objects.filter(pk=alert.pk, status=Status.ALERTED).update(
            status=Status.CONFIRMED, alerted_at=None, updated_at=timezone.now()
        )
        return (
            f"Held for the next wave: {alert.variant} could no longer be ordered when this email was "
            "due; the alert is confirmed again and keeps its place."
        )
    return ""


__all__ = [
    "AlertRateLimited",
    "AlertRefused",
    "AlertStateError",
    "alert_confirm",
    "alert_notification_refresh",
    "alert_signup",
    "alert_unsubscribe",
    "alert_waves_run",
    "alert_waves_schedule",
    "alert_waves_sweep",
    "alerts_expire",
    "email_normalise",
    "orderable_units",
    "signup_hash",
    "variant_orderable",
    "wave_size",
]
