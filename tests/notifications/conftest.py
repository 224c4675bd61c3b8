"""Fixtures for the customer-email tests: backordered orders, and a commit that runs the tasks."""

from datetime import date

import pytest
from django.test import Client

RESTOCK = date(2027, 3, 1)  # manual restock date; ETA = restock + 1 handling day
ETA = date(2027, 3, 2)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit():`` runs the on-commit callbacks at the end (the send tasks run eagerly)."""

    def context():
        return django_capture_on_commit_callbacks(execute=True)

    return context


@pytest.fixture
def variant(make_variant):
    """A backorderable variant with no stock and a manual restock date."""
    return make_variant(stock=0, inventory_policy="continue", restock_date=RESTOCK, product__title="Blue Mug")


@pytest.fixture
def make_backordered(make_variant):
    def make(title: str = "Mug", **fields):
        return make_variant(
            stock=0, inventory_policy="continue", restock_date=RESTOCK, product__title=title, **fields
        )

    return make


@pytest.fixture
def flaky(settings):
    """The fake provider: ``flaky.errors`` are raised one per message, then messages go to
    ``mail.outbox``."""
    from tests.notifications.backends import FlakyBackend

    settings.EMAIL_BACKEND = "tests.notifications.backends.FlakyBackend"
    FlakyBackend.errors = []
    yield FlakyBackend
    FlakyBackend.errors = []


@pytest.fixture
def postmark(settings, monkeypatch):
    """The real anymail Postmark backend, with the HTTP boundary (``requests``) replaced:
    ``postmark.responses`` are consumed one per API call (an HTTP status, or an exception to
    raise); an empty queue answers 200. ``postmark.calls`` holds the JSON payloads posted."""
    import json
    import types
    import uuid

    import requests

    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "server-token"}
    state = types.SimpleNamespace(responses=[], calls=[])

    def request(session, method, url, **kwargs):
        payload = json.loads(kwargs.get("data") or "{}")
        state.calls.append(payload)
        outcome = state.responses.pop(0) if state.responses else 200
        if isinstance(outcome, BaseException):
            raise outcome
        response = requests.Response()
        response.status_code, response.url, response.reason = outcome, url, "Test"
        response.headers["Content-Type"] = "application/json"
        if outcome == 200:
            body = {
                "To": payload.get("To", ""),
                "SubmittedAt": "2026-11-26T16:00:00Z",
                "MessageID": str(uuid.uuid4()),
                "ErrorCode": 0,
                "Message": "OK",
            }
        elif outcome == 422:
            body = {
                "ErrorCode": 406,
                "Message": "You tried to send to a recipient that has been marked as inactive.\n"
                f"Found inactive addresses: {payload.get('To', '').lower()}.\n"
                "Inactive recipients are ones that have generated a hard bounce or a spam complaint.",
            }
        else:
            body = {"ErrorCode": 100, "Message": "Error"}
        response._content = json.dumps(body).encode()
        return response

    monkeypatch.setattr(requests.Session, "request", request)
    return state


class HttpsClient(Client):
    """A test client whose every request arrives over HTTPS, as production traffic does."""

    def generic(self, method, path, *args, **kwargs):
        kwargs["secure"] = True
        return super().generic(method, path, *args, **kwargs)


@pytest.fixture
def browser():
    return HttpsClient()
