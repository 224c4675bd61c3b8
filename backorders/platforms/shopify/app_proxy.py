"""The platform's App Proxy: the storefront resources through the shop's own domain.

The platform forwards ``https://<shop>/<prefix>/<subpath>`` (the owner picks the prefix, e.g.
``/apps/backorders``) to ``<our site>/shopify/proxy/<subpath>``, strips cookies and adds signed
query parameters: ``shop``, ``logged_in_customer_id``, ``path_prefix``, ``timestamp`` and
``signature``. Every request here is verified before anything else is done:

* the signature: every query parameter but ``signature``, each as ``key=value`` (repeated
  values joined with ``,``, empty values kept), those strings sorted and concatenated; lowercase
  hex HMAC-SHA256 keyed with the app's client secret (the shop's own secret for a custom app;
  during a rotation the previous secret too), compared in constant time;
* the ``timestamp``: at most ``APP_PROXY_MAX_SKEW_SECONDS`` (90) from now, either way, so that a
  recorded request cannot be replayed later.

A request that fails either is answered 401 and changes nothing; the shop is the signed ``shop``
(unknown or inactive: 404, only once the signature verified with the app's secret).

The views are the storefront API's own (``backorders.api.storefront.views``), subclassed to take
the shop from the signature instead of the URL: the same validation, the same selectors and
services, the same JSON. Importing from the API (another entry point, not a layer below) is the
price of not writing the presentation twice; the platform package still calls no view of its own
from services. What differs: answers are ``Cache-Control: private`` (they pass through the
platform, and are the shopper's), there is no CORS (same origin as the shop's pages), no per-IP
limit (every request arrives from the platform's addresses; the alert sign-up keeps its
per-address limit), and availability also speaks Liquid (``?format=liquid``): a small badge
snippet the platform renders inside the theme, from the template
``backorders/app_proxy/availability.liquid``, which a host project may override.
"""

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from backorders.api.storefront.views import UNKNOWN_SHOP, AlertSignupView, AvailabilityView
from backorders.conf import get_setting
from backorders.models import Shop
from backorders.platforms.shopify.verification import webhook_secrets
from backorders.selectors.storefront import StorefrontNotFound, storefront_shop

# The platform's query is short; a longer one is not the platform's (and is not hashed).
MAX_QUERY_LENGTH = 4096
_HEX_DIGITS = frozenset("0123456789abcdef")


def proxy_message(params: Iterable[tuple[str, Sequence[str]]]) -> bytes:
    """The bytes the platform signs for the query ``params`` ((key, [values…]) pairs)."""
    parts = sorted(f"{key}={','.join(values)}" for key, values in params if key != "signature")
    return "".join(parts).encode("utf-8")


def proxy_signature(*, secret: str, params: Iterable[tuple[str, Sequence[str]]]) -> str:
    """The platform's signature of the query ``params``: lowercase hex HMAC-SHA256."""
    return hmac.new(secret.encode("utf-8"), proxy_message(params), hashlib.sha256).hexdigest()


def proxy_signature_valid(*, query: QueryDict, secrets: Iterable[str]) -> bool:
    """Whether ``query``'s ``signature`` signs the rest of it under one of ``secrets``."""
    given = query.get("signature", "")
    if len(given) != 64 or not set(given) <= _HEX_DIGITS:
        return False
    params = list(query.lists())
    matched = False
    # No early exit: every secret is tried, so timing does not tell which one matched.
    for secret in secrets:
        if secret and hmac.compare_digest(proxy_signature(secret=secret, params=params), given):
            matched = True
    return matched


def proxy_timestamp_fresh(query: Mapping[str, Any], *, now: float | None = None) -> bool:
    """Whether the signed ``timestamp`` is within ``APP_PROXY_MAX_SKEW_SECONDS`` of now."""
    raw = str(query.get("timestamp", ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        return False
    now = time.time() if now is None else now
    return abs(now - int(raw)) <= get_setting("APP_PROXY_MAX_SKEW_SECONDS")


class ProxyUnauthorized(APIException):
    """401: the request is not the platform's (DRF would answer 403 for its own
    AuthenticationFailed, having no authentication scheme to name)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("The App Proxy signature does not verify, or the request is too old.")
    default_code = "bad_signature"


def proxy_shop(request: Request) -> Shop:
    """The active shop that the platform signed this request for; ``ProxyUnauthorized`` when the
    signature or the timestamp does not hold, ``NotFound`` for a shop we do not serve."""
    query = request.query_params
    if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_LENGTH or not proxy_timestamp_fresh(query):
        raise ProxyUnauthorized()
    try:
        shop: Shop | None = storefront_shop(domain=query.get("shop", ""))
    except StorefrontNotFound:
        shop = None
    # An unknown shop is checked against the app's own secrets, so that only a signed request
    # learns that we do not serve that shop.
    secrets = webhook_secrets(shop_secret=shop.webhook_secret if shop else "")
    if not proxy_signature_valid(query=query, secrets=secrets):
        raise ProxyUnauthorized()
    if shop is None:
        raise NotFound(UNKNOWN_SHOP)
    return shop


class LiquidRenderer(BaseRenderer):
    """``?format=liquid``: the availability as a Liquid snippet that the platform renders inside
    the shop's theme. Every value is HTML-escaped and its braces too (``{`` and ``}`` as
    entities): a product title must never become a Liquid tag or output in the theme."""

    media_type = "application/liquid"
    format = "liquid"
    charset = "utf-8"
    template_name = "backorders/app_proxy/availability.liquid"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        context = _liquid_safe(data)
        return render_to_string(self.template_name, {"data": context}).encode("utf-8")


def liquid_escape(value: object) -> SafeString:
    """``value`` as text that neither HTML nor Liquid reads as markup."""
    return mark_safe(escape(str(value)).replace("{", "&#123;").replace("}", "&#125;"))  # noqa: S308


def _liquid_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _liquid_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_liquid_safe(item) for item in value]
    if value is None or isinstance(value, bool | int):
        return value
    return liquid_escape(value)


class AppProxyMixin:
    """Turns a storefront view into its App Proxy twin (see the module docstring)."""

    public: ClassVar[bool] = False
    throttle_classes: ClassVar[list] = []
    shop: Shop | None = None

    def resolve_shop(self, request: Request, kwargs: dict[str, Any]) -> Shop:
        return proxy_shop(request)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # The signature before anything else (the body included), then DRF's own checks;
        # ``StorefrontView.initial`` is skipped, as it would look the shop up by the URL.
        self.shop = self.resolve_shop(request, kwargs)
        APIView.initial(self, request, *args, **kwargs)  # type: ignore[arg-type]

    def cache_control(self) -> str:
        return f"private, max-age={int(get_setting('APP_PROXY_CACHE_SECONDS'))}"


@extend_schema(exclude=True)
class ProxyAvailabilityView(AppProxyMixin, AvailabilityView):
    renderer_classes: ClassVar[list] = [JSONRenderer, LiquidRenderer]


@extend_schema(exclude=True)
class ProxyAlertSignupView(AppProxyMixin, AlertSignupView):
    """The sign-up through the shop's domain: signed, CSRF-exempt (the platform strips cookies,
    so there is no session to ride on), limited per address by the service."""
