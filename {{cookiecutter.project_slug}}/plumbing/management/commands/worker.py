"""`python manage.py worker`: the background worker (Procfile `worker:` line, a second Railway
service started with this same command).

It runs django-tasks-db's db_worker on every queue, after two steps that command leaves out:
it waits until the web service has applied the migrations (both services deploy together and
only web migrates), and it deletes finished task results older than TASKS_RESULTS_DAYS.
On SIGTERM (a redeploy) db_worker finishes the task in hand, then exits.
"""

import logging
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
{%- if cookiecutter.django_version == "6.1" %}
from django.tasks import task_backends
{%- else %}
from django_tasks import task_backends
{%- endif %}
from django_tasks_db import DatabaseBackend

logger = logging.getLogger(__name__)


def pending_migrations():
    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def require_database_queue():
    """Refuse to start unless tasks go to the database queue (shared with the scheduler)."""
    if not isinstance(task_backends["default"], DatabaseBackend):
        raise CommandError(
            f"TASKS_BACKEND is {settings.TASKS_BACKEND}: tasks run where they are enqueued, "
            "so the worker and the scheduler have nothing to do. Set TASKS_BACKEND=database."
        )


def wait_for_migrations(timeout):
    """Wait until the web service has applied the migrations (only web migrates)."""
    deadline = time.monotonic() + timeout
    while pending_migrations():
        if time.monotonic() > deadline:
            raise CommandError("Migrations are still pending: is the web service deploying?")
        logger.info("Waiting for the web service to apply the migrations")
        time.sleep(5)
        connection.close()


class Command(BaseCommand):
    help = "Run the background worker: wait for migrations, prune old results, run db_worker."

    def add_arguments(self, parser):
        parser.add_argument(
            "--migration-timeout",
            type=float,
            default=600,
            help="Seconds to wait for the web service to migrate (default: %(default)s).",
        )

    def handle(self, *args, migration_timeout, verbosity, **options):
        require_database_queue()
        wait_for_migrations(migration_timeout)
        call_command(
            "prune_db_task_results",
            queue_name="*",
            min_age_days=settings.TASKS_RESULTS_DAYS,
            verbosity=verbosity,
        )
        call_command("db_worker", queue_name="*", reload=False, verbosity=verbosity)
