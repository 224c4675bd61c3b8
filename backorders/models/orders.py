"""Orders as recorded by the checkout hook, the backorders they caused, and the audit trail."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from backorders.models.catalog import Variant, validate_http_url
from backorders.models.shops import Shop


class Order(models.Model):
    class Source(models.TextChoices):
        PLATFORM = "platform", _("Platform (already accepted)")
        STORE = "store", _("Store checkout")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    platform_id = models.BigIntegerField(_("order id"))
    number = models.CharField(_("number"), max_length=64, blank=True)
    email = models.EmailField(_("customer email"), blank=True)
    customer_name = models.CharField(_("customer name"), max_length=255, blank=True)
    customer_locale = models.CharField(_("customer locale"), max_length=20, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.STORE)
    # ISO 4217 code of the order's prices ("" when the caller did not say: the shop's currency).
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    placed_at = models.DateTimeField(_("placed at"))
    platform_updated_at = models.DateTimeField(_("updated on the platform"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["shop", "platform_id"], name="order_unique_platform_id_per_shop"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.platform_id}"


class OrderLine(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    platform_id = models.BigIntegerField(_("line id"))
    # Null for custom items, gift cards or deleted products: stored, never backordered.
    variant = models.ForeignKey(Variant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    title = models.CharField(_("title"), max_length=255, blank=True)
    sku = models.CharField(_("SKU"), max_length=255, blank=True)
    # Units committed for this line: what the platform (or the store) ordered, less the units a
    # customer or the owner cancelled here (``quantity_cancelled``). The platform's own quantity
    # is the sum of the two; a later platform edit is applied relative to it (services.checkout).
    quantity = models.PositiveIntegerField(_("quantity"))
    quantity_cancelled = models.PositiveIntegerField(_("quantity cancelled here"), default=0)
    quantity_fulfilled = models.PositiveIntegerField(_("quantity fulfilled"), default=0)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "platform_id"], name="order_line_unique_platform_id"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title or self.sku or self.variant_id}"

    @property
    def quantity_ordered(self) -> int:
        """The line's quantity as its source (the platform, the store) last stated it."""
        return self.quantity + self.quantity_cancelled


class EtaSource(models.TextChoices):
    """Where an ETA came from; every ETA carries one."""

    PURCHASE_ORDER = "purchase", _("Incoming purchase order")
    MANUAL = "manual", _("Owner's restock date")
    SUPPLIER = "supplier", _("Estimate from the supplier's lead time")
    LEAD_TIME = "lead_time", _("Estimated from the restock lead time")
    UNKNOWN = "unknown", _("Unknown")


class Backorder(models.Model):
    """The short part of one order line: units the customer waits for."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for stock")
        ALLOCATED = "allocated", _("Allocated, ready to ship")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")

        @classmethod
        def open(cls) -> list[str]:
            return [cls.WAITING, cls.ALLOCATED]

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="backorders")
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="backorders", verbose_name=_("order")
    )
    line = models.OneToOneField(OrderLine, on_delete=models.CASCADE, related_name="backorder")
    variant = models.ForeignKey(Variant, on_delete=models.RESTRICT, related_name="backorders")
    quantity = models.PositiveIntegerField(_("quantity backordered"))
    quantity_allocated = models.PositiveIntegerField(_("quantity allocated"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    # Arrival order = the order's placed_at, then the backorder's id (lines in order). Copied here
    # so that the queue is one index scan; the position itself is derived, never stored.
    queued_at = models.DateTimeField(_("queued at"))
    promised_eta = models.DateField(_("ETA promised at checkout"), null=True, blank=True)
    promised_eta_source = models.CharField(
        max_length=12, choices=EtaSource.choices, default=EtaSource.UNKNOWN
    )
    eta = models.DateField(_("current ETA"), null=True, blank=True)
    eta_source = models.CharField(
        _("ETA source"), max_length=12, choices=EtaSource.choices, default=EtaSource.UNKNOWN
    )
    # The purchase order whose arrival the ETA counts on (source "purchase"), else empty.
    eta_purchase_order = models.ForeignKey(
        "backorders.PurchaseOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ETA's purchase order"),
    )
    # The owner set this customer's ETA by hand (services.eta.backorder_move_eta): recomputing
    # the queue's ETAs leaves it alone until the owner hands it back to the estimate.
    eta_pinned = models.BooleanField(_("ETA set by hand"), default=False)
    flagged = models.BooleanField(_("needs attention"), default=False)
    flag_reason = models.CharField(_("attention reason"), max_length=255, blank=True)
    tracking_company = models.CharField(max_length=255, blank=True)
    tracking_number = models.CharField(max_length=255, blank=True)
    tracking_url = models.URLField(max_length=1000, blank=True, validators=[validate_http_url])
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["queued_at", "pk"]
        verbose_name = _("backorder")
        verbose_name_plural = _("backorders")
        indexes = [
            models.Index(fields=["variant", "status", "queued_at", "id"], name="backorder_queue_idx"),
            models.Index(fields=["shop", "status"], name="backorder_shop_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="backorder_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_allocated__gte=0, quantity_allocated__lte=F("quantity")),
                name="backorder_allocated_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} · {self.quantity} × {self.variant}"

    @property
    def quantity_unallocated(self) -> int:
        return self.quantity - self.quantity_allocated


class Event(models.Model):
    """One change to a backorder, with who caused it: the audit trail (append-only)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        ALLOCATED = "allocated", _("Allocated")
        DEALLOCATED = "deallocated", _("Allocation released")
        REDUCED = "reduced", _("Quantity reduced")
        ETA_CHANGED = "eta_changed", _("ETA changed")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")
        FLAGGED = "flagged", _("Flagged for attention")
        SETTLED = "settled", _("Cancellation settled")

    class ActorKind(models.TextChoices):
        PLATFORM = "platform", _("Platform webhook")
        STORE = "store", _("Store (Python call)")
        API = "api", _("Management API")
        ADMIN = "admin", _("Admin user")
        CUSTOMER = "customer", _("Customer")
        SYSTEM = "system", _("System")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    backorder = models.ForeignKey(Backorder, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    actor_kind = models.CharField(_("actor"), max_length=10, choices=ActorKind.choices)
    actor_name = models.CharField(_("actor name"), max_length=255, blank=True)
    quantity = models.IntegerField(_("quantity"), null=True, blank=True)
    eta_from = models.DateField(null=True, blank=True)
    eta_to = models.DateField(null=True, blank=True)
    eta_source = models.CharField(max_length=12, choices=EtaSource.choices, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("backorder event")
        verbose_name_plural = _("backorder events")
        indexes = [
            # "The latest event of a backorder" (the identity of the change an email is about).
            models.Index(fields=["backorder", "-id"], name="event_backorder_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_actor_kind_display()}"


class Cancellation(models.Model):
    """Units a customer, the owner or the store cancelled here (not the platform): the owner
    must settle each one on the platform (refund, edit the order). Written by
    ``services.lifecycle.backorder_cancel``; marked settled by ``cancellations_settle``."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="cancellations")
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="cancellations", verbose_name=_("order")
    )
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="cancellations")
    backorder = models.ForeignKey(Backorder, on_delete=models.CASCADE, related_name="cancellations")
    quantity = models.PositiveIntegerField(_("quantity"))
    # quantity × the line's unit price when it is known.
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    actor_kind = models.CharField(_("cancelled by"), max_length=10, choices=Event.ActorKind.choices)
    actor_name = models.CharField(_("cancelled by (name)"), max_length=255, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("cancelled at"), auto_now_add=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    settled_by = models.CharField(_("settled by"), max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("cancellation to settle")
        verbose_name_plural = _("cancellations to settle")
        indexes = [models.Index(fields=["shop", "settled_at"], name="cancellation_shop_settled_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cancellation_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.order} · {self.quantity} × {self.line.title or self.line.sku}"
