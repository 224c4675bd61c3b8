"""The Celery application of the standalone project: ``celery -A config worker`` / ``beat``.

All configuration lives in Django settings under the ``CELERY_`` prefix (see config/settings.py).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
