"""The OpenAPI schema: valid, warning-free, every storefront endpoint in it, every field described."""

import json

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(tmp_path) -> dict:
    out = tmp_path / "schema.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out)
    )
    return json.loads(out.read_text())


def _api_routes(resolver: URLResolver, prefix: str = "") -> list[str]:
    """Every URL pattern under api/v1/ as the schema writes it (/api/v1/storefront/{shop}/quote)."""
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += _api_routes(entry, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
            path = "/" + route
            for kind in ("str", "int", "slug"):
                path = path.replace(f"<{kind}:", "{")
            found.append(path.replace(">", "}"))
    return found


def test_the_schema_validates_and_lists_every_api_endpoint(schema):
    routes = _api_routes(get_resolver())
    assert routes, "no API routes found"
    assert sorted(schema["paths"]) == sorted(routes)
    # Nothing but the versioned API is in it (not the App Proxy, not the webhooks).
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


def _undescribed(name: str, node: dict, path: str = "") -> list[str]:
    missing = []
    for field, spec in (node.get("properties") or {}).items():
        where = f"{name}{path}.{field}"
        if "$ref" in spec or "allOf" in spec:
            continue  # the referenced component is checked on its own
        if not spec.get("description"):
            missing.append(where)
        if spec.get("type") == "array" and "properties" in spec.get("items", {}):
            missing += _undescribed(name, spec["items"], f"{path}.{field}[]")
    return missing


def test_every_field_is_described(schema):
    missing = [
        where
        for name, component in schema["components"]["schemas"].items()
        for where in _undescribed(name, component)
    ]
    assert missing == []


def test_every_operation_documents_its_errors(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            # Storefront: bad input, unknown shop or product, rate. Management: a key, and the rate
            # (400 and 404 where there is input or an id).
            expected = {"400", "404", "429"} if "/storefront/" in path else {"401", "429"}
            assert expected <= set(operation["responses"]), f"{method} {path}"
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), f"{method} {path} {parameter['name']}"


def test_the_docs_page_and_the_schema_are_served(client):
    from tests.conftest import HttpsClient

    browser = HttpsClient()
    schema = browser.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert "/api/v1/storefront/{shop}/quote" in schema.json()["paths"]
    docs = browser.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui" in page and "cdn" not in page.lower() and "<script>" not in page
