"""The management API's credentials: a shop's API token as a bearer key."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from backorders.conf import get_setting
from backorders.models import ApiToken
from backorders.services.shops import api_token_authenticate

KEY_REFUSED = _(
    "The API key is unknown, revoked, or of a shop that is no longer connected. Create a key in the "
    "admin (API tokens) and send it as “Authorization: Bearer bko_…”."
)


class ShopClient:
    """The caller of a management request: the shop's system holding ``token``."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.shop = token.shop

    def __str__(self) -> str:
        return f"API token {self.token.name}"


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>``: the request acts for the token's shop (``request.auth`` is
    the ApiToken). No header: not authenticated here (the permission answers 401)."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[ShopClient, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(KEY_REFUSED)
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(KEY_REFUSED) from None
        token = api_token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed(KEY_REFUSED)
        return ShopClient(token), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="backorders"'


class HasShopToken(BasePermission):
    """Only a request with a shop's API token."""

    message = _("This API needs a shop's API key: send it as “Authorization: Bearer bko_…”.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiToken)


class ManagementRateThrottle(SimpleRateThrottle):
    """At most ``MANAGEMENT_API_RATE`` requests per API token (a runaway sync cannot starve the
    shop's other systems); over it, 429 with ``Retry-After``. Unauthenticated requests are
    counted per client address, as the storefront's."""

    scope = "management"

    def get_rate(self) -> str | None:
        return get_setting("MANAGEMENT_API_RATE")

    def get_cache_key(self, request: Request, view: Any) -> str:
        ident = f"token-{request.auth.pk}" if isinstance(request.auth, ApiToken) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The bearer key in the OpenAPI schema (the docs page's Authorize button)."""

    target_class = ApiTokenAuthentication
    name = "ShopApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A shop's API key (bko_…), created in the admin under API tokens.",
        }
