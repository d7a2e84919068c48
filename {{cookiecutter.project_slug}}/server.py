"""The web server: granian serving Django over WSGI (the Procfile runs `python server.py`).

granian reads request headers in Rust, so a client that sends them slowly costs no Python
thread; plumbing/bodies.py then reads each body on an idle thread before Django runs, and lets
WEB_THREADS requests per process into Django at a time, in arrival order. Slow clients cost
memory, not the threads that serve everyone else. Why granian over gunicorn, and what was
measured: the README's "Web server" section. https://github.com/emmett-framework/granian
"""

import os

# granian's own allocator (jemalloc, read at granian's import) keeps a cache per thread; each
# thread that holds a request then costs about 130 KB more: 7-17 MB per process after 100
# connections of load, for no throughput loss beyond our noise (measured in the template's
# docs/benchmarks-notes.md). Set the variable yourself to override.
# https://jemalloc.net/jemalloc.3.html#opt.tcache
os.environ.setdefault("_RJEM_MALLOC_CONF", "tcache:false")

from granian import Granian  # noqa: E402
from granian.constants import HTTPModes, Interfaces  # noqa: E402
from granian.http import HTTP1Settings  # noqa: E402
from granian.log import LogLevels  # noqa: E402

from config.env import env, env_int  # noqa: E402
from plumbing.logging import logging_config  # noqa: E402

PORT = env_int("PORT", 8000)
# Processes, one per core Railway gives the service.
WORKERS = env_int("WEB_CONCURRENCY", 2)
# Requests per process running Django at once, in arrival order, each seat with its own database
# connection. 2 beat 4 (1.22x the requests/s, a fifth of the p99 at 8 connections: the seats
# share one interpreter lock; the template's docs/benchmarks-notes.md); raise it when views
# wait on slow networks.
THREADS = env_int("WEB_THREADS", 2)
# Requests per process that may be receiving their bodies at once, each on an idle thread.
# With WEB_THREADS it caps the threads a process runs, so its memory under load (~75 KB a
# thread holding a request): 64 holds the template's test of 50 slow bodies + 2 slow uploads
# even if one process takes them all (the template's docs/benchmarks-notes.md).
SLOW_CLIENTS = env_int("WEB_SLOW_CLIENTS", 64)
# Seconds a client has to send the request line and headers (Railway's edge sends them at once).
HEADER_TIMEOUT = env_int("WEB_HEADER_TIMEOUT", 10)
# MiB: a process above this for two samples 30 s apart is replaced once its requests finish.
MAX_RSS = env_int("WEB_MAX_RSS", 512)
# Seconds requests in flight get to finish on SIGTERM; keep RAILWAY_DEPLOYMENT_DRAINING_SECONDS
# above it (README), or Railway kills the process first.
SHUTDOWN_TIMEOUT = env_int("WEB_SHUTDOWN_TIMEOUT", 25)


def application():
    """Each worker process's app: Django behind the body reader, in WEB_THREADS seats."""
    from config.wsgi import application as django_application
    from plumbing.bodies import BufferedBodies

    app = BufferedBodies(django_application, threads=THREADS, readers=SLOW_CLIENTS)
    return without_process_variables(app)


# What granian's WSGI puts in a request's environ itself (the request line, headers, addresses).
REQUEST_KEYS = {"GATEWAY_INTERFACE", "SCRIPT_NAME", "SERVER_SOFTWARE", "SERVER_PROTOCOL",
                "SERVER_NAME", "SERVER_PORT", "REMOTE_ADDR", "REQUEST_METHOD", "PATH_INFO",
                "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH"}  # fmt: skip


def without_process_variables(app):
    """granian starts each request's environ from a copy of the process's variables, as CGI did
    (Django's runserver does too; gunicorn does not), so request.META would hold
    DJANGO_SECRET_KEY, DATABASE_URL and every other secret: taken out here. Settings read them
    from os.environ, which is unchanged. A process variable named like a header (HTTP_PROXY)
    goes too, and with it any such header sent by a client (httpoxy)."""
    process_keys = frozenset(os.environ) - REQUEST_KEYS

    def app_without(environ, start_response):
        for key in process_keys:
            environ.pop(key, None)
        return app(environ, start_response)

    return app_without


def limit_malloc_arenas(arenas=2):
    """glibc gives each thread that allocates an arena of its own (up to 8 per core); our
    threads take turns under one interpreter lock, so 2 serve them as well: 1.6-2.2 MB less per
    process after 100 connections of load, for the same requests/s (measured in the template's
    docs/benchmarks-notes.md). Set before the fork, so the workers inherit it. The variable
    MALLOC_ARENA_MAX, read by glibc at start, overrides it; not glibc (macOS): nothing to do.
    https://www.gnu.org/software/libc/manual/html_node/Memory-Allocation-Tunables.html"""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    import ctypes

    m_arena_max = -8  # from glibc's malloc.h
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(m_arena_max, arenas)


def preload():
    """Import Django once here, before granian forks the workers (its way on Python 3.13), and
    move those objects out of the garbage collector's reach so no collection writes to them:
    the workers then share those pages instead of each holding its own copy (per worker, USS
    after load 72 -> 36 MB, PSS 77 -> 51 MB; measured in the template's
    docs/benchmarks-notes.md). Skipped where workers are spawned: they would import it again."""
    import gc
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        return
    from importlib import import_module

    from django.conf import settings
    from django.db import connections

    import config.wsgi  # noqa: F401  (settings, apps, middleware)
    import plumbing.bodies  # noqa: F401

    import_module(settings.ROOT_URLCONF)  # and through it every view
    connections.close_all()  # a connection must never be shared by two processes
    gc.freeze()


if __name__ == "__main__":
    limit_malloc_arenas()
    preload()
    Granian(
        "server:application",
        factory=True,
        address="::",  # IPv4 too; Railway's private network is IPv6-only
        port=PORT,
        interface=Interfaces.WSGI,
        http=HTTPModes.http1,  # what Railway's edge speaks to the service
        websockets=False,
        workers=WORKERS,
        blocking_threads=THREADS + SLOW_CLIENTS,
        backpressure=THREADS + SLOW_CLIENTS,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_TIMEOUT * 1000),
        log_level=LogLevels(env("LOG_LEVEL", "INFO").lower()),
        log_dictconfig=logging_config(),
        workers_max_rss=MAX_RSS,
        rss_samples=2,
        workers_kill_timeout=SHUTDOWN_TIMEOUT,
        respawn_failed_workers=True,
    ).serve()
