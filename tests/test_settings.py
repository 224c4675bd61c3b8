"""The project's settings come from the environment; these parse them in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from backorders.conf import UnknownSetting, get_setting
from config.celery import app

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json
from config import settings as s
print(json.dumps({
    "db": s.DATABASES["default"]["ENGINE"], "name": str(s.DATABASES["default"]["NAME"]),
    "host": s.DATABASES["default"].get("HOST"), "eager": s.CELERY_TASK_ALWAYS_EAGER,
    "broker": s.CELERY_BROKER_URL, "email": s.EMAIL_BACKEND, "site": s.SITE_URL,
    "anymail": s.ANYMAIL, "debug": s.DEBUG, "hosts": s.ALLOWED_HOSTS,
}))
"""


def settings_with(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG"}}
    clean.update(env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_embedded_defaults_are_sqlite_in_process_tasks_and_file_emails():
    values = settings_with(SECRET_KEY="x")
    assert values["db"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("var/db.sqlite3")
    assert (
        values["eager"] is True and values["broker"] == "memory://localhost/"
    )  # in-process, never a network broker
    assert values["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert values["site"] == "http://127.0.0.1:8000"


def test_database_and_broker_urls_are_read_from_the_environment():
    values = settings_with(
        SECRET_KEY="x",
        DATABASE_URL="postgres://shop:pw@db.internal:5432/backorders",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        ANYMAIL_POSTMARK_SERVER_TOKEN="token",
        SITE_URL="https://backorders.example.com/",
    )
    assert values["db"] == "django.db.backends.postgresql"
    assert (values["name"], values["host"]) == ("backorders", "db.internal")
    assert values["eager"] is False and values["broker"] == "redis://127.0.0.1:6379/0"
    assert values["anymail"] == {"POSTMARK_SERVER_TOKEN": "token"}
    assert values["site"] == "https://backorders.example.com"


def test_secret_key_is_required_outside_debug():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr
    assert settings_with(DEBUG="true")["debug"] is True  # the demo default key applies


def test_celery_is_configured_to_survive_crashes_and_outages():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    options = conf.broker_transport_options
    assert options["visibility_timeout"] == 2 * 60 * 60
    assert options["socket_connect_timeout"] <= 2 and options["socket_timeout"] <= 2
    assert conf.worker_soft_shutdown_timeout > 0
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_publish_retry_policy["max_retries"] <= 1
    assert "backorders-stock-reconcile" in conf.beat_schedule


def test_app_settings_have_defaults_and_reject_unknown_names():
    assert get_setting("DEFAULT_HANDLING_DAYS") == 1
    with override_settings(BACKORDERS={"DEFAULT_HANDLING_DAYS": 3}):
        assert get_setting("DEFAULT_HANDLING_DAYS") == 3
    with pytest.raises(UnknownSetting, match="no setting named 'HANDLING'"):
        get_setting("HANDLING")
    with override_settings(BACKORDERS={"DEFAULT_HANDLNG_DAYS": 3}):
        assert "backorders.E002" in [e.id for e in run_checks()]


@override_settings(DEBUG=False, CELERY_TASK_ALWAYS_EAGER=True)
def test_a_check_warns_when_tasks_run_in_process_outside_debug():
    assert "backorders.W001" in [e.id for e in run_checks()]
