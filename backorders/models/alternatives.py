"""Alternatives a product page offers: the precomputed ranking and the owner's pins and hides.

``ProductAlternative`` rows are written only by ``services.alternatives.alternatives_compute``
(ranked candidates per product, a few more than any page shows, so that the read-time stock
filter still leaves enough). ``AlternativeOverride`` rows are the owner's decisions, written only
by ``alternative_pin``/``alternative_hide``/``alternative_override_remove``; a recompute never
touches them.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from backorders.models.catalog import Product
from backorders.models.shops import Shop


class ProductAlternative(models.Model):
    """One ranked candidate (``alternative``) for ``product``; rank 1 is the best."""

    # A derived table, rewritten whole by every run (two million rows for a shop of 100,000
    # products): no database-level foreign keys, whose deferred checks at commit would lock
    # every referenced product row and cost more than the rows themselves. Deletion still
    # cascades (Django's collector does it), a run drops the lists of products gone since, and
    # the selector joins every alternative to a live product. Indexes only where something
    # reads: the unique (product, alternative) serves "this product's list", the alternative
    # index "who lists this product" (recomputes, cascades); a shop is deleted once.
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="alternatives", db_constraint=False, db_index=False
    )
    alternative = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        verbose_name=_("alternative"),
    )
    score = models.FloatField(_("score"))
    rank = models.PositiveSmallIntegerField(_("rank"))
    higher_tier = models.BooleanField(
        _("higher tier"), default=False, help_text=_("Same product type, a higher price band.")
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["product", "rank"]
        verbose_name = _("computed alternative")
        verbose_name_plural = _("computed alternatives")
        constraints = [
            models.UniqueConstraint(fields=["product", "alternative"], name="product_alternative_unique"),
            models.CheckConstraint(
                condition=~Q(product=F("alternative")), name="product_alternative_not_itself"
            ),
        ]
        indexes = [models.Index(fields=["product", "rank"], name="product_alternative_read")]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.alternative_id} (#{self.rank})"


class AlternativeOverride(models.Model):
    """The owner's choice for one (product, alternative): always shown first, or never shown."""

    class Kind(models.TextChoices):
        PIN = "pin", _("Pin (show first)")
        HIDE = "hide", _("Hide (never show)")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="alternative_overrides")
    alternative = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", verbose_name=_("alternative")
    )
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Pins are shown in this order (smallest first).")
    )
    actor_kind = models.CharField(_("actor"), max_length=10, blank=True)
    actor_name = models.CharField(_("actor name"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["product", "kind", "position", "pk"]
        verbose_name = _("alternative override")
        verbose_name_plural = _("alternative overrides")
        constraints = [
            models.UniqueConstraint(fields=["product", "alternative"], name="alternative_override_unique"),
            models.CheckConstraint(
                condition=~Q(product=F("alternative")), name="alternative_override_not_itself"
            ),
            models.CheckConstraint(
                condition=Q(position__lte=999), name="alternative_override_position_lte_999"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.alternative_id} for {self.product_id}"
