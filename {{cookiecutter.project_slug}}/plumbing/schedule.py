"""Periodic tasks: `@cron("0 3 * * *")` above a task's `@task()`, and the scheduler that enqueues
each due run on the database queue, for the worker to run like any other task.

django-crontask (the field's scheduler for the tasks API) needs Python 3.14 and Django 6, and
without Redis it has no lock: two schedulers (a deploy overlaps the old one) both enqueue every
run. This one keeps a row per periodic task with the last due time enqueued; a scheduler claims
a due time by moving that row forward (UPDATE ... WHERE due < new due) in the transaction that
enqueues the task, so however many schedulers run, each due time is enqueued once.

Schedules are cron expressions in UTC (like Railway's cron services), parsed by croniter; a
sixth field gives seconds. The rule for missed runs: after downtime, a task's runs missed
while no scheduler ran are coalesced into one, enqueued at once (a WARNING says how many);
a task seen for the first time starts at its next due time.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# Missed runs counted in a WARNING after downtime stop at this many (a per-second schedule
# down for a day would otherwise count 86,400 of them).
MAX_MISSED_COUNTED = 1000
# The scheduler looks at the clock at least this often (seconds), whatever its schedules say,
# and this soon again after a pass that failed (the database was down).
MAX_SLEEP = 60.0
RETRY_SLEEP = 5.0


@dataclass(frozen=True)
class Schedule:
    task: object  # the Task the @task() decorator made
    expression: str

    @property
    def name(self):
        return self.task.module_path

    def latest(self, now):
        """The latest due time at or before now."""
        return croniter(self.expression, now + timedelta(microseconds=1)).get_prev(datetime)

    def following(self, moment):
        """The first due time after moment."""
        return croniter(self.expression, moment).get_next(datetime)

    def missed_between(self, last, latest):
        """Due times strictly between last and latest (at most MAX_MISSED_COUNTED counted)."""
        missed, moment = 0, self.following(last)
        while moment < latest and missed < MAX_MISSED_COUNTED:
            missed, moment = missed + 1, self.following(moment)
        return missed


# Module path of the task -> its Schedule; filled by @cron when tasks modules are imported.
SCHEDULES: dict[str, Schedule] = {}


def cron(expression):
    """Enqueue the task below on this cron schedule (UTC): `@cron("*/15 * * * *")` above
    `@task()`. None leaves the task unscheduled (a schedule a setting turned off)."""

    def decorator(task):
        if expression is None:
            return task
        if not croniter.is_valid(expression):
            raise ImproperlyConfigured(
                f"{task.module_path}: {expression!r} is not a cron expression "
                "(minute hour day month weekday, e.g. '0 3 * * *')."
            )
        known = SCHEDULES.get(task.module_path)
        if known and known.expression != expression:
            raise ImproperlyConfigured(f"{task.module_path} is scheduled twice.")
        SCHEDULES[task.module_path] = Schedule(task, expression)
        return task

    return decorator


def claim(schedule, now):
    """Enqueue the schedule's latest due run unless a scheduler already has; returns the due
    time enqueued, or None. The claim and the enqueue commit together, or neither does."""
    from .models import ScheduledTask

    latest = schedule.latest(now)
    # Two schedulers meeting a new task: one creates the row, the other gets it.
    state, created = ScheduledTask.objects.get_or_create(
        task=schedule.name, defaults={"due": latest}
    )
    if created:
        logger.info(
            "Scheduled %s (%s UTC); first run at %s",
            schedule.name,
            schedule.expression,
            schedule.following(latest).isoformat(),
            extra={"task": schedule.name, "schedule": schedule.expression},
        )
        return None
    if state.due >= latest:
        return None
    with transaction.atomic():
        claimed = ScheduledTask.objects.filter(task=schedule.name, due__lt=latest).update(
            due=latest, enqueued_at=now
        )
        if not claimed:
            return None  # another scheduler enqueued it
        result = schedule.task.enqueue()
    missed = schedule.missed_between(state.due, latest)
    context = {"task": schedule.name, "due": latest.isoformat(), "task_id": str(result.id)}
    if missed:
        logger.warning(
            "Enqueued %s due %s once for %d missed runs before it (no scheduler was running)",
            schedule.name,
            latest.isoformat(),
            missed,
            extra={**context, "missed": missed},
        )
    else:
        logger.info("Enqueued %s due %s", schedule.name, latest.isoformat(), extra=context)
    return latest


class Scheduler:
    """Claims every schedule's due runs, then sleeps until the next one; stop() ends run()."""

    def __init__(self, schedules, clock=timezone.now):
        self.schedules = list(schedules)
        self.clock = clock
        self.stopping = threading.Event()

    def tick(self):
        """One pass over the schedules; returns the seconds to sleep before the next."""
        close_old_connections()  # a connection broken by a database restart is replaced
        now = self.clock()
        failed = False
        for schedule in self.schedules:
            try:
                claim(schedule, now)
            except Exception:
                # The database is down, or the task's module changed: logged, and tried again
                # soon. Nothing is marked enqueued unless it was.
                logger.exception("Could not enqueue %s", schedule.name)
                failed = True
        following = min((s.following(now) for s in self.schedules), default=None)
        wait = MAX_SLEEP if following is None else (following - self.clock()).total_seconds()
        return min(max(wait, 0.0), RETRY_SLEEP if failed else MAX_SLEEP)

    def run(self, once=False):
        while not self.stopping.is_set():
            wait = self.tick()
            if once:
                return
            self.stopping.wait(wait)

    def stop(self):
        self.stopping.set()


def schedules():
    """Every schedule of the project: imports each installed app's tasks module first."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")
    return [SCHEDULES[name] for name in sorted(SCHEDULES)]
