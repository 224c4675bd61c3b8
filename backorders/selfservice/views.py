"""The customer's pages, reached through signed links only: no login, no other order's data.

* ``order_page`` — each backordered item of one order: status, quantity, queue position, ETA and
  the history of ETA changes, with a cancel button per waiting line;
* ``order_cancel`` — GET asks for confirmation, POST (CSRF-protected) cancels through
  ``services.lifecycle.backorder_cancel``; a second submit finds it cancelled and changes nothing;
* ``order_link_renew`` — an expired (but authentic) link can email a fresh one to the order's
  own address;
* ``unsubscribe`` — opt out of optional emails (follow-ups); one click, also as the RFC 8058
  ``List-Unsubscribe-Post`` one-click POST mail clients send.

Pages render in the order's language (the one its emails use). The token is part of the URL, so
responses are never cached, never leak it through a Referer header to another site, and run
no script (``csp.SELF_SERVICE``).
"""

from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from backorders import csp
from backorders.models import Backorder, Suppression
from backorders.selectors.queue import order_backorders_in_queue
from backorders.services.audit import Actor
from backorders.services.notifications import links, notification_language, order_link_send


def _private(view: Any) -> Any:
    """No caching, no indexing, no Referer to anyone else, no script: the URL carries the
    customer's key.

    ``Referrer-Policy: same-origin``, not ``no-referrer``: with ``no-referrer`` browsers send
    ``Origin: null`` on the pages' own form posts, and Django's CSRF check refuses them (403,
    "Origin checking failed - null does not match any trusted origins"). ``same-origin`` sends
    the Referer (and a real Origin) to this site only, and nothing at all to another site, so
    the key never leaves in a Referer: not to a carrier's tracking page, not to anyone.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        csp.apply(response, csp.SELF_SERVICE)
        return response

    return never_cache(wrapper)


def _bad_link(request: HttpRequest, token: str) -> HttpResponse:
    """The page for a link that does not open: expired (offer a fresh one) or invalid."""
    order = links.expired_order(token)
    if order is not None:
        with translation.override(notification_language(order=order, shop=order.shop)):
            return render(
                request,
                "backorders/selfservice/expired.html",
                {"shop": order.shop, "token": token},
                status=410,
            )
    return render(request, "backorders/selfservice/invalid.html", {}, status=404)


@_private
@require_http_methods(["GET", "HEAD"])
def order_page(request: HttpRequest, token: str) -> HttpResponse:
    """One order's backorders, for the customer holding its link."""
    try:
        order = links.order_from_token(token)
    except (links.LinkExpired, links.LinkInvalid):
        return _bad_link(request, token)
    notice = request.GET.get("notice", "")
    with translation.override(notification_language(order=order, shop=order.shop)):
        return render(
            request,
            "backorders/selfservice/order.html",
            {
                "order": order,
                "shop": order.shop,
                "token": token,
                "lines": order_backorders_in_queue(order=order),
                "notice": notice if notice in ("cancelled", "already", "not_waiting") else "",
            },
        )


@_private
@require_http_methods(["GET", "HEAD", "POST"])
def order_cancel(request: HttpRequest, token: str, backorder_id: int) -> HttpResponse:
    """GET: confirm cancelling one waiting line. POST: cancel it (once) and go back to the order."""
    from backorders.services.lifecycle import BackorderStateError, backorder_cancel, customer_cancel_refusal

    try:
        order = links.order_from_token(token)
    except (links.LinkExpired, links.LinkInvalid):
        return _bad_link(request, token)
    backorder = (
        Backorder.objects.select_related("variant__product", "line")
        .filter(order=order, pk=backorder_id)
        .first()
    )
    if backorder is None:
        raise Http404("No such item in this order.")
    back = reverse("backorders:selfservice_order", args=[token])
    if request.method != "POST":
        if refusal := customer_cancel_refusal(backorder):
            return HttpResponseRedirect(f"{back}?notice={refusal}")
        language = notification_language(order=order, shop=order.shop)
        with translation.override(language):
            return render(
                request,
                "backorders/selfservice/confirm_cancel.html",
                {
                    "order": order,
                    "shop": order.shop,
                    "token": token,
                    "line": backorder,
                    "payment_text": order.shop.payment_text(language),  # the shop's words on money
                },
            )
    try:
        backorder_cancel(
            backorder=backorder,
            actor=Actor.customer(order.email),
            reason=request.POST.get("reason", "")[:255]
            or "Cancelled by the customer on the self-service page.",
            waiting_only=True,
        )
    except BackorderStateError:  # e.g. a double submit: the first one cancelled it
        backorder.refresh_from_db(fields=["status"])
        return HttpResponseRedirect(f"{back}?notice={customer_cancel_refusal(backorder) or 'already'}")
    return HttpResponseRedirect(f"{back}?notice=cancelled")


@_private
@require_POST
def order_link_renew(request: HttpRequest, token: str) -> HttpResponse:
    """Email a fresh link for an expired one, to the order's own address only."""
    order = links.expired_order(token)
    if order is None:
        try:
            order = links.order_from_token(token)  # still valid: nothing to renew, but say so kindly
        except (links.LinkExpired, links.LinkInvalid):
            return render(request, "backorders/selfservice/invalid.html", {}, status=404)
    order_link_send(order=order)
    with translation.override(notification_language(order=order, shop=order.shop)):
        return render(request, "backorders/selfservice/link_sent.html", {"shop": order.shop})


@_private
@csrf_exempt  # the signed token is the credential; mail clients' one-click POST carries no CSRF token
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a one-button page (link scanners must not unsubscribe anyone). POST: unsubscribe."""
    from backorders.services.notifications.tracking import suppression_add

    try:
        shop, email = links.unsubscribe_from_token(token)
    except links.LinkInvalid:
        return render(request, "backorders/selfservice/invalid.html", {}, status=404)
    with translation.override(notification_language(order=None, shop=shop)):
        if request.method == "POST":
            suppression_add(
                shop=shop, email=email, reason=Suppression.Reason.UNSUBSCRIBED, detail="Unsubscribe link"
            )
            return render(request, "backorders/selfservice/unsubscribed.html", {"shop": shop, "email": email})
        return render(
            request, "backorders/selfservice/unsubscribe.html", {"shop": shop, "email": email, "token": token}
        )
