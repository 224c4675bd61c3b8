"""Content-Security-Policy: what a browser may load and run on the app's pages.

Nothing from a payload or a form may ever run as script on our pages. Templates escape every
value and emit only http(s) links (``templatetags/backorders_links.py``); the policy is the
second wall, for the day a template gets it wrong: no inline script, no ``javascript:`` URL, no
script from another origin runs, whatever ends up in the HTML.

Three policies:

* ``SELF_SERVICE`` — the customer's pages (signed links): no script at all, styles only from
  our own static files, forms only to ourselves, never framed. The views set it themselves
  (``apply``), so a host project that installs no middleware still sends it.
* ``PAGE`` — every other page of the app and of the project (storefront, demo store, API,
  errors): scripts and styles from our own origin only, images also from https (product
  images live on the platform's CDN), never framed.
* ``ADMIN`` — Django's admin. Django 5.2's admin runs no inline script (its constants travel
  in ``data-`` attributes of ``<script src>`` tags), so ``script-src 'self'`` holds; but it
  writes inline styles (``change_list.html`` has a ``<style>`` block, and our own admin pages
  use ``style`` attributes), so styles there need ``'unsafe-inline'``. Styles cannot run script.

When ``STATIC_URL`` is absolute (static files on a CDN), its origin joins ``'self'`` in the
directives that load static files.

Why a small middleware and not a package: Django 5.2 has no CSP of its own; django-csp 4 is
well kept, but we need three fixed policies, one chosen by the URL's namespace (the admin's)
and one that the app's own views must send even where the host installs no middleware; a
package would be configured around that rather than used. Django 6.0 ships
``django.middleware.csp.ContentSecurityPolicyMiddleware``: this module is what it replaces then.

Install with ``"backorders.csp.ContentSecurityPolicyMiddleware"`` in ``MIDDLEWARE`` (after
``SecurityMiddleware``); subclass it and change ``page_policy``/``admin_policy`` to tighten
or widen a policy. A response that already carries a policy keeps it.
"""

from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"

NONE, SELF, UNSAFE_INLINE = "'none'", "'self'", "'unsafe-inline'"

Policy = Mapping[str, Sequence[str]]

# Directives that fall back to nothing (not to default-src) are named explicitly: base-uri,
# form-action and frame-ancestors.
SELF_SERVICE: Policy = {
    "default-src": [NONE],
    "style-src": [SELF],
    "img-src": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
    "base-uri": [NONE],
}

PAGE: Policy = {
    "default-src": [NONE],
    "script-src": [SELF],
    "style-src": [SELF],
    "img-src": [SELF, "https:", "data:"],
    "font-src": [SELF],
    "connect-src": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
    "base-uri": [NONE],
}

ADMIN: Policy = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF, UNSAFE_INLINE],
    "img-src": [SELF, "data:"],
    "object-src": [NONE],
    "form-action": [SELF],
    "frame-ancestors": [SELF],
    "base-uri": [NONE],
}

# Directives whose 'self' also means "our static files", wherever STATIC_URL puts them.
_STATIC_DIRECTIVES = ("script-src", "style-src", "img-src", "font-src")


def _static_origin() -> str:
    """The origin of STATIC_URL when it is on another host (a CDN), else ""."""
    parts = urlsplit(str(getattr(settings, "STATIC_URL", "") or ""))
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return ""


def header_value(policy: Policy) -> str:
    """``policy`` as the header's text: ``directive source source; …``."""
    static = _static_origin()
    directives = []
    for name, sources in policy.items():
        values = list(sources)
        if static and name in _STATIC_DIRECTIVES and SELF in values and static not in values:
            values.append(static)
        directives.append(" ".join([name, *values]))
    return "; ".join(directives)


def apply(response: HttpResponseBase, policy: Policy) -> HttpResponseBase:
    """Give ``response`` ``policy`` unless it already has one (a view's own policy wins)."""
    if HEADER not in response:
        response[HEADER] = header_value(policy)
    return response


def _is_admin(request: HttpRequest) -> bool:
    # Every AdminSite's URLs are in the application namespace "admin", whatever the site's name
    # or mount point, so no path prefix is assumed.
    match = getattr(request, "resolver_match", None)
    return match is not None and match.app_name == "admin"


class ContentSecurityPolicyMiddleware:
    """Sends ``admin_policy`` on the admin's responses and ``page_policy`` on every other one
    that has no policy of its own.

    With ``DEBUG`` on, Django's own error pages (inline style and script) are left without a
    policy, so that a developer can read them; production error pages get the page policy.
    """

    page_policy: Policy = PAGE
    admin_policy: Policy = ADMIN

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if HEADER in response:
            return response
        if settings.DEBUG and response.status_code >= 400:
            return response
        return apply(response, self.admin_policy if _is_admin(request) else self.page_policy)


__all__ = [
    "ADMIN",
    "HEADER",
    "PAGE",
    "SELF_SERVICE",
    "ContentSecurityPolicyMiddleware",
    "apply",
    "header_value",
]
