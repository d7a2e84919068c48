"""Periodic tasks (plumbing/schedule.py) with a controlled clock: each due time is enqueued once
however many schedulers run, runs missed during downtime are coalesced into one, a new task
starts at its next due time, and a failed enqueue claims nothing."""

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
{%- if cookiecutter.django_version == "6.1" %}
from django.tasks import task
{%- else %}
from django_tasks import task
{%- endif %}
from django_tasks_db.models import DBTaskResult

from plumbing.models import ScheduledTask
from plumbing.schedule import SCHEDULES, Schedule, Scheduler, cron, schedules

# Real transactions: each pass of the scheduler closes connections left inside one (as a
# test's would be), as the worker does.
pytestmark = pytest.mark.django_db(transaction=True)
DAILY = "0 3 * * *"
START = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@task()
def report():
    return "sent"


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def enqueued():
    return DBTaskResult.objects.filter(task_path=report.module_path).count()


def state():
    return ScheduledTask.objects.get(task=report.module_path)


def test_a_new_schedule_starts_at_its_next_due_time(database_queue, caplog):
    clock = Clock(START)
    with caplog.at_level(logging.INFO, logger="plumbing.schedule"):
        Scheduler([Schedule(report, DAILY)], clock).tick()
    assert enqueued() == 0  # 03:00 today passed before the task was known: not run
    assert state().due == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    assert "first run at 2026-12-07T03:00:00+00:00" in caplog.text


def test_two_schedulers_enqueue_each_due_time_once(database_queue):
    clock = Clock(START)
    first, second = (Scheduler([Schedule(report, DAILY)], clock) for _ in range(2))
    first.tick()
    for day in range(1, 4):
        clock.now = START + timedelta(days=day)
        first.tick()
        second.tick()
        second.tick()
        assert enqueued() == day
    assert state().due == datetime(2026, 12, 9, 3, 0, tzinfo=UTC)


def test_runs_missed_during_downtime_are_enqueued_once_with_a_warning(database_queue, caplog):
    clock = Clock(START)
    scheduler = Scheduler([Schedule(report, DAILY)], clock)
    scheduler.tick()
    clock.now = START + timedelta(days=4)  # no scheduler ran on days 1 to 3
    with caplog.at_level(logging.INFO, logger="plumbing.schedule"):
        scheduler.tick()
        scheduler.tick()
    assert enqueued() == 1
    warning = next(r for r in caplog.records if r.levelname == "WARNING")
    assert warning.missed == 3 and warning.due == "2026-12-10T03:00:00+00:00"


def test_the_scheduler_sleeps_until_the_next_due_time(database_queue):
    clock = Clock(datetime(2026, 12, 6, 2, 59, 30, tzinfo=UTC))
    assert Scheduler([Schedule(report, DAILY)], clock).tick() == 30
    clock.now = START
    assert Scheduler([Schedule(report, DAILY)], clock).tick() == 60  # never longer than a minute


def test_stop_ends_the_wait_at_once():
    scheduler = Scheduler([])  # nothing due: it would sleep a full minute
    runner = threading.Thread(target=scheduler.run)
    runner.start()
    time.sleep(0.2)
    scheduler.stop()  # what SIGTERM does (the scheduler command's handler)
    runner.join(timeout=5)
    assert not runner.is_alive()


def test_a_failed_enqueue_claims_nothing_and_is_retried_soon(database_queue, caplog):
    class Broken:
        module_path = report.module_path

        def enqueue(self):
            raise ConnectionError("database went away")

    clock = Clock(START)
    Scheduler([Schedule(report, DAILY)], clock).tick()
    clock.now = START + timedelta(days=1)
    with caplog.at_level(logging.ERROR, logger="plumbing.schedule"):
        assert Scheduler([Schedule(Broken(), DAILY)], clock).tick() == 5
    assert "Could not enqueue" in caplog.text and enqueued() == 0
    assert state().due == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)  # still unclaimed
    Scheduler([Schedule(report, DAILY)], clock).tick()
    assert enqueued() == 1


def test_schedules_are_listed_in_the_admin(database_queue, admin_client, settings):
    Scheduler([Schedule(report, DAILY)], Clock(START)).tick()
    page = admin_client.get(f"/{settings.ADMIN_URL}plumbing/scheduledtask/", secure=True)
    assert page.status_code == 200 and report.module_path in page.content.decode()


def test_a_bad_cron_expression_names_the_task():
    with pytest.raises(ImproperlyConfigured, match="report: 'every day' is not a cron"):
        cron("every day")(report)


def test_the_project_schedules_the_token_clean_up_and_the_backup(settings):
    names = {s.name: s.expression for s in schedules()}
    assert names["accounts.tasks.delete_expired_tokens"] == "7 * * * *"
    assert ("plumbing.tasks.backup_database" in SCHEDULES) == bool(settings.BACKUP_SCHEDULE)


def test_the_scheduler_refuses_to_start_without_the_database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": settings.TASKS_BACKENDS["immediate"]}}
    with pytest.raises(CommandError, match="Set TASKS_BACKEND=database"):
        call_command("scheduler", once=True)
