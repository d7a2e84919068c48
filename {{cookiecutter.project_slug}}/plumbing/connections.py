"""Health-check a reused database connection only once it has sat idle.

With CONN_HEALTH_CHECKS (config/settings.py), Django checks a persistent connection before
each request that uses it: on PostgreSQL a SELECT 1 round trip per request, which cost 8-22%
of the requests/s in the template's benchmark (docs/benchmarks-notes.md). A connection
that served a request less than DATABASE_HEALTH_CHECK_IDLE seconds ago was working then, so
its check is skipped; one idle for longer, the case the checks are for (a database restarted,
an idle connection dropped by the network), is checked before use as before. A connection
that failed during a request is still checked at the next one, however recent (Django's
errors_occurred). Django's own design discussion proposed this delay and left it out for
simplicity: https://code.djangoproject.com/ticket/30398
"""

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
        if last_request is not None and now - last_request < settings.DATABASE_HEALTH_CHECK_IDLE:
            connection.health_check_done = True


def connect():
    request_started.connect(skip_recent_health_checks, dispatch_uid="plumbing.connections")
