"""The admin site whose index is the owner's dashboard; the list of every model stays on the
same page, below the dashboard (and in the navigation sidebar of every other admin page).

Its header names the product and, when the user works on one shop (or the dashboard shows one),
that shop: "Backorders · Mugs & Co"."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The product's name, never translated (the app's own "Backorders" label is, in German).
PRODUCT = pgettext_lazy("product name", "Backorders")


def site_header_for(shop_name: str | None) -> str | Promise:
    """The admin's header: the product's name, with the shop's when there is one."""
    if shop_name:
        return _("Backorders · %(shop)s") % {"shop": shop_name}
    return PRODUCT


class BackordersAdminSite(admin.AdminSite):
    index_template = "backorders/dashboard/index.html"
    site_header = PRODUCT
    site_title = _("Backorders admin")
    index_title = _("Dashboard")

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        """Django's context of every admin page, with the user's one shop in the header."""
        from backorders.selectors.tenancy import request_scope

        context = super().each_context(request)
        names = list(request_scope(request).shop_names.values())
        context["site_header"] = site_header_for(names[0] if len(names) == 1 else None)
        return context

    def index(  # type: ignore[override]  # a refusal is a TemplateResponse too, with its status
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse | HttpResponse:
        """The dashboard of the shop chosen by ``?shop=<id>`` (the first the user may see by
        default); a malformed shop is answered 400, a shop the user may not see 404."""
        from backorders.dashboard.views import dashboard_context

        context = dashboard_context(request, site=self)
        if isinstance(context, HttpResponse):
            return context
        return super().index(request, {**context, **(extra_context or {})})
