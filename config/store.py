"""The demo store: the standalone project's own shop pages, built from the app's template tags.

Not part of the app (a host store has its own pages): it shows what a Django-rendered store gets
from ``{% load backorders %}`` and from the checkout hook. ``/store/`` lists the demo shop's
products, ``/store/products/<handle>/`` is a product page (variant picker, badge, ETA,
alternatives, "notify me"), ``/store/cart/`` a session cart that shows each line's quote
(``selectors.availability.availability_quote``) and places the order through
``services.checkout.order_record``: what the cart promises is what checkout records.

The shop shown is ``settings.STORE_SHOP_DOMAIN`` (the demo seed's by default). Pages speak the
language chosen with ``?lang=`` (kept in the session), else the browser's.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.validators import validate_email
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from backorders.models import Product, Shop, Variant
from backorders.models.shops import shipped_languages
from backorders.selectors.availability import Quote, availability_quote
from backorders.selectors.storefront import (
    StorefrontNotFound,
    storefront_product,
    storefront_shop,
    storefront_variants,
    variant_availability,
)
from backorders.services.audit import Actor
from backorders.services.checkout import BackorderRefused, InvalidOrder, LineInput, order_record

CART_SESSION_KEY = "store_cart"
LANGUAGE_SESSION_KEY = "store_language"
CART_MAX_LINES = 100
QUANTITY_MAX = 10_000
NAME_MAX_LENGTH = 200
PRODUCTS_PER_PAGE = 24
# Orders placed in the demo store get platform ids far above the seed's (5.6e12 + n).
ORDER_ID_MIN = 9_000_000_000_000_000


def _shop() -> Shop:
    try:
        return storefront_shop(domain=settings.STORE_SHOP_DOMAIN)
    except StorefrontNotFound:
        raise Http404(
            _("The demo shop does not exist yet: run “make demo” (or manage.py backorders_seed_demo).")
        ) from None


def _language(request: HttpRequest) -> str:
    """``?lang=`` if the app ships it (remembered in the session), else the session's, else the
    browser's (LocaleMiddleware's choice)."""
    requested = (request.GET.get("lang") or "")[:10].lower()
    if requested in shipped_languages():
        request.session[LANGUAGE_SESSION_KEY] = requested
        return requested
    remembered = request.session.get(LANGUAGE_SESSION_KEY)
    if remembered in shipped_languages():
        return str(remembered)
    return translation.get_language() or settings.LANGUAGE_CODE


def _localised(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render ``view`` in the store's language; the page names it (``Content-Language``)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = _language(request)
        with translation.override(language):
            response = view(request, *args, **kwargs)
        response["Content-Language"] = language
        return response

    return wrapper


def _render(request: HttpRequest, name: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    def switch(code: str) -> str:  # this page in another language (its other parameters kept)
        query = request.GET.copy()
        query["lang"] = code
        return "?" + query.urlencode()

    context = {
        "shop": context.get("shop"),
        "language": translation.get_language(),
        "to_english": switch("en"),
        "to_german": switch("de"),
        "cart_count": sum(_cart(request).values()),
        **context,
    }
    return render(request, name, context, status=status)


@require_GET
@_localised
def catalog(request: HttpRequest) -> HttpResponse:
    """Every active product of the shop, a page at a time, each with its best variant's badge:
    four queries whatever the catalog's size."""
    shop = _shop()
    products = (
        Product.objects.filter(shop=shop, status=Product.Status.ACTIVE)
        .order_by("title", "pk")
        .prefetch_related(
            Prefetch(
                "variants", queryset=Variant.objects.filter(is_archived=False).order_by("pk"), to_attr="live"
            )
        )
    )
    page = Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    cards = []
    for product in page:
        product.shop = shop
        rows = []
        for variant in product.live:  # type: ignore[attr-defined]
            variant.product, variant.shop = product, shop
            rows.append(variant_availability(variant, show_quantity=shop.show_quantity_available))
        if not rows:
            continue
        # The card shows the variant a customer is most likely to get: one that can be ordered.
        best = next((row for row in rows if row.can_order), rows[0])
        cards.append(
            {"product": product, "availability": best, "from_price": min(r.variant.price for r in rows)}
        )
    return _render(request, "store/catalog.html", {"shop": shop, "page": page, "cards": cards})


@require_GET
@_localised
def product(request: HttpRequest, handle: str) -> HttpResponse:
    """A product page: the chosen variant (``?variant=<platform id>``, else the first), its badge,
    ETA, "add to cart" or "notify me", and alternatives in stock now."""
    shop = _shop()
    try:
        found = storefront_product(shop=shop, ref=handle)
    except StorefrontNotFound:
        raise Http404(_("There is no product %(handle)s in this shop.") % {"handle": handle[:100]}) from None
    variants = storefront_variants(product=found)
    if not variants:
        raise Http404(_("This product has nothing to choose from."))
    wanted = request.GET.get("variant", "")[:20]
    selected = next((v for v in variants if str(v.platform_id) == wanted or str(v.pk) == wanted), variants[0])
    return _render(
        request,
        "store/product.html",
        {
            "shop": shop,
            "product": found,
            "variants": variants,
            "selected": selected,
            "availability": variant_availability(selected, show_quantity=shop.show_quantity_available),
            "quantity_max": QUANTITY_MAX,
        },
    )


# --- The cart ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartLine:
    variant: Variant
    quantity: int
    quote: Quote


def _cart(request: HttpRequest) -> dict[str, int]:
    """The session's cart: {variant pk (as text): quantity}, whatever a stale session held."""
    raw = request.session.get(CART_SESSION_KEY)
    if not isinstance(raw, dict):
        return {}
    return {
        str(key): value
        for key, value in raw.items()
        if str(key).isdigit() and isinstance(value, int) and 1 <= value <= QUANTITY_MAX
    }


def _cart_lines(shop: Shop, cart: dict[str, int]) -> list[CartLine]:
    """Each cart line with its quote now, in the order they were added: one query."""
    variants = {
        variant.pk: variant
        for variant in Variant.objects.filter(
            pk__in=[int(k) for k in cart], shop=shop, is_archived=False
        ).select_related("product", "shop")
    }
    return [
        CartLine(
            variants[int(key)], quantity, availability_quote(variant=variants[int(key)], quantity=quantity)
        )
        for key, quantity in cart.items()
        if int(key) in variants
    ]


class _BadInput(ValueError):
    """A form value a person must correct; the message says how."""


def _quantity(value: str | None) -> int:
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6 or not 1 <= int(text) <= QUANTITY_MAX:
        raise _BadInput(_("Enter a quantity from 1 to %(max)d.") % {"max": QUANTITY_MAX})
    return int(text)


def _variant_of(shop: Shop, value: str | None) -> Variant:
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise _BadInput(_("Choose an item of this shop."))
    variant = Variant.objects.filter(pk=int(text), shop=shop, is_archived=False).first()
    if variant is None:
        raise _BadInput(_("Choose an item of this shop."))
    return variant


@require_http_methods(["GET", "POST"])
@_localised
def cart(request: HttpRequest) -> HttpResponse:
    """The cart with each line's quote (from stock, backordered, ETA, or why not); POST
    ``action`` = add, update, remove or place. Bad input is answered 400 and changes nothing."""
    shop = _shop()
    if request.method == "POST":
        try:
            return _cart_post(request, shop)
        except _BadInput as error:
            return _cart_page(request, shop, error=str(error), status=400)
    return _cart_page(request, shop)


def _cart_page(
    request: HttpRequest,
    shop: Shop,
    *,
    error: str = "",
    status: int = 200,
    form: dict[str, str] | None = None,
) -> HttpResponse:
    lines = _cart_lines(shop, _cart(request))
    return _render(
        request,
        "store/cart.html",
        {
            "shop": shop,
            "lines": lines,
            "allowed": all(line.quote.allowed for line in lines),
            "backordered": any(line.quote.backordered for line in lines),
            "error": error,
            "form": form or {},
            "quantity_max": QUANTITY_MAX,
        },
        status=status,
    )


def _cart_post(request: HttpRequest, shop: Shop) -> HttpResponse:
    action = request.POST.get("action", "")
    items = _cart(request)
    if action == "add":
        variant = _variant_of(shop, request.POST.get("variant"))
        quantity = _quantity(request.POST.get("quantity"))
        key = str(variant.pk)
        if key not in items and len(items) >= CART_MAX_LINES:
            raise _BadInput(_("A cart holds at most %(n)d items.") % {"n": CART_MAX_LINES})
        items[key] = min(items.get(key, 0) + quantity, QUANTITY_MAX)
    elif action == "update":
        variant = _variant_of(shop, request.POST.get("variant"))
        if str(variant.pk) not in items:
            raise _BadInput(_("That item is not in your cart."))
        items[str(variant.pk)] = _quantity(request.POST.get("quantity"))
    elif action == "remove":
        variant = _variant_of(shop, request.POST.get("variant"))
        items.pop(str(variant.pk), None)
    elif action == "place":
        return _place(request, shop, items)
    else:
        raise _BadInput(_("Unknown cart action."))
    request.session[CART_SESSION_KEY] = items
    return HttpResponseRedirect(reverse("store:cart"))


def _place(request: HttpRequest, shop: Shop, items: dict[str, int]) -> HttpResponse:
    """Record the cart as an order through the checkout hook; a refusal changes nothing."""
    email = request.POST.get("email", "").strip()[:254]
    name = request.POST.get("name", "").strip()
    form = {"email": email, "name": name[:NAME_MAX_LENGTH]}
    if not items:
        raise _BadInput(_("Your cart is empty."))
    try:
        validate_email(email)
    except ValidationError:
        return _cart_page(
            request, shop, error=_("Enter your email address, e.g. name@example.com."), status=400, form=form
        )
    if len(name) > NAME_MAX_LENGTH or any(ord(char) < 32 for char in name):
        return _cart_page(
            request,
            shop,
            error=_("Enter a name of at most %(n)d characters.") % {"n": NAME_MAX_LENGTH},
            status=400,
            form=form,
        )
    lines = _cart_lines(shop, items)
    platform_id = ORDER_ID_MIN + secrets.randbelow(10**17)
    try:
        order = order_record(
            shop=shop,
            platform_id=platform_id,
            number=f"#D{platform_id % 10**6:06d}",
            placed_at=timezone.now(),
            lines=[
                LineInput(
                    platform_id=position,
                    variant_id=line.variant.pk,
                    quantity=line.quantity,
                    title=str(line.variant),
                    sku=line.variant.sku,
                    unit_price=line.variant.price,
                )
                for position, line in enumerate(lines, start=1)
            ],
            actor=Actor.store("demo store"),
            email=email,
            customer_name=name,
            locale=translation.get_language() or shop.language,
            currency=shop.currency,
        )
    except (BackorderRefused, InvalidOrder) as refused:
        reason = refused.reason if isinstance(refused, BackorderRefused) else str(refused)
        return _cart_page(request, shop, error=reason, status=400, form=form)
    request.session[CART_SESSION_KEY] = {}
    backordered = order.backorders.count()
    if backordered:
        text = ngettext(
            "Thank you! Order %(number)s is placed; %(n)d item is backordered: we email you its date.",
            "Thank you! Order %(number)s is placed; %(n)d items are backordered: we email you their dates.",
            backordered,
        )
    else:
        text = _("Thank you! Order %(number)s is placed.")
    messages.success(request, text % {"number": order.number, "n": backordered})
    return HttpResponseRedirect(reverse("store:cart"))
