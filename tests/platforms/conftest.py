"""Posting platform webhooks through the real URL, signed exactly as the platform signs them."""

import json
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache

from backorders.platforms.shopify.verification import webhook_signature

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "shopify"
SECRET = "test-client-secret"
OLD_SECRET = "old-client-secret"
URL = "/webhooks/shopify"


def fixture_bytes(name: str) -> bytes:
    """A fixture's exact bytes (what the platform would post)."""
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture(name: str) -> dict:
    return json.loads(fixture_bytes(name))


def headers_for(
    body: bytes, *, topic: str, shop: str, secret: str = SECRET, **extra: str | None
) -> dict[str, str]:
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": webhook_signature(secret=secret, body=body),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-02T17:00:00.123456789Z",
    }
    headers.update(extra)
    return {key: value for key, value in headers.items() if value is not None}


@pytest.fixture(autouse=True)
def app_secrets(settings):
    settings.SHOPIFY_API_SECRET = SECRET
    settings.SHOPIFY_API_SECRET_PREVIOUS = OLD_SECRET
    cache.clear()  # the refused-request counters


@pytest.fixture
def deliver(client, shop, django_capture_on_commit_callbacks):
    """Post ``payload`` (a fixture name, a dict, or raw bytes) for ``topic``, signed; by default
    the after-commit callbacks run (the eager Celery task processes the delivery)."""

    def send(
        topic: str,
        payload: str | dict | list | bytes,
        *,
        process: bool = True,
        path: str = URL,
        secret: str = SECRET,
        shop_domain: str | None = None,
        headers: dict[str, str | None] | None = None,
    ):
        if isinstance(payload, bytes):
            body = payload
        elif isinstance(payload, str):
            body = fixture_bytes(payload)
        else:
            body = json.dumps(payload).encode()
        sent = headers_for(
            body, topic=topic, shop=shop_domain or shop.domain, secret=secret, **(headers or {})
        )
        with django_capture_on_commit_callbacks(execute=process):
            return client.post(path, data=body, content_type="application/json", headers=sent)

    return send


@pytest.fixture
def fake_platform():
    """The test-only second platform (tests/fake_platform), registered for one test."""
    from backorders.services.webhooks.registry import platform_register, platform_unregister
    from tests.fake_platform import PLATFORM

    platform_register(platform=PLATFORM)
    yield PLATFORM
    platform_unregister(name=PLATFORM.name)
