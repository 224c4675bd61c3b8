"""Settings of the worker started by bench/emails_send.py: the project's, with anymail's test
backend, database connections kept across tasks, and a count of every statement each worker
process runs (written to $BENCH_QUERY_DIR when the process ends)."""

import os
import threading
from pathlib import Path

from celery.signals import worker_process_shutdown, worker_shutdown
from django.db.backends.signals import connection_created

from config.settings import *  # noqa: F403

EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
# Celery closes the task's database connection before and after every task unless told to reuse
# it: a new PostgreSQL connection per email would cost more than the email.
CELERY_DB_REUSE_MAX = 1000
DATABASES["default"]["CONN_MAX_AGE"] = 600  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

_queries = [0]
_lock = threading.Lock()


def _count(execute, sql, params, many, context):
    with _lock:
        _queries[0] += 1
    return execute(sql, params, many, context)


def _attach(sender, connection, **kwargs):
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


def _report(**kwargs):
    directory = os.environ.get("BENCH_QUERY_DIR")
    if directory:
        (Path(directory) / f"{os.getpid()}.count").write_text(str(_queries[0]))


connection_created.connect(_attach)
worker_process_shutdown.connect(_report)
worker_shutdown.connect(_report)
