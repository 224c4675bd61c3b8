"""The admin site whose index is the owner's dashboard; the list of every model stays on the
same page, below the dashboard (and in the navigation sidebar of every other admin page)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


class BackordersAdminSite(admin.AdminSite):
    index_template = "backorders/dashboard/index.html"

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
