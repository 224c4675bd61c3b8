"""What a customer sees on a product page before buying: each variant's state, badge and ETA.

Reads only. The storefront API, the App Proxy, the template tags and the demo store all present
``product_availability``: one decision, worded once, in the customer's language. It builds on
``selectors.availability`` (the policy, the state, the ETA of the next unit, the checkout's
quote), so what the page promises is what checkout records.

A product page costs a fixed number of queries whatever the catalog's size or the product's
number of variants: the shop, the product, its variants (and the restock-alert counts when the
shop shows them).
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _t
from django.utils.translation import pgettext

from backorders.models import Product, Shop, Variant
from backorders.models.orders import EtaSource
from backorders.models.shops import shipped_languages
from backorders.selectors.alerts import alerts_waiting_counts
from backorders.selectors.availability import (
    AvailabilityState,
    Eta,
    availability_state,
    backorder_room,
    eta_estimate,
    free_stock,
    policy_resolve,
    shop_today,
)

# A product reference from a URL: the platform's numeric id or the product's handle.
PRODUCT_REF_MAX_LENGTH = 255
_BIGINT_MAX = 2**63 - 1


class StorefrontNotFound(LookupError):
    """No active shop by that domain, or no product of that shop by that id or handle."""


@dataclass(frozen=True)
class VariantAvailability:
    """One variant as the product page shows it (texts in the language active when built)."""

    variant: Variant
    state: AvailabilityState
    badge: str
    can_order: bool
    # Units a new order takes from stock now; None unless the shop shows stock counts.
    quantity_available: int | None
    # More units that may wait (limit minus waiting); None when backorders are not limited or
    # the variant cannot be backordered at all.
    backorder_units_left: int | None
    # The date a new order placed now would ship, after everyone already waiting (backorders only).
    eta: Eta
    eta_text: str
    # Whether "notify me when it is back" applies (out of stock, not discontinued).
    alert_signup: bool
    # Confirmed restock sign-ups not yet told; None unless the shop shows the count.
    alert_waiting: int | None


@dataclass(frozen=True)
class ProductAvailability:
    shop: Shop
    product: Product
    variants: list[VariantAvailability]
    language: str


def storefront_shop(*, domain: str) -> Shop:
    """The active shop whose platform domain is ``domain``; ``StorefrontNotFound`` otherwise (an
    uninstalled or unknown shop shows nothing to anyone)."""
    if not domain or len(domain) > 255:
        raise StorefrontNotFound(domain)
    shop = Shop.objects.filter(domain=domain.lower(), is_active=True).first()
    if shop is None:
        raise StorefrontNotFound(domain)
    return shop


def _product_match(ref: str) -> tuple[Q, bool]:
    if not ref or len(ref) > PRODUCT_REF_MAX_LENGTH:
        raise StorefrontNotFound(ref)
    match = Q(handle=ref)
    by_id = ref.isascii() and ref.isdigit() and int(ref) <= _BIGINT_MAX
    if by_id:
        match |= Q(platform_id=int(ref))
    return match, by_id


def _chosen(candidates: list[Product], ref: str, by_id: bool) -> Product:
    # A handle made of digits that is also another product's id: the id wins (it is exact).
    return next((p for p in candidates if by_id and p.platform_id == int(ref)), candidates[0])


def storefront_product(*, shop: Shop, ref: str) -> Product:
    """The shop's product by the platform's numeric id or by handle, in one query; archived and
    draft products are not on the storefront. ``StorefrontNotFound`` when there is none (another
    shop's product ids included)."""
    match, by_id = _product_match(ref)
    candidates = list(
        Product.objects.filter(match, shop=shop, status=Product.Status.ACTIVE).order_by("pk")[:2]
    )
    if not candidates:
        raise StorefrontNotFound(ref)
    chosen = _chosen(candidates, ref, by_id)
    chosen.shop = shop
    return chosen


def storefront_shop_product(*, domain: str, ref: str) -> tuple[Shop | None, Product | None]:
    """``storefront_shop`` and ``storefront_product`` in one query when both exist (a product
    page's usual case): ``(shop, product)``; ``(shop, None)`` when the shop has no such product,
    ``(None, None)`` when there is no active shop by that domain (a second query tells which)."""
    if not domain or len(domain) > 255:
        return None, None
    try:
        match, by_id = _product_match(ref)
    except StorefrontNotFound:
        match, by_id = Q(pk__in=[]), False
    candidates = list(
        Product.objects.filter(
            match, shop__domain=domain.lower(), shop__is_active=True, status=Product.Status.ACTIVE
        )
        .select_related("shop")
        .order_by("pk")[:2]
    )
    if candidates:
        chosen = _chosen(candidates, ref, by_id)
        return chosen.shop, chosen
    try:
        return storefront_shop(domain=domain), None
    except StorefrontNotFound:
        return None, None


def _short_date(value: date, today: date) -> str:
    """ "12 Dec" / "12. Dez." (with the year when it is not this year's)."""
    if value.year != today.year and value - today > timedelta(days=180):
        return date_format(value, pgettext("badge date with year", "j M Y"))
    return date_format(value, pgettext("badge date", "j M"))


def eta_text(eta: Eta, today: date) -> str:
    """The ETA in words for a customer, naming how sure it is."""
    if eta.date is None:
        return _t("We do not know yet when it will be back in stock.")
    when = date_format(eta.date, pgettext("eta date", "l, j F Y"))
    if eta.source == EtaSource.MANUAL:
        return _t("Ships by %(date)s (the shop's expected restock date).") % {"date": when}
    if eta.source == EtaSource.PURCHASE_ORDER:
        return _t("Ships by %(date)s (a delivery is on its way).") % {"date": when}
    if eta.source == EtaSource.SUPPLIER:
        return _t("Estimated to ship by %(date)s (from the supplier's usual delivery time).") % {"date": when}
    return _t("Estimated to ship by %(date)s (from the usual restock time).") % {"date": when}


def badge_text(state: AvailabilityState, *, free: int, eta: Eta, today: date) -> str:
    """The badge of a variant in ``state`` ("In stock", "Only 3 left", "Backorder — ships by 12
    Dec", "Out of stock — notify me", "Discontinued")."""
    if state == AvailabilityState.IN_STOCK:
        return _t("In stock")
    if state == AvailabilityState.LOW_STOCK:
        return _t("Only %(n)d left") % {"n": free}
    if state == AvailabilityState.BACKORDER:
        if eta.date is None:
            return _t("Backorder")
        return _t("Backorder — ships by %(date)s") % {"date": _short_date(eta.date, today)}
    if state == AvailabilityState.OUT_OF_STOCK:
        return _t("Out of stock — notify me")
    return _t("Discontinued")


def variant_availability(
    variant: Variant, *, show_quantity: bool = False, alert_waiting: int | None = None
) -> VariantAvailability:
    """``variant`` as the product page shows it, in the active language; no query (expects
    ``product`` and ``shop`` loaded)."""
    policy = policy_resolve(variant)
    state = availability_state(variant, policy)
    today = shop_today(variant)
    free = free_stock(variant)
    eta = (
        eta_estimate(variant=variant, units_ahead=variant.units_waiting, policy=policy)
        if state == AvailabilityState.BACKORDER
        else Eta.unknown()
    )
    room = backorder_room(variant, policy)
    orderable = state in (
        AvailabilityState.IN_STOCK,
        AvailabilityState.LOW_STOCK,
        AvailabilityState.BACKORDER,
    )
    alert_signup = state == AvailabilityState.OUT_OF_STOCK
    return VariantAvailability(
        variant=variant,
        state=state,
        badge=badge_text(state, free=free, eta=eta, today=today),
        can_order=orderable,
        quantity_available=free if show_quantity and policy.tracked else None,
        backorder_units_left=room if policy.backorderable and policy.limit is not None else None,
        eta=eta,
        eta_text=eta_text(eta, today) if state == AvailabilityState.BACKORDER else "",
        alert_signup=alert_signup,
        alert_waiting=alert_waiting if alert_signup else None,
    )


def storefront_variants(*, product: Product) -> list[Variant]:
    """The product's variants a customer can pick (not archived), in the platform's order, with
    ``product`` and ``shop`` attached: one query."""
    variants = list(Variant.objects.filter(product=product, is_archived=False).order_by("pk"))
    for variant in variants:
        variant.product, variant.shop = product, product.shop
    return variants


def storefront_language(shop: Shop, requested: str | None) -> str:
    """The language to answer in: the requested one when the app ships it, else the shop's."""
    code = (requested or "").strip().lower()[:10]
    if code in shipped_languages():
        return code
    base = code.split("-")[0]
    return base if base in shipped_languages() else shop.language


def product_availability(*, product: Product, language: str) -> ProductAvailability:
    """Every pickable variant of ``product`` (loaded with ``shop``) as the product page shows it,
    worded in ``language``: one query for the variants, and one for the restock sign-ups waiting
    when the shop shows that count."""
    shop = product.shop
    variants = storefront_variants(product=product)
    waiting = (
        alerts_waiting_counts(variant_ids=[variant.pk for variant in variants])
        if shop.show_alert_count and variants
        else None
    )
    with translation.override(language):
        rows = [
            variant_availability(
                variant,
                show_quantity=shop.show_quantity_available,
                alert_waiting=None if waiting is None else waiting.get(variant.pk, 0),
            )
            for variant in variants
        ]
    return ProductAvailability(shop=shop, product=product, variants=rows, language=language)


def storefront_variants_by_platform_id(*, shop: Shop, platform_ids: Collection[int]) -> dict[int, Variant]:
    """The shop's variants among the platform's ids ``platform_ids``, keyed by platform id, with
    ``product`` and ``shop`` attached, in one query: what a cart quote reads. Variants of draft
    products are not on the storefront and are left out (archived ones stay: the quote says
    they are discontinued)."""
    wanted = set(platform_ids)
    if not wanted:
        return {}
    variants = (
        Variant.objects.filter(shop=shop, platform_id__in=wanted)
        .exclude(product__status=Product.Status.DRAFT)
        .select_related("product")
    )
    found: dict[int, Variant] = {}
    for variant in variants:
        variant.shop = variant.product.shop = shop
        if variant.platform_id is not None:
            found[variant.platform_id] = variant
    return found
