"""Render an email template triple and send one message: the only place in the app that sends.

A kind's templates are ``backorders/email/<kind>_subject.txt``, ``<kind>_body.txt`` and
``<kind>_body.html`` (a host project overrides any of them with its own template of that name),
rendered inside ``translation.override(language)`` so that words and dates follow the customer.

The provider is whatever ``EMAIL_BACKEND`` says (any django-anymail backend, SMTP, …): this
module never names one. ``send`` turns whatever the backend raises into one of four outcomes,
because what happens next depends only on whether the message may have left:

* ``ProviderNotReached`` — it provably did not (no connection, HTTP 429 or 5xx, an SMTP 4xx
  refusal): retrying is safe;
* ``RecipientRefused`` — the provider refused the address: do not retry, stop mailing it;
* ``SendFailed`` — it did not leave and retrying will not help (bad configuration, a 4xx API
  error, an invalid message);
* ``DeliveryUnknown`` — it may have left (a read timeout after the request went out, a
  connection dropped mid-request, anything unexpected): never resend on our own.
"""

import smtplib
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from anymail.exceptions import AnymailAPIError, AnymailError, AnymailInvalidAddress, AnymailRecipientsRefused
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError


class ProviderNotReached(Exception):
    """The message provably did not reach the provider; retrying is safe."""


class RecipientRefused(Exception):
    """The provider refused the recipient's address (invalid, inactive, suppressed)."""


class SendFailed(Exception):
    """The message was not sent and sending it again unchanged would fail again."""


class DeliveryUnknown(Exception):
    """The message may or may not have been sent; only a person can decide to resend it."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def template_names(kind: str) -> tuple[str, str, str]:
    """The three templates of ``kind``: subject, plain-text body, HTML body."""
    base = f"backorders/email/{kind}"
    return f"{base}_subject.txt", f"{base}_body.txt", f"{base}_body.html"


def render(*, kind: str, context: Mapping[str, Any], language: str) -> Rendered:
    """Render ``kind``'s template triple in ``language``; the subject becomes one line."""
    subject_name, text_name, html_name = template_names(kind)
    context = dict(context)
    with translation.override(language):
        subject = " ".join(render_to_string(subject_name, context).split())
        text = render_to_string(text_name, context).strip() + "\n"
        html = render_to_string(html_name, context)
    return Rendered(subject=subject, text=text, html=html)


def send(
    rendered: Rendered,
    *,
    to: str,
    from_email: str,
    reply_to: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
    tags: Iterable[str] = (),
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Send one message to ``to``; returns the provider's message id ("" if it gives none).

    ``tags`` and ``metadata`` are anymail's (ignored by non-anymail backends): the tracking
    webhooks bring them back, so that an event finds the row it is about. Raises one of this
    module's four exceptions on failure (see the module docstring).
    """
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=from_email,
        to=[to],
        reply_to=list(reply_to),
        headers=dict(headers or {}),
    )
    message.attach_alternative(rendered.html, "text/html")
    message.tags = list(tags)  # type: ignore[attr-defined]
    message.metadata = dict(metadata or {})  # type: ignore[attr-defined]
    try:
        sent = message.send()
    except Exception as exc:
        raise classify(exc) from exc
    if not sent:
        raise SendFailed("The email backend sent nothing (cancelled by a pre_send handler?).")
    status = getattr(message, "anymail_status", None)
    message_id = getattr(status, "message_id", None)
    return "" if message_id is None else str(message_id)[:255]


def classify(exc: BaseException) -> Exception:
    """The outcome an exception from an email backend means (see the module docstring)."""
    text = f"{type(exc).__name__}: {_describe(exc)}"[:2000]
    outcome = _classify_anymail(exc) or _classify_requests(exc) or _classify_smtp(exc)
    return (outcome or DeliveryUnknown)(text)


def _describe(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # anymail's __str__ reads a response that may be missing
        return " ".join(str(arg) for arg in exc.args)


def _classify_anymail(exc: BaseException) -> type[Exception] | None:
    if isinstance(exc, AnymailRecipientsRefused | AnymailInvalidAddress):
        return RecipientRefused
    if isinstance(exc, AnymailAPIError):
        code = exc.status_code
        if code is None:
            # A network error (classified below by its requests type) or a response the
            # backend could not read after the request went out (unknown).
            return None
        if code == 429 or code >= 500:
            return ProviderNotReached
        if 400 <= code < 500:
            return SendFailed
        return DeliveryUnknown  # a 2xx the backend could not understand: it may have been sent
    if isinstance(exc, AnymailError):
        return SendFailed  # configuration, unsupported feature, serialization: nothing left
    return None


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc``, its chained causes, and the exceptions wrapped in their args (urllib3 wraps the
    connection error in ``MaxRetryError.reason``)."""
    seen: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo:
        current = todo.pop()
        if not isinstance(current, BaseException) or any(current is other for other in seen):
            continue
        seen.append(current)
        todo.extend([current.__cause__, current.__context__, getattr(current, "reason", None), *current.args])
    return seen


def _classify_requests(exc: BaseException) -> type[Exception] | None:
    if not isinstance(exc, requests.RequestException):
        return None
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return ProviderNotReached  # never connected, or the TLS handshake failed: nothing sent
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return DeliveryUnknown  # the request went out; the provider may have accepted it
    if isinstance(exc, requests.exceptions.ConnectionError):
        connect_phase = (NewConnectionError, ConnectTimeoutError, ConnectionRefusedError, socket.gaierror)
        if any(isinstance(cause, connect_phase) for cause in _causes(exc)):
            return ProviderNotReached
        return DeliveryUnknown  # dropped mid-request
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return SendFailed
    return DeliveryUnknown


def _classify_smtp(exc: BaseException) -> type[Exception] | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return RecipientRefused
    if isinstance(
        exc, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError
    ):
        return SendFailed
    if isinstance(exc, smtplib.SMTPConnectError):
        return ProviderNotReached
    if isinstance(exc, smtplib.SMTPResponseException):
        # A 4xx reply refuses the message for now (try later); a 5xx refuses it for good.
        return ProviderNotReached if 400 <= exc.smtp_code < 500 else SendFailed
    if isinstance(exc, ConnectionRefusedError | socket.gaierror):
        return ProviderNotReached
    return None  # timeouts, resets, server disconnects: the message may have gone (unknown)


__all__ = [
    "DeliveryUnknown",
    "ProviderNotReached",
    "RecipientRefused",
    "Rendered",
    "SendFailed",
    "classify",
    "render",
    "send",
    "template_names",
]
