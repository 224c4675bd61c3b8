"""Supply: who sells the shop its stock (suppliers and what each offers), what is coming
(purchase orders and their lines), what arrived (receipts, with how late), and the audit trail
of every purchase order.

Written only by ``services.purchasing``. Purchase orders have their own audit table
(``PurchaseOrderEvent``) rather than ``Event`` rows with an empty backorder: an ``Event`` is the
customer's history (the self-service page shows it, an email names the latest one as the change
it is about, a privacy erasure deletes it with the order), while a purchase order is the shop's
business with a supplier, outlives every customer and has no customer in it.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from backorders.models.catalog import Location, Variant
from backorders.models.shops import Shop, validate_currency

# A lead time of more than two years is a typing error, not a supplier.
LEAD_TIME_MAX_DAYS = 730


class Supplier(models.Model):
    """A company the shop buys from, with its usual lead time (mean and spread, in days)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="suppliers")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    currency = models.CharField(
        _("currency"),
        max_length=3,
        blank=True,
        validators=[validate_currency],
        help_text=_("ISO 4217, e.g. EUR. Empty: the shop's currency."),
    )
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (days)"),
        default=14,
        validators=[MaxValueValidator(LEAD_TIME_MAX_DAYS)],
        help_text=_("Usual days from sending an order to its arrival."),
    )
    lead_time_spread_days = models.PositiveSmallIntegerField(
        _("lead time spread (days)"),
        default=0,
        validators=[MaxValueValidator(LEAD_TIME_MAX_DAYS)],
        help_text=_(
            "How many days the arrival usually varies (one standard deviation); used until "
            "received purchase orders measure it."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="supplier_unique_name_per_shop"),
        ]

    def __str__(self) -> str:
        return self.name


class SupplierItem(models.Model):
    """One variant as one supplier sells it."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="items", verbose_name=_("supplier")
    )
    variant = models.ForeignKey(
        Variant, on_delete=models.CASCADE, related_name="supplier_items", verbose_name=_("variant")
    )
    supplier_sku = models.CharField(_("supplier SKU"), max_length=255, blank=True)
    unit_cost = models.DecimalField(
        _("unit cost"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    minimum_order_quantity = models.PositiveIntegerField(
        _("minimum order quantity"), default=1, validators=[MinValueValidator(1)]
    )
    pack_size = models.PositiveIntegerField(_("pack size"), default=1, validators=[MinValueValidator(1)])
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time override (days)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(LEAD_TIME_MAX_DAYS)],
        help_text=_("Empty: the supplier's lead time."),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=1, help_text=_("1 is the first choice; a higher number is a fallback.")
    )

    class Meta:
        ordering = ["variant", "priority", "pk"]
        verbose_name = _("supplier item")
        verbose_name_plural = _("supplier items")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "variant"], name="supplier_item_unique_variant"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.variant}"


class PurchaseOrder(models.Model):
    """Units ordered from one supplier, expected on one date."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        CONFIRMED = "confirmed", _("Confirmed")
        PARTIALLY_RECEIVED = "partially_received", _("Partially received")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

        @classmethod
        def incoming(cls) -> list[str]:
            """Statuses whose units are on their way (what ETAs count on, what can be received)."""
            return [cls.SENT, cls.CONFIRMED, cls.PARTIALLY_RECEIVED]

        @classmethod
        def editable(cls) -> list[str]:
            """Statuses whose lines may still change."""
            return [cls.DRAFT, cls.SENT, cls.CONFIRMED, cls.PARTIALLY_RECEIVED]

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="purchase_orders")
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="purchase_orders", verbose_name=_("supplier")
    )
    number = models.CharField(_("number"), max_length=64)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    expected_on = models.DateField(_("expected arrival"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        constraints = [
            models.UniqueConstraint(fields=["shop", "number"], name="purchase_order_unique_number_per_shop"),
        ]
        indexes = [models.Index(fields=["shop", "status"], name="purchase_order_shop_status_idx")]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("purchase order")
    )
    variant = models.ForeignKey(
        Variant, on_delete=models.RESTRICT, related_name="purchase_order_lines", verbose_name=_("variant")
    )
    quantity_ordered = models.PositiveIntegerField(_("quantity ordered"))
    quantity_received = models.PositiveIntegerField(_("quantity received"), default=0)

    class Meta:
        ordering = ["purchase_order", "pk"]
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "variant"], name="po_line_unique_variant"),
            models.CheckConstraint(condition=Q(quantity_ordered__gt=0), name="po_line_ordered_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity_ordered")),
                name="po_line_received_within_ordered",
            ),
        ]
        indexes = [models.Index(fields=["variant", "purchase_order"], name="po_line_variant_idx")]

    def __str__(self) -> str:
        return f"{self.quantity_ordered} × {self.variant}"

    @property
    def quantity_remaining(self) -> int:
        return self.quantity_ordered - self.quantity_received


class Receipt(models.Model):
    """One delivery of a purchase order (all of it or part): what arrived, when it was promised
    and when it came. The supplier's reliability is measured from these rows."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("supplier")
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("purchase order")
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("location"),
    )
    promised_on = models.DateField(_("promised arrival"))
    received_on = models.DateField(_("received on"))
    # received_on − promised_on in days: negative when early.
    days_late = models.IntegerField(_("days late"))
    units = models.PositiveIntegerField(_("units"))
    # {line id: units received} of this delivery.
    quantities = models.JSONField(_("quantities"), default=dict)
    actor_kind = models.CharField(_("actor"), max_length=10)
    actor_name = models.CharField(_("actor name"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        indexes = [
            models.Index(fields=["supplier", "-received_on", "-id"], name="receipt_supplier_latest_idx")
        ]

    def __str__(self) -> str:
        return f"{self.purchase_order} · {self.received_on}"


class PurchaseOrderEvent(models.Model):
    """One change to a purchase order, with who caused it (append-only)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        LINES_CHANGED = "lines_changed", _("Lines changed")
        SENT = "sent", _("Sent")
        CONFIRMED = "confirmed", _("Confirmed")
        EXPECTED_CHANGED = "expected_changed", _("Expected arrival changed")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")
        UPDATED = "updated", _("Updated")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="events", verbose_name=_("purchase order")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor_kind = models.CharField(_("actor"), max_length=10)
    actor_name = models.CharField(_("actor name"), max_length=255, blank=True)
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_to = models.DateField(_("to"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("purchase order event")
        verbose_name_plural = _("purchase order events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.purchase_order})"
