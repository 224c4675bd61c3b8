"""config.settings, with the bench's URLconf (the baseline) and plain HTTP on 127.0.0.1.

The load generator stands for many shoppers: it sends each request with one of many client
addresses in X-Forwarded-For, and one trusted proxy is declared, so that the per-IP throttle
counts (on the Redis cache, as in production) without refusing the bench.
"""

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK

ROOT_URLCONF = "bench.storefront_api_site.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": 1}
