"""Webhook signatures.

The platform signs the raw body bytes: base64 of HMAC-SHA256 keyed with the app's client secret
(or a custom app's own secret). The signature is checked on exactly the bytes received, never on
re-serialised JSON, and compared in constant time.

Refused requests are counted by the core (``services.webhooks.rejections``).
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings


def webhook_signature(*, secret: str, body: bytes) -> str:
    """The platform's signature of ``body``: base64 of HMAC-SHA256 keyed with ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def app_secrets() -> tuple[str, str]:
    """The app's current and previous client secret (``SHOPIFY_API_SECRET``,
    ``SHOPIFY_API_SECRET_PREVIOUS``), each ``""`` when the host project does not set it: the only
    reader of these settings, so that a project without them gets a clear refusal, never a 500."""
    return (
        getattr(settings, "SHOPIFY_API_SECRET", "") or "",
        getattr(settings, "SHOPIFY_API_SECRET_PREVIOUS", "") or "",
    )


def webhook_secrets(*, shop_secret: str = "") -> list[str]:
    """The secrets that may have signed a shop's webhooks: the shop's own when it has one (a custom
    app), else the app's current and previous secret (the platform keeps signing with the old one
    for a while after a rotation). Empty secrets never count: a signature keyed with "" proves
    nothing."""
    if shop_secret:
        return [shop_secret]
    return [secret for secret in app_secrets() if secret]


def webhook_signature_valid(*, body: bytes, signature: str, secrets: Iterable[str]) -> bool:
    """Whether ``signature`` is the signature of ``body`` under one of ``secrets``."""
    given = signature.strip().encode("utf-8")
    # No early exit: every secret is tried, so timing does not tell which one matched.
    matched = False
    for secret in secrets:
        if secret and hmac.compare_digest(webhook_signature(secret=secret, body=body).encode("ascii"), given):
            matched = True
    return matched
