"""Listeners the app owns: anymail's tracking signal feeds delivery status back to the outbox.

The receiver only translates anymail's normalised event into plain values and calls the service
(``services.notifications.tracking.email_delivery_record``); the webhook itself (URL, basic auth
or signature) is anymail's, wired by the host under ``anymail/``.
"""

from typing import Any

from anymail.signals import tracking
from django.dispatch import receiver


def anymail_tracking_received(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """Record one tracking event (delivered, bounced, complained, …) on the email it is about."""
    from backorders.services.notifications.tracking import email_delivery_record

    email_delivery_record(
        event_type=str(event.event_type or ""),
        recipient=event.recipient or "",
        message_id=str(event.message_id or ""),
        metadata=dict(event.metadata or {}),
        timestamp=event.timestamp,
        reject_reason=str(event.reject_reason or ""),
        description=str(event.description or event.mta_response or ""),
    )


receiver(tracking, dispatch_uid="backorders.anymail_tracking")(anymail_tracking_received)
