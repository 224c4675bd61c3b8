"""Alternatives a customer can buy now, for a product page: one query, whatever the catalog size.

The precomputed ranking (``services.alternatives``) decides the order; the owner's pins come
first (in their position order) and hidden alternatives never; and at read time every
alternative must be **in stock now**: the product active and not discontinued, with a variant
that is neither archived nor discontinued and has ``available > 0`` or untracked stock. A
backorderable variant does not count (the customer would wait again): the point of an
alternative is a product that ships now.
"""

from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber

from backorders.models import AlternativeOverride, Product, ProductAlternative, Variant

MAX_LIMIT = 50


@dataclass(frozen=True)
class Alternative:
    """One alternative to show: the product, the variant to link (the cheapest one in stock now,
    the first by id among equals), and why it is there."""

    product: Product
    variant: Variant
    higher_tier: bool
    pinned: bool
    score: float


def in_stock_now() -> Q:
    """Variants a customer can buy now from stock (on ``Variant``; product conditions included)."""
    return (
        Q(is_archived=False, discontinued=False)
        & (Q(available__gt=0) | Q(inventory_tracked=False))
        & Q(product__status=Product.Status.ACTIVE, product__discontinued=False)
    )


def product_alternatives(*, product: Product, limit: int = 4) -> list[Alternative]:
    """Up to ``limit`` (1–50) alternatives of ``product`` a customer can buy now, best first:
    pins in position order, then the ranking; hidden ones never; never ``product`` itself nor
    another shop's product.

    Exactly one query. Each ``Alternative``'s product and variant come with ``shop`` attached
    (``product.shop`` if loaded, else joined in the same query), so ``str(variant)`` and
    ``policy_resolve(variant)`` need no further query.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    shop_loaded = Product.shop.is_cached(product)
    # Unordered: (product, alternative) is unique, so each subquery finds at most one row.
    overrides = AlternativeOverride.objects.filter(
        product_id=product.pk, alternative_id=OuterRef("product_id")
    ).order_by()
    ranked = ProductAlternative.objects.filter(
        product_id=product.pk, alternative_id=OuterRef("product_id")
    ).order_by()
    pins = AlternativeOverride.objects.filter(
        product_id=product.pk, kind=AlternativeOverride.Kind.PIN
    ).order_by()
    variants = (
        Variant.objects.filter(in_stock_now(), shop_id=product.shop_id, product__shop_id=product.shop_id)
        .exclude(product_id=product.pk)
        .filter(
            Q(
                product_id__in=ProductAlternative.objects.filter(product_id=product.pk)
                .order_by()
                .values("alternative_id")
            )
            | Q(product_id__in=pins.values("alternative_id"))
        )
        .exclude(Exists(overrides.filter(kind=AlternativeOverride.Kind.HIDE)))
        .annotate(
            _pin=Subquery(overrides.filter(kind=AlternativeOverride.Kind.PIN).values("position")[:1]),
            _rank=Subquery(ranked.values("rank")[:1]),
            _score=Coalesce(Subquery(ranked.values("score")[:1]), Value(0.0), output_field=FloatField()),
            _higher=Coalesce(
                Subquery(ranked.values("higher_tier")[:1]), Value(False), output_field=BooleanField()
            ),
            _nth=Window(
                RowNumber(), partition_by=[F("product_id")], order_by=[F("price").asc(), F("pk").asc()]
            ),
        )
        .filter(_nth=1)
        .select_related("product", *([] if shop_loaded else ["product__shop"]))
        .order_by(F("_pin").asc(nulls_last=True), F("_rank").asc(nulls_last=True), "product_id")
    )[:limit]
    found = []
    for variant in variants:
        shop = product.shop if shop_loaded else variant.product.shop
        variant.product.shop = shop
        variant.shop = shop
        found.append(
            Alternative(
                product=variant.product,
                variant=variant,
                higher_tier=bool(variant._higher),  # type: ignore[attr-defined]
                pinned=variant._pin is not None,  # type: ignore[attr-defined]
                score=float(variant._score),  # type: ignore[attr-defined]
            )
        )
    return found
