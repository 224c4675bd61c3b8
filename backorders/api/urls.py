"""The app's APIs, mounted at ``api/`` by ``backorders.urls``: the storefront API (v1), its
OpenAPI 3 schema and the schema's docs UI (Swagger UI served from our own static files)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("v1/storefront/", include("backorders.api.storefront.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="backorders:api_schema"), name="api_docs"),
]
