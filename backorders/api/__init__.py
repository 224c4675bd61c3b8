"""The app's HTTP APIs (Django REST framework): today the public storefront API.

``backorders.api.urls`` is mounted under ``api/`` by ``backorders.urls``: the storefront
endpoints under ``api/v1/storefront/``, the OpenAPI 3 schema at ``api/schema/`` and its
docs UI at ``api/docs/`` (Swagger UI from drf-spectacular-sidecar: no CDN, works offline).
"""
