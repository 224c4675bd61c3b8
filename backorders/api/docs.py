"""The API docs page: Swagger UI from drf-spectacular-sidecar's static files, under a CSP.

``SpectacularSwaggerSplitView`` serves the page's start-up script from a URL of its own, so the
page runs no inline script and ``script-src 'self'`` holds. Swagger UI (React) writes inline
styles, though, so this page's policy is the page policy with ``style-src 'unsafe-inline'`` (as
the admin's: styles cannot run script). Nothing is loaded from another host: the docs work
offline.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response

from backorders import csp

DOCS_POLICY: csp.Policy = {**csp.PAGE, "style-src": [csp.SELF, csp.UNSAFE_INLINE]}


@extend_schema(exclude=True)
class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI for the schema at ``backorders:api_schema``."""

    url_name = "backorders:api_schema"

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        csp.apply(response, DOCS_POLICY)
        return response
