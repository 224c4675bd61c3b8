"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

One browser per test session (starting Chromium costs about a second), a fresh context (no
cookies, no cache) per test. Every page a test opens is watched: a Content-Security-Policy
violation, a script error or a JavaScript dialog (``alert(1)`` from a payload) is recorded in
``page.problems``, and each test ends by asserting there were none.
"""

import os
import re
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, _unavailable, browser_missing

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="session")
def chromium():
    """The session's one headless Chromium."""
    if reason := browser_missing():
        _unavailable(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls from
    # a thread with a running loop (SynchronousOnlyOperation). The tests' own ORM calls are
    # plain synchronous code between browser steps, so the check is turned off for them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server, settings):
    """The live server as a customer reaches it: plain HTTP on localhost (no HTTPS redirect; the
    secure cookies are accepted there because browsers treat localhost as a secure context), and
    email links pointing at it."""
    settings.SECURE_SSL_REDIRECT = False
    settings.SITE_URL = live_server.url
    _reload_middleware(live_server)
    return live_server


def _reload_middleware(live_server) -> None:
    """The session's live server built its middleware when it started, and SecurityMiddleware
    read SECURE_SSL_REDIRECT then: build it again under this test's settings (no request is in
    flight between tests)."""
    handler = live_server.thread.httpd.get_app()
    while handler is not None:
        if hasattr(handler, "load_middleware"):
            handler.load_middleware()
        handler = getattr(handler, "application", None)


@pytest.fixture
def page(chromium, site):
    context = chromium.new_context(base_url=site.url, locale="en-US", viewport={"width": 800, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.problems = []

    def on_console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            page.problems.append(f"CSP: {message.text}")

    def on_dialog(dialog):
        page.problems.append(f"dialog: {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
    page.on("dialog", on_dialog)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as var/screenshots/<name>.png (kept as a CI artifact)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def link_in(body: str, base: str) -> str:
    """The first link to this site in an email's text body."""
    match = re.search(re.escape(base) + r"/\S+", body)
    assert match, f"no link to {base} in:\n{body}"
    return match.group(0)
