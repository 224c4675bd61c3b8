"""The customer's restock-alert pages ("notify me"): sign-up, confirmation, unsubscribe.

* ``alert_signup`` — the plain HTML form's POST target (``{% restock_alert_form %}`` renders
  the form): CSRF-protected, throttled per IP (429 with ``Retry-After``), answered with a
  "check your inbox" page, or the refusal's message (400) that says what to do;
* ``alert_confirm`` — the confirmation email's link: the GET shows a button, only the POST
  confirms (mail scanners follow links; none presses buttons);
* ``alert_unsubscribe`` — every alert email's unsubscribe link: the GET shows a button, the POST
  unsubscribes, also as the RFC 8058 one-click POST a mail client sends (no CSRF token: the
  signed token is the credential).

Every input is bounded before it is used; pages render escaped, run no script
(``csp.SELF_SERVICE``) and are never cached.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from backorders.models import RestockAlert, Shop, Variant
from backorders.selfservice.views import _private
from backorders.services.alerts import (
    AlertRateLimited,
    AlertRefused,
    AlertStateError,
    alert_confirm,
    alert_signup,
    alert_unsubscribe,
)
from backorders.services.notifications import links, notification_language
from backorders.throttling import throttle_check

MAX_ID = 2**63 - 1
FIELD_MAX = {"shop": 255, "variant": 20, "platform_variant": 20, "email": 320, "language": 10}


def _page_language(requested: str, shop: Shop | None) -> str:
    if requested:
        try:
            return get_supported_language_variant(requested)
        except LookupError:
            pass
    return notification_language(order=None, shop=shop) if shop is not None else "en"


def _positive_id(value: str) -> int | None:
    value = value.strip()
    if not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def _refused(request: HttpRequest, message: str, *, status: int, shop: Shop | None = None) -> HttpResponse:
    return render(
        request,
        "backorders/selfservice/alert_refused.html",
        {"shop": shop, "message": message},
        status=status,
    )


def _find_variant(fields: dict[str, str]) -> tuple[Variant | None, str, int]:
    """The variant a sign-up names (its id, or the shop's domain and its platform id), or why
    not and the status to answer with."""
    variants = Variant.objects.select_related("product", "shop")
    variant_id = _positive_id(fields["variant"]) if fields["variant"] else None
    if fields["variant"] and variant_id is None:
        return None, _("The item is not valid: the variant must be a whole number."), 400
    if variant_id is not None:
        variants = variants.filter(pk=variant_id)
    else:
        platform_id = _positive_id(fields["platform_variant"]) if fields["platform_variant"] else None
        if platform_id is None or not fields["shop"]:
            return (
                None,
                _("Say which item you want an alert for (its variant, or the shop and its variant)."),
                400,
            )
        variants = variants.filter(platform_id=platform_id)
    if fields["shop"]:
        variants = variants.filter(shop__domain=fields["shop"].strip().lower())
    variant = variants.first()
    if variant is None:
        return None, _("This item was not found in this shop. Reload the product page and try again."), 404
    return variant, "", 200


@_private
@require_POST
def alert_signup_view(request: HttpRequest) -> HttpResponse:
    """Sign up for a restock alert (the form's POST): email + language, for one variant."""
    fields = {name: str(request.POST.get(name, "")) for name in FIELD_MAX}
    language = _page_language(fields["language"][: FIELD_MAX["language"]], None)
    too_long = [name for name, most in FIELD_MAX.items() if len(fields[name]) > most]
    if wait := throttle_check(request):
        with translation.override(language):
            response = _refused(
                request,
                _("Too many sign-ups from your network. Please try again in %(minutes)d minutes.")
                % {"minutes": max(1, (wait + 59) // 60)},
                status=429,
            )
        response["Retry-After"] = str(wait)
        return response
    with translation.override(language):
        if too_long:
            return _refused(
                request,
                _("This form was sent with a value that is too long (%(fields)s). Check your entries.")
                % {"fields": ", ".join(too_long)},
                status=400,
            )
        variant, problem, status = _find_variant(fields)
        if variant is None:
            return _refused(request, problem, status=status)
    shop = variant.shop
    language = _page_language(fields["language"], shop)
    with translation.override(language):
        try:
            alert = alert_signup(variant=variant, email=fields["email"], language=fields["language"])
        except AlertRefused as exc:
            return _refused(request, " ".join(exc.messages), status=400, shop=shop)
        except AlertRateLimited as exc:
            response = _refused(request, exc.message, status=429, shop=shop)
            response["Retry-After"] = str(exc.retry_after)
            return response
        return render(
            request,
            "backorders/selfservice/alert_signed_up.html",
            {
                "shop": shop,
                "alert": alert,
                "item": str(variant),
                "product_url": shop.product_url(variant.product.handle),
                "already": alert.status == RestockAlert.Status.CONFIRMED,
            },
        )


def _bad_alert_link(request: HttpRequest, expired: bool) -> HttpResponse:
    if expired:
        return render(request, "backorders/selfservice/alert_expired.html", {}, status=410)
    return render(request, "backorders/selfservice/invalid.html", {}, status=404)


def _alert_page(
    request: HttpRequest, template: str, alert: RestockAlert, token: str, **extra: Any
) -> HttpResponse:
    context = {
        "shop": alert.shop,
        "alert": alert,
        "item": str(alert.variant),
        "product_url": alert.shop.product_url(alert.variant.product.handle),
        "token": token,
        **extra,
    }
    return render(request, f"backorders/selfservice/{template}", context)


@_private
@require_http_methods(["GET", "HEAD", "POST"])
def alert_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with one button (nothing is confirmed). POST (CSRF-protected): confirm."""
    try:
        alert = links.alert_from_confirm_token(token)
    except links.LinkExpired:
        return _bad_alert_link(request, expired=True)
    except links.LinkInvalid:
        return _bad_alert_link(request, expired=False)
    with translation.override(alert.language):
        if request.method != "POST":
            if alert.status in (RestockAlert.Status.CONFIRMED, RestockAlert.Status.ALERTED):
                return _alert_page(request, "alert_confirmed.html", alert, token)
            if alert.status != RestockAlert.Status.PENDING:
                return render(
                    request, "backorders/selfservice/alert_expired.html", {"shop": alert.shop}, status=410
                )
            return _alert_page(request, "alert_confirm.html", alert, token)
        try:
            alert = alert_confirm(alert=alert)
        except AlertStateError:
            return render(
                request, "backorders/selfservice/alert_expired.html", {"shop": alert.shop}, status=410
            )
        return _alert_page(request, "alert_confirmed.html", alert, token)


@_private
@csrf_exempt  # the signed token is the credential; mail clients' one-click POST carries no CSRF token
@require_http_methods(["GET", "HEAD", "POST"])
def alert_unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with one button (link scanners unsubscribe nobody). POST: stop the alert
    (with ``all=1``, every alert of the address at the shop)."""
    try:
        alert = links.alert_from_unsubscribe_token(token)
    except (links.LinkInvalid, links.LinkExpired):
        return _bad_alert_link(request, expired=False)
    with translation.override(alert.language):
        if request.method != "POST":
            return _alert_page(request, "alert_unsubscribe.html", alert, token)
        everything = request.POST.get("all", "")[:1] == "1"
        alert = alert_unsubscribe(alert=alert, all_for_address=everything)
        return _alert_page(request, "alert_unsubscribed.html", alert, token, everything=everything)
