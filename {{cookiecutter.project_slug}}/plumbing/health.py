"""Checks behind GET /health/: each returns nothing or raises.

/health/ answers within DEADLINE seconds whatever a dependency does, for every probe at once:
each check runs on a thread of its own (never on the threads serving requests), one run at a
time, and its result is kept for FRESH seconds and shared by every probe, so a monitor or a
client hammering /health/ cannot multiply the load on the database, Redis or the bucket. A probe
that finds a check still running past DEADLINE reports it as "timeout" at once.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import caches
from django.db import connection

from plumbing.media import check_bucket
from plumbing.queries import watched_connection

logger = logging.getLogger(__name__)

DEADLINE = 2.0  # seconds a probe waits for a check's run: /health/ answers within 3 s
FRESH = 3.0  # seconds a finished run's result is shared by every probe


def check_database():
    """A new connection and SELECT 1: what a request needs, and a stalled connection kept open
    cannot hide it. Closed at once; the web server's watchdog covers the wait for the reply."""
    watched_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


def check_cache():
    """The Redis cache that holds the rate-limit counters (only when REDIS_URL is set)."""
    caches["ratelimit"].get("health-check")


def check_storage():
    """The uploads bucket (only when one is configured): a HEAD request, never a listing."""
    check_bucket()


# name -> check; the name is what /health/ reports.
CHECKS = {"database": check_database}
if settings.REDIS_URL:
    CHECKS["cache"] = check_cache
if settings.MEDIA_BUCKET:
    CHECKS["storage"] = check_storage


class Runner:
    """One check on its own thread: at most one run at a time, its result kept FRESH seconds."""

    def __init__(self, name, check):
        self.name = name
        self.check = check
        self.pool = ThreadPoolExecutor(1, thread_name_prefix=f"health-{name}")
        self.lock = threading.Lock()
        self.running = None  # the future of the run under way
        self.started = 0.0
        self.result = None
        self.finished = float("-inf")

    def start(self):
        """(fresh result, None, 0) or (None, the current run's future, when it started),
        starting a run if none is under way."""
        with self.lock:
            if time.monotonic() - self.finished < FRESH:
                return self.result, None, 0.0
            if self.running is None:
                self.running = self.pool.submit(self.run)
                self.started = time.monotonic()
            return None, self.running, self.started

    def run(self):
        try:
            self.check()
        except Exception:
            logger.exception("Health check %s failed", self.name)
            result = "error"
        else:
            result = "ok"
        with self.lock:
            self.result, self.finished, self.running = result, time.monotonic(), None
        return result


runners: dict[tuple, Runner] = {}
runners_lock = threading.Lock()


def run_checks():
    """{name: "ok" | "error" | "timeout"}, within DEADLINE seconds; a failure is logged with
    its exception, never returned."""
    with runners_lock:
        current = []
        for name, check in CHECKS.items():
            runner = runners.get((name, check))
            if runner is None:
                runner = runners[name, check] = Runner(name, check)
            current.append(runner)
    # Every run starts before any is waited for, so the slowest sets the wait, not their sum.
    started = [(runner, *runner.start()) for runner in current]
    results = {}
    for runner, result, future, since in started:
        if future is not None:
            try:
                result = future.result(timeout=max(0.0, since + DEADLINE - time.monotonic()))
            except FutureTimeout:
                result = "timeout"
        results[runner.name] = result
    return results
