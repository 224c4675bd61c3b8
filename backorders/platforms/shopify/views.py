"""The webhook endpoint: verify, record, answer. Processing happens later, in a Celery task.

The platform waits 5 s at most and counts anything but a 2xx as a failure (a 3xx included: the URL
is mounted with and without a trailing slash, so that no redirect ever answers it). Answers:

* 200: stored (or already stored: a duplicate changes nothing), or a topic we ignore; also a
  privacy topic signed with the app's secret for a shop we do not know (erased by its shop
  redact): nothing is held for it, nothing is stored;
* 400: signed, but the body is not a JSON object, or nests arrays and objects deeper than
  ``bodies.MAX_NESTING`` (stored as ``rejected`` with the reason: retrying cannot help);
* 401: a required header is missing, the shop is unknown or inactive, or the signature does not
  verify; nothing is written (a per-reason count is kept, ``services.webhooks.rejections``);
* 405: not a POST; 413: body over WEBHOOK_MAX_BODY_BYTES;
* 503: the database is unavailable, so that the platform retries later.
"""

import logging
from datetime import datetime

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from backorders.conf import get_setting
from backorders.models import WebhookDelivery
from backorders.platforms.shopify.handlers import PRIVACY_TOPICS, topic_handled
from backorders.platforms.shopify.payloads import timestamp_parse
from backorders.platforms.shopify.verification import webhook_secrets, webhook_signature_valid
from backorders.services.webhooks import shop_credentials, webhook_delivery_receive, webhook_delivery_record
from backorders.services.webhooks.bodies import BodyTooDeep, body_load
from backorders.services.webhooks.rejections import webhook_rejection_record

logger = logging.getLogger(__name__)

# Header names without their prefix: the classic webhooks send "X-Shopify-…", the newer event
# deliveries "Shopify-…"; either is accepted.
REQUIRED_HEADERS = ("Topic", "Hmac-Sha256", "Shop-Domain", "API-Version", "Webhook-Id")
UNKNOWN_SHOP = "No shop with this domain is connected."
BAD_SIGNATURE = "The signature does not verify."
NO_SECRET = (
    "No webhook secret is configured, so no signature can be verified: set SHOPIFY_API_SECRET "
    "(the app's client secret) in the server's settings, or give the shop its own webhook secret "
    "(manage.py backorders_add_shop DOMAIN --secret ...)."
)
NOT_AN_OBJECT = "The body is not a JSON object."
TOO_DEEP = str(BodyTooDeep())
_REFUSED_BODIES = {NOT_AN_OBJECT: "not_json_object", TOO_DEEP: "too_deep"}


def _header(request: HttpRequest, name: str) -> str:
    # Read from META directly: ``request.headers`` would first copy out every header of the request.
    key = name.upper().replace("-", "_")
    meta = request.META
    return (meta.get(f"HTTP_X_SHOPIFY_{key}") or meta.get(f"HTTP_SHOPIFY_{key}") or "").strip()


def _refuse(
    status: int, reason: str, message: str, *, shop_domain: str = "", topic: str = ""
) -> HttpResponse:
    webhook_rejection_record(reason=reason, shop_domain=shop_domain, topic=topic)
    return JsonResponse({"error": reason, "detail": message}, status=status)


def _unavailable(exc: Exception) -> HttpResponse:
    logger.error("webhook answered 503, database unavailable: %s", exc)
    response = JsonResponse(
        {"error": "unavailable", "detail": "The database is unavailable; deliver again later."}, status=503
    )
    response["Retry-After"] = "30"
    return response


@csrf_exempt
def shopify_webhook(request: HttpRequest) -> HttpResponse:
    """Receive one platform webhook (see the module docstring for every answer)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    limit = get_setting("WEBHOOK_MAX_BODY_BYTES")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:  # refused before reading a byte of it
        return _refuse(413, "too_large", f"The body is larger than {limit} bytes.")

    values = {name: _header(request, name) for name in REQUIRED_HEADERS}
    topic, signature, domain = values["Topic"], values["Hmac-Sha256"], values["Shop-Domain"].lower()
    if missing := [name for name, value in values.items() if not value]:
        return _refuse(
            401,
            "missing_header",
            "Missing header(s): " + ", ".join(f"X-Shopify-{name}" for name in missing) + ".",
            shop_domain=domain,
            topic=topic,
        )

    body = request.body
    if len(body) > limit:
        return _refuse(
            413, "too_large", f"The body is larger than {limit} bytes.", shop_domain=domain, topic=topic
        )
    privacy = topic in PRIVACY_TOPICS
    fields = {
        "topic": topic,
        "webhook_id": values["Webhook-Id"],
        "event_id": _header(request, "Event-Id"),
        "api_version": values["API-Version"],
        "triggered_at": _triggered_at(_header(request, "Triggered-At")),
    }
    try:
        app_signed = webhook_signature_valid(body=body, signature=signature, secrets=webhook_secrets())
        if app_signed:
            # The usual case (a public app): find the shop and store in one statement.
            verdict = _verdict(body, topic)
            stored = webhook_delivery_receive(domain=domain, accept_inactive=privacy, **fields, **verdict)
            if stored is not None:
                return _accepted(verdict, shop_domain=domain, topic=topic)
        # Nothing stored yet: find out why, or verify with the shop's own secret.
        shop = shop_credentials(domain=domain)
        if shop is None:
            if privacy and app_signed:
                # Erased already (shop/redact), or never connected: nothing is held for it, so
                # there is nothing left to do, and a 200 ends the platform's compliance retries.
                # Nothing is stored: no row is ever created for a shop we do not know.
                logger.info("%.100r for unknown shop %.255r: nothing held, answered 200", topic, domain)
                return HttpResponse(status=200)
            return _refuse(401, "unknown_shop", UNKNOWN_SHOP, shop_domain=domain, topic=topic)
        if shop.webhook_secret or not app_signed:
            # Only a shop's own secret counts for it (a custom app); without one, nothing verified.
            if not shop.webhook_secret and not webhook_secrets():
                logger.error(
                    "no webhook secret configured: set SHOPIFY_API_SECRET or the shop's webhook secret"
                )
                return _refuse(401, "no_secret", NO_SECRET, shop_domain=domain, topic=topic)
            if not shop.webhook_secret or not webhook_signature_valid(
                body=body, signature=signature, secrets=[shop.webhook_secret]
            ):
                return _refuse(401, "bad_signature", BAD_SIGNATURE, shop_domain=domain, topic=topic)
            verdict = _verdict(body, topic)
            if shop.is_active or privacy:
                webhook_delivery_record(shop_id=shop.pk, **fields, **verdict)
        # else: signed by the app for one of its shops, not stored: inactive, or a duplicate.
    except (OperationalError, InterfaceError) as exc:
        return _unavailable(exc)
    if not shop.is_active and not privacy:
        return _refuse(
            401, "inactive_shop", "This shop has uninstalled the app.", shop_domain=domain, topic=topic
        )
    return _accepted(verdict, shop_domain=domain, topic=topic)  # stored now, or before (a duplicate)


def _accepted(verdict: dict[str, str], *, shop_domain: str, topic: str) -> HttpResponse:
    """The answer to a verified delivery: 200, or 400 with the reason its body was rejected."""
    if verdict["status"] == WebhookDelivery.Status.REJECTED:
        reason = _REFUSED_BODIES[verdict["last_error"]]
        webhook_rejection_record(reason=reason, shop_domain=shop_domain, topic=topic)
        return JsonResponse({"error": reason, "detail": verdict["last_error"]}, status=400)
    return HttpResponse(status=200)


def _verdict(body: bytes, topic: str) -> dict[str, str]:
    """The stored status of a verified body: rejected if it is not a JSON object (or nests too
    deep to parse safely), ignored if its topic is not handled, else received (to be processed).
    Parsed only after verification, and only after a scan for its nesting depth."""
    error = ""
    try:
        text = body.decode("utf-8")  # JSON is UTF-8 (decoded once, then parsed)
        if not isinstance(body_load(text), dict):
            error = NOT_AN_OBJECT
    except BodyTooDeep:
        error = TOO_DEEP
    except ValueError:  # not UTF-8, or malformed JSON
        text = body.decode("utf-8", errors="replace")
        error = NOT_AN_OBJECT
    # Stored as text: NUL, which PostgreSQL text cannot hold, becomes U+FFFD (as do undecodable bytes).
    text = text.replace("\x00", "\ufffd")
    if error:
        return {"body": text, "status": WebhookDelivery.Status.REJECTED, "last_error": error}
    if not topic_handled(topic):
        return {"body": text, "status": WebhookDelivery.Status.IGNORED, "last_error": ""}
    return {"body": text, "status": WebhookDelivery.Status.RECEIVED, "last_error": ""}


def _triggered_at(value: str) -> datetime | None:
    """The header's timestamp if it has an offset and a sane year (else None: it is optional)."""
    return timestamp_parse(value, assume_utc=False) if value else None
