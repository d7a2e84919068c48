"""A failed task on the database backend is queued again, logged, and given up after
TASKS_MAX_ATTEMPTS runs (plumbing/tasks.py), using django-tasks-db's own worker loop."""

import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
{%- if cookiecutter.django_version == "6.1" %}
from django.tasks import TaskResultStatus, task
{%- else %}
from django_tasks import TaskResultStatus, task
{%- endif %}

# Real transactions: db_worker closes connections that are inside one (as a test's would be).
pytestmark = pytest.mark.django_db(transaction=True)
calls = []


@task()
def fails_twice():
    calls.append(1)
    if len(calls) <= 2:
        raise ConnectionError("provider unavailable")
    return len(calls)


@pytest.fixture
def run_once(settings, caplog, run_worker):
    """Enqueue fails_twice on the database backend, run the worker until nothing is ready, and
    return the refreshed result."""
    settings.TASKS_RETRY_DELAY = 0
    calls.clear()

    def run():
        result = fails_twice.enqueue()
        with caplog.at_level(logging.INFO):
            run_worker()
        result.refresh()
        return result

    return run


def test_failed_task_is_retried_until_it_succeeds(settings, run_once, caplog):
    settings.TASKS_MAX_ATTEMPTS = 3
    result = run_once()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 3 and result.attempts == 3
    retries = [r for r in caplog.records if r.name == "plumbing.tasks"]
    assert [(r.levelname, r.attempt) for r in retries] == [("WARNING", 1), ("WARNING", 2)]
    assert retries[0].error == "builtins.ConnectionError"


def test_failed_task_is_given_up_after_max_attempts(settings, run_once, caplog):
    settings.TASKS_MAX_ATTEMPTS = 2
    result = run_once()
    assert result.status == TaskResultStatus.FAILED and result.attempts == 2
    gave_up = [r for r in caplog.records if r.name == "plumbing.tasks" and r.levelname == "ERROR"]
    assert len(gave_up) == 1 and "giving up" in gave_up[0].getMessage()


def test_retry_waits_before_the_next_run(settings, run_once):
    settings.TASKS_RETRY_DELAY = 60
    result = run_once()  # one failure, then the queue has nothing ready for a minute
    assert result.status == TaskResultStatus.READY and result.attempts == 1
    assert len(calls) == 1


def test_worker_refuses_to_start_when_tasks_run_immediately(settings):
    settings.TASKS_BACKEND = "immediate"
    with pytest.raises(CommandError, match="Set TASKS_BACKEND=database"):
        call_command("worker")


def test_app_code_imports_task_from_plumbing_on_either_django_line():
    from plumbing import tasks

    assert tasks.task is task and tasks.TaskResultStatus is TaskResultStatus
