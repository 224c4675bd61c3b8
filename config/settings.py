"""Settings of the standalone project, all read from the environment (see README "Configuration").

The embedded defaults run the demo: SQLite under var/, tasks in-process, emails as files.
"""

from pathlib import Path

import environ

from backorders.beat import beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; the real environment wins

DEBUG = env.bool("DEBUG", default=False)

_DEMO_SECRET_KEY = "demo-only-insecure-key-never-use-in-production-0123456789abcdefghijkl"
SECRET_KEY = env.str("SECRET_KEY", default=_DEMO_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "Set SECRET_KEY in the environment (a demo default exists only with DEBUG=true)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # First: an app listed earlier wins for translations and templates, and Django's admin and
    # auth catalogues word some of the app's labels differently ("History" is the admin's
    # "Geschichte", the app's "Verlauf").
    "backorders",
    # Django's admin with the owner's dashboard as its first page (backorders/dashboard/apps.py).
    "backorders.dashboard.apps.BackordersAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's files as our own static files: the API docs need no CDN (and work offline).
    "drf_spectacular_sidecar",
    "anymail",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's, the demo store's, the storefront widget that themes load from
    # another origin) served by the project itself, also under gunicorn with DEBUG off: no
    # separate web server to set up. Compressed and cached; see STORAGES below.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A Content-Security-Policy on every page: strict on the app's and the project's pages, as
    # strict as Django's admin allows on the admin (see backorders/csp.py).
    "backorders.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite under var/ is the embedded default; PostgreSQL in production.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Persistent connections (checked before reuse): a new PostgreSQL connection per request or per
# task would cost more than most of them.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for the lock instead of failing at once; IMMEDIATE avoids lock upgrades.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_backorders")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The standalone project's own German (the demo store's pages); the app ships its own catalogue.
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
# The standalone project's own static files (the demo store's stylesheet).
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic writes gzip and brotli copies that whitenoise serves; file names stay as they
    # are (no manifest), because themes embed /static/backorders/widget.js by its plain name.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# The demo store (/store/, config/store.py) shows this shop: the demo seed's by default.
STORE_SHOP_DOMAIN = env.str("STORE_SHOP_DOMAIN", default="demo-store.myshopify.com")

# Email: files under var/mail/ for the demo; any anymail provider or SMTP by environment.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="backorders@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"], e.g. ANYMAIL_POSTMARK_SERVER_TOKEN,
# ANYMAIL_WEBHOOK_SECRET.
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value for key, value in env.ENVIRON.items() if key.startswith("ANYMAIL_")
}

_DEMO_WEBHOOK_SECRET = "demo-webhook-secret"
# Platform (Shopify-style) app secrets: current and previous (accepted during a rotation).
# With DEBUG a published demo secret applies, so that the demo and `backorders_send_webhook` work
# out of the box; without DEBUG none does (`check --deploy` refuses to pass without any secret).
SHOPIFY_API_SECRET = env.str("SHOPIFY_API_SECRET", default=_DEMO_WEBHOOK_SECRET if DEBUG else "")
SHOPIFY_API_SECRET_PREVIOUS = env.str("SHOPIFY_API_SECRET_PREVIOUS", default="")

# Celery. Unset broker URL: tasks run in-process (demo and quick start only; a check warns).
_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not _BROKER_URL
# Celery acquires a broker connection even to run a task eagerly (it serialises the call): with
# no broker given, the in-memory transport (named with a host, so that kombu does not warn that
# it reverts to localhost), never a connection attempt to amqp://localhost.
CELERY_BROKER_URL = _BROKER_URL or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Survive crashes: a task is acknowledged after it ran, and re-queued if its worker died.
# Our tasks are idempotent (the database decides what is done), so a second run is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes the database connection around every task unless told to reuse it.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 30.0
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2.0
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task comes back after this long: longer than any task may run.
    "visibility_timeout": 2 * 60 * 60,
    # A hung or unreachable broker must never hang a web request.
    "socket_connect_timeout": 2,
    "socket_timeout": 2,
    "retry_on_timeout": False,
    "max_retries": 1,
}
# Publishing from a request: give up quickly; the database row and the periodic sweeper cover it.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# The app's periodic work (sweepers, pruning, reconciliation, digest): see backorders/beat.py.
CELERY_BEAT_SCHEDULE: dict[str, dict] = beat_schedule()

# Django REST framework: the storefront API (backorders/api/). Its views set their own
# authentication (none), permissions, parsers, renderers and throttle; what is left is the schema
# generator and whom to believe about the client's address: NUM_PROXIES trusted proxies in front
# of gunicorn (each appends to X-Forwarded-For). 0 = the connection's address only; left unset,
# DRF would take the whole X-Forwarded-For header, which a client writes itself, and the per-IP
# limits could be dodged.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Backorders API",
    "DESCRIPTION": (
        "The storefront API (/api/v1/storefront/): what a product page asks before a customer "
        "buys: each variant's state, badge and ETA, in-stock alternatives, a cart quote with "
        "checkout's rules, and the restock-alert sign-up. Anonymous; ids are the platform's; "
        "limited per client address (429 with Retry-After).\n\n"
        "The management API (/api/v1/manage/): what a shop's own systems change (variant "
        "policies, restock dates). Send a shop's API key, created in the admin under API tokens, "
        "as `Authorization: Bearer bko_…`; every id is looked up within that shop (another "
        "shop's ids are 404); a refused field is a 400 naming it, and nothing is changed."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Django's cache: the storefront API's per-IP counters live here. Redis (CACHE_URL, e.g.
# redis://127.0.0.1:6379/1) shares them between every process and machine; the default, local
# memory, counts per process (the demo).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# The app's own settings (see backorders/conf.py for every name and its default).
BACKORDERS: dict[str, object] = {}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Production hardening, on unless DEBUG (check --deploy is clean with production values).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Webhooks must never be answered with a redirect (the platform counts a 3xx as a failure).
SECURE_REDIRECT_EXEMPT = [r"^webhooks/"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
