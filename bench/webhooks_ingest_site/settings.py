"""config.settings, with the bench's URLconf (the baselines) and plain HTTP on 127.0.0.1."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.webhooks_ingest_site.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_SSL_REDIRECT = False
