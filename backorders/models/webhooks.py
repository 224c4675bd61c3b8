"""Platform webhooks as received, facts that arrived before the rows they belong to, and privacy
requests.

A ``WebhookDelivery`` is stored before the platform gets its answer; the database, not the broker,
is the record of what still has to be processed (see ``services.webhooks``).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backorders.models.shops import Shop


class WebhookDelivery(models.Model):
    """One signed delivery from the platform, unique per (shop, webhook id): a redelivery of the
    same id finds this row and changes nothing."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, waiting to be processed")
        PROCESSING = "processing", _("Processing")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed after every attempt")
        REJECTED = "rejected", _("Rejected: invalid payload")
        IGNORED = "ignored", _("Ignored: topic not handled")

        @classmethod
        def pending(cls) -> list[str]:
            return [cls.RECEIVED, cls.PROCESSING]

    # No index of its own: the unique (shop, webhook id) index serves every lookup by shop, and
    # each index costs the receiving INSERT that the platform waits for.
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="webhook_deliveries", db_index=False
    )
    topic = models.CharField(_("topic"), max_length=100)
    webhook_id = models.CharField(_("webhook id"), max_length=255)
    # Shared by every delivery one merchant action caused (across topics): recorded, never a key.
    event_id = models.CharField(_("event id"), max_length=255, blank=True)
    api_version = models.CharField(_("API version"), max_length=20, blank=True)
    triggered_at = models.DateTimeField(_("triggered at"), null=True, blank=True)
    # The raw body as received (UTF-8). Rewritten only by a privacy redaction.
    body = models.TextField(_("body"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    # When a processing task was last sent to the broker; the sweeper re-sends rows still
    # waiting a while after it (broker down, task lost).
    enqueued_at = models.DateTimeField(_("enqueued at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("processing since"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["shop", "webhook_id"], name="webhook_delivery_unique_per_shop"),
        ]
        indexes = [
            # The sweeper's scan: only the few rows still waiting are in it.
            models.Index(
                fields=["status", "enqueued_at"],
                condition=Q(status__in=["received", "processing"]),
                name="webhook_delivery_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.webhook_id}"


class PendingInventory(models.Model):
    """An inventory fact about an inventory item that no variant has yet (the inventory webhook
    arrived before the product's): applied, then deleted, when a product brings that item.

    A row with a location holds that location's available units; a row without one holds the
    item's ``tracked`` flag.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    inventory_item_id = models.BigIntegerField(_("inventory item id"))
    location_platform_id = models.BigIntegerField(_("location id"), null=True, blank=True)
    available = models.IntegerField(_("available"), null=True, blank=True)
    tracked = models.BooleanField(_("tracked"), null=True, blank=True)
    platform_updated_at = models.DateTimeField(_("updated on the platform"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("pending inventory fact")
        verbose_name_plural = _("pending inventory facts")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "inventory_item_id", "location_platform_id"],
                condition=Q(location_platform_id__isnull=False),
                name="pending_inventory_unique_level",
            ),
            models.UniqueConstraint(
                fields=["shop", "inventory_item_id"],
                condition=Q(location_platform_id__isnull=True),
                name="pending_inventory_unique_item",
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.inventory_item_id} @ {self.location_platform_id or '-'}"


class CustomerDataRequest(models.Model):
    """A platform's request for everything held about one customer, answered with ``export``
    (downloadable by the owner in the admin). Deleted by that customer's redaction."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_data_requests")
    platform_request_id = models.BigIntegerField(_("request id"), null=True, blank=True)
    customer_platform_id = models.BigIntegerField(_("customer id"), null=True, blank=True)
    customer_email = models.CharField(_("customer email"), max_length=254, blank=True)
    orders_requested = models.JSONField(_("orders requested"), default=list, blank=True)
    export = models.JSONField(_("export"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("customer data request")
        verbose_name_plural = _("customer data requests")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "platform_request_id"],
                condition=Q(platform_request_id__isnull=False),
                name="customer_data_request_unique_per_shop",
            ),
        ]

    def __str__(self) -> str:
        return f"data request {self.platform_request_id or self.pk}"
