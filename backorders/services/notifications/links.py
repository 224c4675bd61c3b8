"""Signed links in emails: one order's self-service page, one address's unsubscribe, and a
restock alert's confirmation and unsubscribe.

A core concern (the outbox puts them in every message; the self-service views read them), so
they live here, below every entry point.

Links are ``django.core.signing`` values (HMAC with ``SECRET_KEY``; ``SECRET_KEY_FALLBACKS``
keeps old links working through a key rotation), each with its own salt so that a token of one
kind is never accepted as the other. An order link names exactly one order of one shop and
expires after ``SELF_SERVICE_LINK_MAX_AGE``; an unsubscribe link does not expire (a customer
must be able to opt out from an old email).
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from backorders.conf import get_setting
from backorders.models import Order, RestockAlert, Shop

ORDER_SALT = "backorders.selfservice.order"
UNSUBSCRIBE_SALT = "backorders.selfservice.unsubscribe"


class LinkInvalid(Exception):
    """The link was tampered with, truncated, or is for something that no longer exists."""


class LinkExpired(Exception):
    """The link is authentic but too old; ``order_id`` says which order it was for."""

    def __init__(self, order_id: int) -> None:
        super().__init__(order_id)
        self.order_id = order_id


def site_url() -> str:
    """The absolute base of links in emails."""
    return (get_setting("SITE_URL") or getattr(settings, "SITE_URL", "") or "http://localhost:8000").rstrip(
        "/"
    )


def order_token(order: Order) -> str:
    return _order_token(order.shop_id, order.pk)


def _order_token(shop_id: int, order_id: int) -> str:
    return signing.dumps([shop_id, order_id], salt=ORDER_SALT, compress=True)


def order_url_for(*, shop_id: int, order_id: int) -> str:
    """``order_url`` from the ids alone (no need to load the order)."""
    return site_url() + reverse("backorders:selfservice_order", args=[_order_token(shop_id, order_id)])


def _order_ids(token: str, max_age: int | None) -> tuple[int, int]:
    value = signing.loads(token, salt=ORDER_SALT, max_age=max_age)
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise LinkInvalid(token)
    return value[0], value[1]


def order_from_token(token: str) -> Order:
    """The order a valid link is for; ``LinkExpired`` or ``LinkInvalid`` otherwise."""
    try:
        shop_id, order_id = _order_ids(token, get_setting("SELF_SERVICE_LINK_MAX_AGE"))
    except signing.SignatureExpired:
        try:
            _shop_id, order_id = _order_ids(token, None)
        except signing.BadSignature as exc:  # pragma: no cover - expired implies authentic
            raise LinkInvalid(token) from exc
        raise LinkExpired(order_id) from None
    except signing.BadSignature as exc:
        raise LinkInvalid(token) from exc
    order = Order.objects.select_related("shop").filter(pk=order_id, shop_id=shop_id).first()
    if order is None:
        raise LinkInvalid(token)
    return order


def expired_order(token: str) -> Order | None:
    """The order of an authentic but expired link (to email its owner a fresh one), else None."""
    try:
        order_from_token(token)
    except LinkExpired as expired:
        return Order.objects.select_related("shop").filter(pk=expired.order_id).first()
    except LinkInvalid:
        return None
    return None


def unsubscribe_token(shop: Shop, email: str) -> str:
    return signing.dumps([shop.pk, email.strip().lower()], salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(shop: Shop, email: str) -> str:
    """The absolute one-click unsubscribe link of ``email`` for ``shop``'s optional emails."""
    return site_url() + reverse("backorders:unsubscribe", args=[unsubscribe_token(shop, email)])


def unsubscribe_from_token(token: str) -> tuple[Shop, str]:
    """(shop, email) of a valid unsubscribe link; ``LinkInvalid`` otherwise."""
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature as exc:
        raise LinkInvalid(token) from exc
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
        raise LinkInvalid(token)
    shop = Shop.objects.filter(pk=value[0]).first()
    if shop is None:
        raise LinkInvalid(token)
    return shop, str(value[1])


# --- Restock alerts (services.alerts): confirming a sign-up, and unsubscribing from it ---

ALERT_CONFIRM_SALT = "backorders.alerts.confirm"
ALERT_UNSUBSCRIBE_SALT = "backorders.alerts.unsubscribe"


def _alert_token(alert: RestockAlert, salt: str) -> str:
    return signing.dumps([alert.shop_id, alert.pk], salt=salt, compress=True)


def alert_confirm_url(alert: RestockAlert) -> str:
    """The absolute link of ``alert``'s confirmation page (valid ``ALERT_CONFIRM_EXPIRY_DAYS``)."""
    return site_url() + reverse("backorders:alert_confirm", args=[_alert_token(alert, ALERT_CONFIRM_SALT)])


def alert_unsubscribe_url(alert: RestockAlert) -> str:
    """The absolute one-click unsubscribe link of ``alert`` (it never expires)."""
    return site_url() + reverse(
        "backorders:alert_unsubscribe", args=[_alert_token(alert, ALERT_UNSUBSCRIBE_SALT)]
    )


def _alert_from(token: str, salt: str, max_age: int | None) -> RestockAlert:
    try:
        value = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired(0) from exc
    except signing.BadSignature as exc:
        raise LinkInvalid(token) from exc
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        raise LinkInvalid(token)
    alert = (
        RestockAlert.objects.select_related("shop", "variant__product")
        .filter(shop_id=value[0], pk=value[1])
        .first()
    )
    if alert is None:
        raise LinkInvalid(token)
    return alert


def alert_from_confirm_token(token: str) -> RestockAlert:
    """The alert of a valid confirmation link; ``LinkExpired`` (older than the confirmation
    window) or ``LinkInvalid`` (tampered with, or the alert was erased) otherwise."""
    return _alert_from(token, ALERT_CONFIRM_SALT, get_setting("ALERT_CONFIRM_EXPIRY_DAYS") * 24 * 60 * 60)


def alert_from_unsubscribe_token(token: str) -> RestockAlert:
    """The alert of a valid unsubscribe link; ``LinkInvalid`` otherwise."""
    return _alert_from(token, ALERT_UNSUBSCRIBE_SALT, None)
