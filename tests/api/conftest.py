import pytest
from django.core.cache import cache

from tests.conftest import HttpsClient


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """Each test starts with no request counted against its client address."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    """The test client, as a browser on some storefront calls the API (anonymous, over HTTPS)."""
    return HttpsClient()


def availability_url(shop_domain: str, ref) -> str:
    return f"/api/v1/storefront/{shop_domain}/products/{ref}/availability"


def quote_url(shop_domain: str) -> str:
    return f"/api/v1/storefront/{shop_domain}/quote"
