"""Settings of the real Celery worker the worker tests start in a subprocess.

The project's settings, with the email backend that records to files, a short Redis visibility
timeout (so that a task whose worker was SIGKILLed is redelivered within seconds, not hours) and
a hook that kills the worker before a task starts when a marker file exists.
"""

import os
import signal
from pathlib import Path

from celery.signals import task_prerun

from config.settings import *  # noqa: F403

EMAIL_BACKEND = "tests.services.notifications.backends.RecordingBackend"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "visibility_timeout": 3,
    "unacked_restore_throttle": 1,  # look for lost tasks on every idle poll, not every tenth
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1


@task_prerun.connect
def _kill_before_task(sender=None, **kwargs):
    """SIGKILL the whole worker before the task body runs (before it claims anything)."""
    marker = os.environ.get("EMAIL_KILL_BEFORE_TASK")
    if (
        marker
        and Path(marker).exists()
        and sender is not None
        and sender.name.endswith("notification_send_task")
    ):
        Path(marker).unlink()
        os.kill(os.getpid(), signal.SIGKILL)
