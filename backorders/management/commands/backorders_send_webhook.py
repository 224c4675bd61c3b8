"""Sign a JSON file exactly as the platform does and POST it to a webhook URL.

For integrators and owners testing an installation end to end without the platform::

    manage.py backorders_send_webhook --url https://backorders.example.com/webhooks/shopify \\
        --shop acme.myshopify.com --topic orders/create order.json

The signature is the platform's: base64 HMAC-SHA256 of the file's raw bytes (sent unchanged),
keyed with ``--secret``, else the shop's own webhook secret when this database knows the shop,
else ``SHOPIFY_API_SECRET``. Every header the platform sends is set, with a fresh webhook id. A
redirect is reported as the failure it is for the platform (it is not followed).
"""

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from backorders.models import Shop
from backorders.platforms.shopify.verification import app_secrets, webhook_signature


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The platform counts a 3xx as a failed delivery: so does this command."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Command(BaseCommand):
    help = "Sign a JSON file exactly as the platform does and POST it to a webhook URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The JSON body to send, as it is (its bytes are signed).")
        parser.add_argument(
            "--url", required=True, help="The webhook URL, e.g. https://host/webhooks/shopify."
        )
        parser.add_argument("--shop", required=True, help="The shop's platform domain (name.myshopify.com).")
        parser.add_argument("--topic", required=True, help="The topic, e.g. orders/create.")
        parser.add_argument(
            "--secret",
            default=None,
            help="Signing secret. Default: the shop's own webhook secret if this database knows the shop, "
            "else SHOPIFY_API_SECRET.",
        )
        parser.add_argument(
            "--api-version", default="2026-07", help="X-Shopify-API-Version (default 2026-07)."
        )
        parser.add_argument(
            "--webhook-id", default=None, help="Default: a fresh UUID. Repeat one to see de-duplication."
        )
        parser.add_argument("--timeout", type=float, default=10.0, help="Seconds to wait for the answer.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            json.loads(body)
        except ValueError:
            self.stderr.write(f"Warning: {path} is not valid JSON; sending it anyway (expect a 400).")
        domain = options["shop"].strip().lower()
        secret = options["secret"] or self._stored_secret(domain) or app_secrets()[0]
        if not secret:
            raise CommandError("No secret to sign with: pass --secret or set SHOPIFY_API_SECRET.")
        webhook_id = options["webhook_id"] or str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "backorders_send_webhook",
            "X-Shopify-Topic": options["topic"],
            "X-Shopify-Hmac-Sha256": webhook_signature(secret=secret, body=body),
            "X-Shopify-Shop-Domain": domain,
            "X-Shopify-API-Version": options["api_version"],
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": timezone.now().isoformat().replace("+00:00", "Z"),
        }
        request = urllib.request.Request(options["url"], data=body, headers=headers, method="POST")
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=options["timeout"]) as response:
                status, reason, answer = response.status, response.reason, response.read()
        except urllib.error.HTTPError as exc:
            status, reason, answer = exc.code, exc.reason, exc.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise CommandError(f"Could not reach {options['url']}: {getattr(exc, 'reason', exc)}") from exc
        self.stdout.write(f"{status} {reason} (webhook id {webhook_id})")
        if answer:
            self.stdout.write(answer.decode("utf-8", errors="replace"))
        if not 200 <= status < 300:
            hint = " (a redirect: the platform counts it as a failure)" if 300 <= status < 400 else ""
            raise CommandError(f"The server answered {status}{hint}.")

    def _stored_secret(self, domain: str) -> str:
        try:
            return Shop.objects.filter(domain=domain).values_list("webhook_secret", flat=True).first() or ""
        except DatabaseError:  # run against a remote server, without a database here
            return ""
