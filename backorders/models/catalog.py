"""The store's catalog as the platform describes it, plus the owner's backorder policy overrides.

Stock model (the platform's): ``available = on hand - committed``, where committed counts every
unfulfilled ordered unit, backordered or not. ``InventoryLevel.available`` holds it per location and
may be negative when the shop sold beyond stock; ``Variant.available`` is their sum.
``Variant.units_waiting`` (backordered units not yet covered by stock) and ``units_allocated``
(backordered units covered by stock, not yet shipped) are denormalised from Backorder rows and
repaired nightly by ``stock_reconcile``.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backorders.models.shops import BackorderMode, Shop


def http_url_valid(url: str) -> bool:
    """Whether ``url`` is an absolute ``http``/``https`` URL with a host, free of whitespace and
    control characters (browsers drop tabs and newlines, so ``java\tscript:`` is ``javascript:``),
    and valid Unicode. The only URLs from outside the app that are stored as links."""
    if not url or any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return False
    try:
        url.encode("utf-8")
        parts = urlsplit(url)
        host = parts.hostname
    except (ValueError, UnicodeError):  # a lone surrogate, a malformed IPv6 host "http://[::1"
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def validate_http_url(value: str) -> None:
    """A stored link is an absolute http(s) URL (see ``http_url_valid``), or empty."""
    if value and not http_url_valid(value):
        raise ValidationError(_("Enter an absolute http:// or https:// address."), code="invalid")


class PolicyFields(models.Model):
    """Owner overrides of the backorder policy; empty means "inherit" (variant > product > shop)."""

    backorder_mode = models.CharField(
        _("backorder mode"),
        max_length=10,
        choices=BackorderMode.choices,
        blank=True,
        help_text=_("Empty: inherit."),
    )
    backorder_limit = models.PositiveIntegerField(
        _("backorder limit"),
        null=True,
        blank=True,
        help_text=_("Most units waiting at once; empty: inherit."),
    )
    restock_date = models.DateField(_("manual restock date"), null=True, blank=True)
    restock_note = models.CharField(_("restock note"), max_length=255, blank=True)
    handling_days = models.PositiveSmallIntegerField(_("handling days"), null=True, blank=True)
    low_stock_threshold = models.PositiveIntegerField(_("low-stock threshold"), null=True, blank=True)
    discontinued = models.BooleanField(_("discontinued"), default=False)

    class Meta:
        abstract = True


class Product(PolicyFields):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DRAFT = "draft", _("Draft")
        ARCHIVED = "archived", _("Archived")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    platform_id = models.BigIntegerField(_("platform id"), null=True, blank=True)
    handle = models.SlugField(_("handle"), max_length=255, blank=True, allow_unicode=True)
    title = models.CharField(_("title"), max_length=255)
    product_type = models.CharField(_("product type"), max_length=255, blank=True)
    vendor = models.CharField(_("vendor"), max_length=255, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    image_url = models.URLField(_("image URL"), max_length=1000, blank=True, validators=[validate_http_url])
    platform_updated_at = models.DateTimeField(_("updated on the platform"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "platform_id"],
                condition=Q(platform_id__isnull=False),
                name="product_unique_platform_id_per_shop",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Variant(PolicyFields):
    class InventoryPolicy(models.TextChoices):
        CONTINUE = "continue", _("Continue selling when out of stock")
        DENY = "deny", _("Stop selling when out of stock")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="variants")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    platform_id = models.BigIntegerField(_("platform id"), null=True, blank=True)
    inventory_item_id = models.BigIntegerField(_("inventory item id"), null=True, blank=True)
    sku = models.CharField(_("SKU"), max_length=255, blank=True)
    title = models.CharField(_("title"), max_length=255, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, default=0)
    inventory_policy = models.CharField(
        _("platform inventory policy"), max_length=10, choices=InventoryPolicy.choices, blank=True
    )
    inventory_tracked = models.BooleanField(
        _("inventory tracked"), default=True, help_text=_("Untracked stock is never backordered.")
    )
    is_archived = models.BooleanField(
        _("archived"), default=False, help_text=_("Gone from the platform's product.")
    )
    platform_updated_at = models.DateTimeField(_("updated on the platform"), null=True, blank=True)

    # Denormalised counters (see the module docstring); changed only under a row lock with F().
    available = models.IntegerField(_("available"), default=0)
    units_waiting = models.PositiveIntegerField(_("units waiting"), default=0)
    units_allocated = models.PositiveIntegerField(_("units allocated"), default=0)

    # Denormalised supply (services.purchasing.variants_supply_refresh, under the variant lock):
    # the open purchase order lines in arrival order, [{"po": id, "number": str, "date": ISO
    # date, "units": remaining}], and the best supplier's lead time padded by its measured
    # lateness (days; None: no supplier). ETAs read them without a query.
    supply_schedule = models.JSONField(_("incoming supply"), default=list, blank=True, editable=False)
    supply_lead_days = models.PositiveSmallIntegerField(
        _("supplier lead time (padded, days)"), null=True, blank=True, editable=False
    )

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["product", "pk"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "platform_id"],
                condition=Q(platform_id__isnull=False),
                name="variant_unique_platform_id_per_shop",
            ),
            models.UniqueConstraint(
                fields=["shop", "inventory_item_id"],
                condition=Q(inventory_item_id__isnull=False),
                name="variant_unique_inventory_item_per_shop",
            ),
            models.CheckConstraint(condition=Q(units_waiting__gte=0), name="variant_units_waiting_gte_0"),
            models.CheckConstraint(condition=Q(units_allocated__gte=0), name="variant_units_allocated_gte_0"),
        ]

    def __str__(self) -> str:
        product_title = self.product.title if self.product_id else "?"
        if self.title and self.title != "Default Title":
            return f"{product_title} — {self.title}"
        return product_title


class Location(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="locations")
    platform_id = models.BigIntegerField(_("platform id"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "platform_id"],
                condition=Q(platform_id__isnull=False),
                name="location_unique_platform_id_per_shop",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InventoryLevel(models.Model):
    """Units available for one variant at one location; negative when sold beyond stock."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="inventory_levels")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="inventory_levels")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="inventory_levels")
    available = models.IntegerField(_("available"), default=0)
    # The platform's timestamp of the value held: older data never overwrites it, and a change
    # (an order, a cancellation) that happened before it is already counted in it.
    platform_updated_at = models.DateTimeField(_("updated on the platform"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["variant", "location"]
        verbose_name = _("inventory level")
        verbose_name_plural = _("inventory levels")
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "location"], name="inventory_level_unique_variant_location"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant} @ {self.location}: {self.available}"
