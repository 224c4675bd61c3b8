"""Template tags for Django-rendered stores: ``{% load backorders %}``.

* ``{% backorder_badge variant %}`` — the variant's badge ("In stock", "Only 3 left",
  "Backorder — ships by 12 Dec", …) in a live region, with its ETA in words; no query when
  ``variant`` comes with ``product`` and ``shop`` loaded (``select_related``).
* ``{% backorder_alternatives product %}`` — up to four other products of the shop that a
  customer can buy now, each with its badge; one query. ``link="url-name"`` makes the links
  ``reverse(url-name, args=[handle])`` (a store's own product pages) instead of the product's
  page on the shop's storefront.
* ``{% restock_alert_form variant %}`` — "notify me when it is back" for a variant that cannot
  be ordered now (nothing otherwise), posting to ``backorders:alert_signup``; at most one query
  (the number of people waiting, when the shop shows it).

Each renders one template under ``backorders/storefront/`` that a host project overrides by
placing its own file of the same name earlier in its template search path. Texts are in the
active language (the request's, under ``LocaleMiddleware``). Everything is presented through
``selectors.storefront.variant_availability``: the same decision and wording as the storefront
API, the App Proxy and the widget.
"""

from typing import Any

from django import template
from django.urls import reverse
from django.utils import translation

from backorders.models import Product, Variant
from backorders.selectors.alerts import alerts_waiting_counts
from backorders.selectors.alternatives import product_alternatives
from backorders.selectors.storefront import variant_availability
from backorders.templatetags.backorders_links import http_url

register = template.Library()

ALTERNATIVES_SHOWN = 4


@register.inclusion_tag("backorders/storefront/badge.html")
def backorder_badge(variant: Variant) -> dict[str, Any]:
    """The badge and ETA of ``variant`` (loaded with ``product`` and ``shop``): no query."""
    return {"availability": _availability(variant), "variant": variant}


@register.inclusion_tag("backorders/storefront/alternatives.html")
def backorder_alternatives(product: Product, link: str = "") -> dict[str, Any]:
    """Products to buy instead of ``product``, in stock now, best first: one query. ``link`` is
    the name of a URL taking the handle (the store's own product page); by default each links to
    its page on the shop's storefront (``Shop.product_url``)."""
    items = []
    for alternative in product_alternatives(product=product, limit=ALTERNATIVES_SHOWN):
        handle = alternative.product.handle
        if not handle:
            url = ""
        elif link:
            url = reverse(link, args=[handle])
        else:
            url = http_url(alternative.product.shop.product_url(handle))
        items.append(
            {
                "product": alternative.product,
                "variant": alternative.variant,
                "url": url,
                "image_url": http_url(alternative.product.image_url),
                "availability": _availability(alternative.variant),
                "higher_tier": alternative.higher_tier,
                "pinned": alternative.pinned,
            }
        )
    return {"product": product, "alternatives": items}


@register.inclusion_tag("backorders/storefront/restock_alert_form.html", takes_context=True)
def restock_alert_form(context: template.Context, variant: Variant) -> dict[str, Any]:
    """The sign-up form of ``variant`` when "notify me" applies (else nothing): at most one query,
    the count of people waiting, and only when the shop shows it."""
    shop = variant.shop
    waiting = None
    if shop.show_alert_count:
        waiting = alerts_waiting_counts(variant_ids=[variant.pk]).get(variant.pk, 0)
    availability = _availability(variant, alert_waiting=waiting)
    request = context.get("request")
    return {
        "availability": availability,
        "variant": variant,
        "language": translation.get_language() or shop.language,
        "next": _safe_next(request.get_full_path() if request is not None else ""),
        # {% csrf_token %} in the included template reads it from here.
        "csrf_token": context.get("csrf_token"),
    }


def _availability(variant: Variant, *, alert_waiting: int | None = None) -> Any:
    return variant_availability(
        variant, show_quantity=variant.shop.show_quantity_available, alert_waiting=alert_waiting
    )


def _safe_next(path: str) -> str:
    """A path on this site to come back to after signing up (never another site's URL)."""
    if not path.startswith("/") or path.startswith("//") or len(path) > 2000:
        return ""
    return path
