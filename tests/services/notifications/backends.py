"""Email backends for tests: a boundary fake that fails on demand, and a file recorder that works
across processes (a real worker's messages, read back by the test)."""

import json
import os
import signal
import uuid
from pathlib import Path

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend


class FlakyBackend(BaseEmailBackend):
    """Raises the queued exceptions, one per message, then delivers like locmem (``mail.outbox``).

    ``FlakyBackend.errors`` is reset by the ``flaky`` fixture; an entry may also be a callable,
    called with the message (to record it first, then raise: "it went out, then the line dropped").
    """

    errors: list = []

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages:
            if FlakyBackend.errors:
                error = FlakyBackend.errors.pop(0)
                if callable(error) and not isinstance(error, BaseException):
                    error = error(message)
                if error is not None:
                    raise error
            message.message()  # serialises like a real backend would (headers, encodings)
            if not hasattr(mail, "outbox"):
                mail.outbox = []
            mail.outbox.append(message)
            sent += 1
        return sent


class RecordingBackend(BaseEmailBackend):
    """Writes each message as JSON into ``$EMAIL_RECORD_DIR`` (one file per message), so that a
    test can count what a worker in another process sent.

    ``$EMAIL_KILL_AFTER_SEND`` names a marker file: if it exists, it is removed and the process
    SIGKILLs itself right after recording the message (the provider got it; the row never hears).
    """

    def send_messages(self, email_messages):
        directory = Path(os.environ["EMAIL_RECORD_DIR"])
        for message in email_messages:
            html = next((body for body, mimetype in message.alternatives if mimetype == "text/html"), "")
            record = {
                "to": message.to,
                "subject": message.subject,
                "body": message.body,
                "html": html,
                "metadata": getattr(message, "metadata", {}),
            }
            (directory / f"{uuid.uuid4().hex}.json").write_text(json.dumps(record))
            marker = os.environ.get("EMAIL_KILL_AFTER_SEND")
            if marker and Path(marker).exists():
                Path(marker).unlink()
                os.kill(os.getpid(), signal.SIGKILL)
        return len(email_messages)
