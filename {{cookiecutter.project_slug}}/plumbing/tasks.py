"""The tasks API for app code, retries for background tasks with a log line each; the backup.

`from plumbing.tasks import task` is the one import app code needs: the tasks API of this
project's Django line (Django's own, or its backport), so app code does not change with it.

The tasks API (django.tasks) records a failure and stops; django-tasks-db has no retries of its
own. On the database backend a failed task is put back in the queue, on the same row (so its
attempt count and history stay in one place), until it has run settings.TASKS_MAX_ATTEMPTS
times, waiting TASKS_RETRY_DELAY seconds, doubled after each failure. The tasks API itself logs
every failure with its traceback at ERROR (and so to Sentry); this adds a WARNING for each retry
and an ERROR when the task is given up. The immediate backend (local work, tests) never retries.
"""

import logging
from datetime import timedelta

from django.conf import settings
{%- if cookiecutter.django_version == "6.1" %}
from django.tasks import TaskResultStatus, task
from django.tasks.signals import task_finished
{%- endif %}
from django.utils import timezone
{%- if cookiecutter.django_version == "5.2" %}
from django_tasks import TaskResultStatus, task
from django_tasks.signals import task_finished
{%- endif %}
from django_tasks_db import DatabaseBackend

from .schedule import cron

__all__ = ["TaskResultStatus", "task"]

logger = logging.getLogger(__name__)


def retry_delay(attempts):
    """Seconds to wait after the given number of failed runs: the base delay, doubled each time."""
    return settings.TASKS_RETRY_DELAY * 2 ** (attempts - 1)


def retry_failed_task(sender, task_result, **kwargs):
    """task_finished receiver: queue a failed database task again, or log that it is given up."""
    if task_result.status != TaskResultStatus.FAILED:
        return
    if not isinstance(task_result.task.get_backend(), DatabaseBackend):
        return
    from django_tasks_db.models import DBTaskResult

    attempts = task_result.attempts
    context = {
        "task_id": str(task_result.id),
        "task": task_result.task.module_path,
        "attempt": attempts,
        "max_attempts": settings.TASKS_MAX_ATTEMPTS,
        "error": task_result.errors[-1].exception_class_path if task_result.errors else "",
    }
    if attempts >= settings.TASKS_MAX_ATTEMPTS:
        logger.error("Task %s failed %d times; giving up", context["task"], attempts, extra=context)
        return
    delay = retry_delay(attempts)
    DBTaskResult.objects.filter(id=task_result.id, status=TaskResultStatus.FAILED).update(
        status=TaskResultStatus.READY,
        run_after=timezone.now() + timedelta(seconds=delay),
        finished_at=None,
    )
    logger.warning(
        "Task %s failed (attempt %d of %d); retrying in %gs",
        context["task"],
        attempts,
        settings.TASKS_MAX_ATTEMPTS,
        delay,
        extra={**context, "retry_in": delay},
    )


@cron(settings.BACKUP_SCHEDULE)
@task()
def backup_database():
    """The scheduled backup (BACKUP_SCHEDULE, plumbing/backup.py); returns the backup's name."""
    from .backup import backup

    return backup()


def connect():
    """Called from PlumbingConfig.ready()."""
    task_finished.connect(retry_failed_task, dispatch_uid="plumbing.tasks.retry_failed_task")
