"""Time spent waiting on the database: slow requests and slow queries are logged, and in the web
server a query waiting on a database that stopped answering is cut off.

Slow lines: SlowRequestMiddleware counts and times each request's queries (Django's
execute_wrapper, on the default database) and logs a WARNING for a request slower than
SLOW_REQUEST_MS, with its route, time, number of queries and their time, and one for a query
slower than SLOW_QUERY_MS.

Stalls: when the network path to PostgreSQL stalls (a partition, a failover, a proxy that
hangs), bytes simply stop; nothing is refused or reset, and psycopg waits for a reply forever.
The server's statement_timeout (set to DATABASE_TIMEOUT on each connection the web server opens)
ends slow queries, and TCP keepalives and tcp_user_timeout (config/env.py) end a connection whose
peer vanished, but neither fires while something in between still acknowledges the bytes. So the
web server runs a watchdog thread that looks at each thread's connection twice a second and shuts
down the socket of one that has waited for a reply (libpq's transaction status ACTIVE) too long:
DATABASE_TIMEOUT + 1 seconds for a query, DATABASE_CONNECT_TIMEOUT for the round trips Django
makes between queries (the check of a kept connection, commit), which take milliseconds. The
waiting thread then gets an OperationalError at once: the request answers 503
(plumbing/views.py) and Django opens a new connection for the next one. Written here because
neither Django nor psycopg bounds the wait for a reply on the client side.
"""

import logging
import os
import socket
import threading
import time
from time import perf_counter

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.signals import connection_created

__all__ = ["SlowRequestMiddleware", "watch_database", "watched_connection"]

logger = logging.getLogger(__name__)

WATCH_INTERVAL = 0.5  # seconds between the watchdog's looks
SQL_LOGGED = 500  # characters of a slow query's SQL in its log line (parameters never are)


class Watch:
    """One thread's connection to the default database: the execute_wrapper that counts and
    times its queries (and logs a slow one), and what the watchdog knows of it. Installed once
    per thread, for the thread's life: entering Django's execute_wrapper on every request cost
    more than everything else here together."""

    __slots__ = ("database", "installed", "progress", "seen", "since", "count", "seconds", "slow")

    def __init__(self, database):
        self.database = database  # the thread's DatabaseWrapper
        self.installed = None  # the execute_wrapper context that keeps this one in place
        self.progress = 0  # goes up as each of its queries starts and ends: odd during one
        self.seen = -1  # progress when the watchdog first saw it waiting
        self.since = 0.0
        self.count = 0  # queries, and their seconds, since the request began
        self.seconds = 0.0
        self.slow = float("inf")  # seconds that make a query slow (SLOW_QUERY_MS)

    def __call__(self, execute, sql, params, many, context):
        self.progress += 1
        start = perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = perf_counter() - start
            self.progress += 1
            self.count += 1
            self.seconds += elapsed
            if elapsed >= self.slow:
                duration_ms = round(elapsed * 1000, 1)
                logger.warning(
                    "Slow query %.0fms: %s",
                    duration_ms,
                    sql[:SQL_LOGGED],
                    extra={"duration_ms": duration_ms, "sql": sql[:SQL_LOGGED]},
                )


watches: dict[int, Watch] = {}  # thread id -> its Watch, for the watchdog
this_thread = threading.local()  # .watch: its Watch


def watched_connection() -> Watch:
    """This thread's Watch, made and installed on its first call (the threads live as long as
    the process)."""
    try:
        return this_thread.watch
    except AttributeError:
        watch = this_thread.watch = Watch(connections[DEFAULT_DB_ALIAS])
        # Entered and never left; kept, since its end (when collected) would remove the wrapper.
        watch.installed = watch.database.execute_wrapper(watch)
        watch.installed.__enter__()
        watches[threading.get_ident()] = watch
        return watch


class SlowRequestMiddleware:
    """A WARNING line for a request slower than SLOW_REQUEST_MS (and, through its thread's Watch,
    for a query slower than SLOW_QUERY_MS). Sits below RequestLogMiddleware, so its lines carry
    the request id."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.slow_request = settings.SLOW_REQUEST_MS / 1000
        self.slow_query = settings.SLOW_QUERY_MS / 1000

    def __call__(self, request):
        watch = watched_connection()
        watch.count, watch.seconds, watch.slow = 0, 0.0, self.slow_query
        start = perf_counter()
        response = self.get_response(request)
        elapsed = perf_counter() - start
        if elapsed >= self.slow_request:
            match = request.resolver_match
            route = "/" + match.route if match else request.path
            duration_ms = round(elapsed * 1000, 1)
            query_ms = round(watch.seconds * 1000, 1)
            logger.warning(
                "Slow request %s %s %.0fms, %d queries %.0fms",
                request.method,
                route,
                duration_ms,
                watch.count,
                query_ms,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "queries": watch.count,
                    "query_ms": query_ms,
                },
            )
        return response


# --- The web server's bounds on waiting for PostgreSQL --------------------------------------------
def watch_database() -> None:
    """Bound every wait on the default database in this process (server.py calls it once per
    web process): a statement timeout on each new connection, and the watchdog."""
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return
    connection_created.connect(set_statement_timeout, dispatch_uid="plumbing.statement_timeout")
    limits = (settings.DATABASE_CONNECT_TIMEOUT, settings.DATABASE_TIMEOUT + 1)
    threading.Thread(target=watchdog, args=limits, name="database-watchdog", daemon=True).start()


def set_statement_timeout(sender, connection, **kwargs):
    """The server cancels a statement of the web server's after DATABASE_TIMEOUT seconds. Set per
    connection, here, rather than in DATABASES: migrations, backups and tasks may take longer."""
    if connection.alias == DEFAULT_DB_ALIAS:
        with connection.cursor() as cursor:
            timeout = f"{settings.DATABASE_TIMEOUT}s"
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [timeout])


def watchdog(between_queries: float, query: float) -> None:
    """Forever: cut the connection of a thread that has waited too long for a reply: `query`
    seconds in a query, `between_queries` in any other round trip."""
    from psycopg.pq import TransactionStatus

    while True:
        time.sleep(WATCH_INTERVAL)
        now = time.monotonic()
        for watch in tuple(watches.values()):
            try:
                connection = watch.database.connection  # psycopg's; None once closed
                waiting = (
                    connection is not None
                    and connection.info.transaction_status == TransactionStatus.ACTIVE
                )
                if not waiting:
                    watch.seen = -1
                elif watch.progress != watch.seen:
                    watch.seen, watch.since = watch.progress, now
                elif now - watch.since >= (query if watch.progress % 2 else between_queries):
                    watch.seen = -1
                    if cut(connection):
                        waited = round(now - watch.since, 1)
                        logger.error("Database stalled: no reply in %ss, connection cut", waited)
            except Exception:  # the watchdog must outlive anything one connection does
                logger.exception("Database watchdog")


def cut(connection) -> bool:
    """Shut the connection's socket down, which wakes the thread waiting on it with an error.
    Through a duplicate of the descriptor, checked after the copy: if the connection was closed
    meanwhile, its number may already belong to another file."""
    try:
        descriptor = os.dup(connection.pgconn.socket)
    except Exception:  # closed already
        return False
    try:
        sock = socket.socket(fileno=descriptor)
    except OSError:
        os.close(descriptor)
        return False
    with sock:
        if connection.closed:
            return False
        sock.shutdown(socket.SHUT_RDWR)
    return True
