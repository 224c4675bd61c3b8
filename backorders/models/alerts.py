"""Restock alerts ("notify me"): a customer asks to be emailed once an item they cannot order
now can be ordered again.

``RestockAlert`` is one sign-up of one address for one variant, double opt-in: it is
``pending`` until the customer presses the button behind the confirmation email's link, then
``confirmed`` (waiting for a wave), ``alerted`` once a wave planned its email, or ended
(``unsubscribed``, ``expired`` when never confirmed). At most one alert per (shop, variant,
address) is active (pending or confirmed) at a time: a database constraint.

``RestockAlertWave`` is the per-variant schedule of waves: when the next wave is due
(``due_at``, picked up by beat's sweeper, never a long Celery countdown) and when the last one
ran, so that waves are spaced by ``ALERT_WAVE_INTERVAL_SECONDS``.

``AlertSignupCounter`` counts one address's sign-ups per shop and hour, so that the
per-address limit holds across processes; it stores a keyed hash of the address, never the
address itself.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backorders.models.catalog import Variant
from backorders.models.shops import Shop


class RestockAlert(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        ALERTED = "alerted", _("Alerted")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        EXPIRED = "expired", _("Expired")

        @classmethod
        def active(cls) -> list[str]:
            """Statuses of an alert still to be confirmed or sent (one per address and variant)."""
            return [cls.PENDING, cls.CONFIRMED]

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="restock_alerts")
    variant = models.ForeignKey(
        Variant, on_delete=models.CASCADE, related_name="restock_alerts", verbose_name=_("variant")
    )
    # Stored lower-case (services.alerts normalises it); compared lower-case.
    email = models.EmailField(_("email"), max_length=254)
    language = models.CharField(_("language"), max_length=10, default="en")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("signed up at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    alerted_at = models.DateTimeField(_("alerted at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)
    # An unconfirmed sign-up ends here (ALERT_CONFIRM_EXPIRY_DAYS after it was made).
    expires_at = models.DateTimeField(_("expires at"))
    # When the last confirmation email was planned: signing up again re-sends it at most once
    # per ALERT_CONFIRM_RESEND_SECONDS.
    confirmation_sent_at = models.DateTimeField(_("confirmation sent at"), null=True, blank=True)
    # How many alert emails waves planned for it: part of each email's dedupe key, so that an
    # alert held back at send time (the item sold out again) can be sent by a later wave.
    alerts_planned = models.PositiveSmallIntegerField(_("alert emails planned"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("restock alert")
        verbose_name_plural = _("restock alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "variant", "email"],
                condition=Q(status__in=["pending", "confirmed"]),
                name="restock_alert_one_active",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="restock_alert_confirmed_has_confirmed_at",
            ),
        ]
        indexes = [
            # The wave's read: a variant's confirmed alerts, first confirmed first.
            models.Index(fields=["variant", "status", "confirmed_at"], name="restock_alert_wave_idx"),
            # Privacy requests and the per-address views.
            models.Index(fields=["shop", "email"], name="restock_alert_email_idx"),
            # The expiry sweep.
            models.Index(fields=["status", "expires_at"], name="restock_alert_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} · {self.variant_id} ({self.get_status_display()})"


class RestockAlertWave(models.Model):
    """The wave schedule of one variant: the next wave is due at ``due_at`` (None: nothing
    scheduled), and never sooner than ``ALERT_WAVE_INTERVAL_SECONDS`` after ``last_wave_at``."""

    variant = models.OneToOneField(
        Variant, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("variant")
    )
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(_("next wave due at"), null=True, blank=True)
    last_wave_at = models.DateTimeField(_("last wave at"), null=True, blank=True)
    waves = models.PositiveIntegerField(_("waves run"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("restock alert wave")
        verbose_name_plural = _("restock alert waves")
        indexes = [models.Index(fields=["due_at"], name="restock_wave_due_idx")]

    def __str__(self) -> str:
        return f"{self.variant_id}: due {self.due_at}"


class AlertSignupCounter(models.Model):
    """Sign-ups of one address (``email_hash``, keyed) at one shop in one hour (``window``)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    email_hash = models.CharField(_("address hash"), max_length=64)
    window = models.DateTimeField(_("hour"))
    count = models.PositiveIntegerField(_("sign-ups"), default=0)

    class Meta:
        verbose_name = _("sign-up counter")
        verbose_name_plural = _("sign-up counters")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "email_hash", "window"], name="alert_signup_counter_unique"
            ),
        ]
        indexes = [models.Index(fields=["window"], name="alert_counter_window_idx")]

    def __str__(self) -> str:
        return f"{self.email_hash[:8]}… @ {self.window}: {self.count}"
