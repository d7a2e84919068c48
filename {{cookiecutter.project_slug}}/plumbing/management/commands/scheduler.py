"""`python manage.py scheduler`: enqueues periodic tasks when they are due (Procfile
`scheduler:` line, a third Railway service started with this same command).

Tasks are declared with `@cron(...)` in each app's tasks.py (plumbing/schedule.py); the worker
runs them. Two schedulers at once (a deploy overlaps the old one) enqueue each due run once.
`--once` makes one pass and exits: the start command of a Railway cron service instead.
On SIGTERM (a redeploy) it exits at once: nothing is half-done between passes.
"""

import logging
import signal

from django.core.management.base import BaseCommand

from plumbing.management.commands.worker import require_database_queue, wait_for_migrations
from plumbing.schedule import Scheduler, schedules

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue periodic tasks (@cron) when they are due; the worker runs them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Enqueue what is due now, then exit (for a Railway cron service).",
        )
        parser.add_argument(
            "--migration-timeout",
            type=float,
            default=600,
            help="Seconds to wait for the web service to migrate (default: %(default)s).",
        )

    def handle(self, *args, once, migration_timeout, **options):
        require_database_queue()
        wait_for_migrations(migration_timeout)
        found = schedules()
        logger.info(
            "Scheduler started with %d periodic tasks: %s",
            len(found),
            ", ".join(f"{s.name} ({s.expression})" for s in found) or "none",
            extra={"schedules": {s.name: s.expression for s in found}},
        )
        scheduler = Scheduler(found)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: scheduler.stop())
        scheduler.run(once=once)
        logger.info("Scheduler stopped")
