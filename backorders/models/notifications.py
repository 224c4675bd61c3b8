"""The email outbox: every decision to email someone is a row, written with the change it is about.

``Notification`` is one message to one recipient. It is created in the transaction of the change
(so a rolled-back change never emails and a committed one is never forgotten), sent after commit
by a task that first claims it (pending → sending in its own commit), and later updated by the
provider's tracking webhooks. ``dedupe_key`` with its unique constraint makes "the same event,
the same recipient, the same kind" one row, whatever retries or redeliveries happen.
``Suppression`` lists addresses a shop must not email (hard bounces, complaints, refusals) or
must not send optional emails to (unsubscribed).
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backorders.models.alerts import RestockAlert
from backorders.models.orders import Backorder, Event, Order
from backorders.models.shops import Shop


class Notification(models.Model):
    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("Backorder confirmation")
        ETA_CHANGED = "eta_changed", _("ETA changed")
        READY = "ready", _("Ready to ship")
        SHIPPED = "shipped", _("Shipped")
        FOLLOWUP = "followup", _("Follow-up")
        CANCELLED = "cancelled", _("Cancelled")
        LINK = "link", _("Fresh self-service link")
        DIGEST = "digest", _("Owner digest")
        OWNER_CANCELLED = "owner_cancelled", _("Cancellation to settle (to the owner)")
        ALERT_CONFIRM = "alert_confirm", _("Restock alert: confirm the sign-up")
        RESTOCK_ALERT = "restock_alert", _("Restock alert: back in stock")

        @classmethod
        def about_alerts(cls) -> list[str]:
            """Kinds about a restock alert (``Notification.alert``), not about an order."""
            return [cls.ALERT_CONFIRM, cls.RESTOCK_ALERT]

        @classmethod
        def optional(cls) -> list[str]:
            """Kinds a customer may unsubscribe from (the rest are transactional)."""
            return [cls.FOLLOWUP]

        @classmethod
        def to_owner(cls) -> list[str]:
            """Kinds about an order that go to the shop owner, not to the order's customer."""
            return [cls.OWNER_CANCELLED]

        @classmethod
        def checked_before_sending(cls) -> list[str]:
            """Kinds whose facts can stop being true before they leave: planned again at send
            time, or superseded (services.notifications.outbox)."""
            return [cls.CONFIRMATION, cls.READY, cls.ETA_CHANGED, cls.ALERT_CONFIRM, cls.RESTOCK_ALERT]

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown: may have been sent, check before resending")
        SUPPRESSED = "suppressed", _("Suppressed")
        SUPERSEDED = "superseded", _("Superseded: no longer true, not sent")

        @classmethod
        def resendable(cls) -> list[str]:
            return [cls.FAILED, cls.UNKNOWN, cls.SUPPRESSED]

        @classmethod
        def may_have_left(cls) -> list[str]:
            """Statuses of a message that may have reached its recipient."""
            return [cls.SENDING, cls.SENT, cls.UNKNOWN]

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    recipient = models.EmailField(_("recipient"), max_length=254)
    # Null for the owner's digest and restock alerts; the customer's order otherwise.
    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("order"),
    )
    # The restock alert a message of ``Kind.about_alerts()`` is about (no order then). Kept when
    # the alert is erased (a privacy request), as the row's recipient and content are scrubbed.
    alert = models.ForeignKey(
        RestockAlert,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("restock alert"),
    )
    backorders: "models.ManyToManyField[Backorder, NotificationItem]" = models.ManyToManyField(
        Backorder, through="NotificationItem", related_name="notifications", blank=True
    )
    language = models.CharField(_("language"), max_length=10, default="en")
    # What the message says, frozen when the change happened (items, ETAs, tracking, who
    # cancelled): the email tells the event, not whatever the rows say when the worker gets to it.
    context = models.JSONField(_("content"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Identifies the event(s) this message is about; unique with shop, kind and recipient.
    dedupe_key = models.CharField(_("dedupe key"), max_length=255)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    # Not sent before this moment (a follow-up N days after shipping); the sweeper picks it up.
    due_at = models.DateTimeField(_("due at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    message_id = models.CharField(_("provider message id"), max_length=255, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # What the provider's tracking webhooks said last (an anymail event type).
    delivery_status = models.CharField(_("delivery"), max_length=16, blank=True)
    delivery_at = models.DateTimeField(_("delivery reported at"), null=True, blank=True)
    delivery_detail = models.CharField(_("delivery detail"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("email")
        verbose_name_plural = _("emails (outbox)")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "kind", "recipient", "dedupe_key"], name="notification_unique_dedupe"
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claimed_at__isnull=False),
                name="notification_sending_has_claimed_at",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="notification_status_due_idx"),
            models.Index(fields=["shop", "status"], name="notification_shop_status_idx"),
            models.Index(fields=["message_id"], name="notification_message_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"


class NotificationItem(models.Model):
    """One backorder a message is about: the change (audit event) it tells, and the ETA it tells
    (the customer's last known ETA is the one in their latest confirmation or ETA email)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="items")
    backorder = models.ForeignKey(Backorder, on_delete=models.CASCADE, related_name="+")
    # The audit event the message tells about: the same event is never told twice (per kind).
    event = models.ForeignKey(Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    eta = models.DateField(_("ETA told"), null=True, blank=True)

    class Meta:
        ordering = ["notification", "pk"]
        verbose_name = _("email item")
        verbose_name_plural = _("email items")
        constraints = [
            models.UniqueConstraint(fields=["notification", "backorder"], name="notification_item_unique"),
        ]
        indexes = [models.Index(fields=["backorder", "notification"], name="notification_item_bo_idx")]

    def __str__(self) -> str:
        return f"{self.notification_id} · {self.backorder_id}"


class Suppression(models.Model):
    """An address a shop does not email: at all (bounced, complained, refused) or, once the
    customer unsubscribed, only for optional kinds (``Notification.Kind.optional()``)."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Hard bounce")
        COMPLAINED = "complained", _("Spam complaint")
        REFUSED = "refused", _("Refused by the provider")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from optional emails")

        @classmethod
        def blocking(cls, kind: str) -> list[str]:
            """The reasons that stop an email of ``kind``."""
            reasons: list[str] = [cls.BOUNCED, cls.COMPLAINED, cls.REFUSED]
            if kind in Notification.Kind.optional():
                reasons.append(cls.UNSUBSCRIBED)
            return reasons

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="suppressions")
    # Stored lower-case; compared lower-case.
    email = models.EmailField(_("email"), max_length=254)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    notification = models.ForeignKey(
        Notification,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("caused by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        constraints = [
            models.UniqueConstraint(fields=["shop", "email", "reason"], name="suppression_unique_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_reason_display()})"
