"""The app's APIs, mounted at ``api/`` by ``backorders.urls``: the storefront API (v1, anonymous),
the management API (v1, a shop's API token), their OpenAPI 3 schema and the schema's docs UI
(Swagger UI from our own static files: see ``backorders.api.docs``)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from backorders.api.docs import ApiDocsView

urlpatterns = [
    path("v1/storefront/", include("backorders.api.storefront.urls")),
    path("v1/manage/", include("backorders.api.management.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", ApiDocsView.as_view(), name="api_docs"),
]
