"""Every test of the Shopify adapter runs with the app's webhook secrets set."""

import pytest


@pytest.fixture(autouse=True)
def _shopify_secrets(app_secrets):
    """``app_secrets`` (tests/conftest.py) for every test here."""
