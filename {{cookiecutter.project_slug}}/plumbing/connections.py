"""Health-check a reused database connection only when it may have broken.

With CONN_HEALTH_CHECKS (config/settings.py), Django checks a persistent connection before
each request that uses it: on PostgreSQL a SELECT 1 round trip per request, which cost 8-22%
of the requests/s in the template's benchmark (docs/benchmarks-notes.md). The check is kept
wherever it can find something, and skipped otherwise:
- a connection idle for DATABASE_HEALTH_CHECK_IDLE seconds or more is checked (a network that
  drops idle connections without a word);
- so is one whose socket has something to read while it sits between requests: a restarted
  database, pg_terminate_backend or a proxy that closed it leave the end of the stream (or the
  server's farewell) there, seen without a round trip;
- a connection that failed during a request is checked at the next one (Django's
  errors_occurred, before this runs).
Django's own design discussion proposed the idle delay and left it out for simplicity:
https://code.djangoproject.com/ticket/30398
"""

import select
import time

from django.conf import settings
from django.core.signals import request_started
from django.db import connections


def skip_recent_health_checks(**kwargs):
    """request_started receiver; runs after Django's close_old_connections, which asks for the
    check (receivers run in the order they were connected, and django.db connects first)."""
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        last_request = getattr(connection, "last_request_started", None)
        connection.last_request_started = now
        recent = (
            last_request is not None and now - last_request < settings.DATABASE_HEALTH_CHECK_IDLE
        )
        if recent and nothing_arrived(connection.connection):
            connection.health_check_done = True


def nothing_arrived(database_connection):
    """Whether the socket under an idle connection has nothing to read. SQLite has no socket
    (and its check costs nothing)."""
    fileno = getattr(database_connection, "fileno", None)
    if fileno is None:
        return True
    poller = select.poll()
    poller.register(fileno(), select.POLLIN)
    return not poller.poll(0)


def connect():
    request_started.connect(skip_recent_health_checks, dispatch_uid="plumbing.connections")
