"""Shared start-up for benchmarks: a dedicated PostgreSQL database, migrated, Django ready."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "backorders_bench"
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")
# As in production, the emails and other work a change causes are queued for a worker (Redis
# database 14, emptied by ``teardown``), not run inside the measured process.
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")


def setup() -> None:
    """Create the benchmark database if missing, start Django, migrate, and empty our tables."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from backorders.models import Shop

    Shop.objects.filter(domain__startswith="bench-").delete()


def teardown() -> None:
    """Drop the tasks the benchmark queued: they are for rows it deletes."""
    from config.celery import app

    app.control.purge()
