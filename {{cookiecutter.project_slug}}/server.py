"""The web server: granian serving Django (the Procfile runs `python server.py`).

granian reads request headers in Rust, so a client that sends them slowly costs no Python
thread; through its RSGI interface, plumbing/bodies.py then reads each body on the process's
event loop before Django runs, and runs Django on WEB_THREADS threads per process, in arrival
order. Slow clients cost memory, not the threads that serve everyone else. What each limit
does, and its variable: docs/web-server.md.
https://github.com/emmett-framework/granian
"""

import ctypes
import os
import sys

from granian import Granian
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels

from config.env import env, env_int
from plumbing.logging import logging_config

PORT = env_int("PORT", 8000)
# Processes, one per core Railway gives the service.
WORKERS = env_int("WEB_CONCURRENCY", 2)
# Requests per process running Django at once, in arrival order, each thread with its own
# database connection. The threads share one interpreter lock, so more only helps views that
# wait on slow networks.
THREADS = env_int("WEB_THREADS", 2)
# Seconds a thread back from the database may wait for the interpreter lock while another runs
# Python: CPython's 5 ms default adds up to 5 ms to a request whenever two are in a process.
# https://docs.python.org/3/library/sys.html#sys.setswitchinterval
SWITCH_INTERVAL = 0.001
# Requests per process that may be receiving their bodies at once (past it, 503): a cap on the
# memory their bytes take, up to FILE_UPLOAD_MAX_MEMORY_SIZE each before they go to a temporary
# file. Waiting costs no thread; 64 holds the template's test of 50 slow bodies + 2 slow
# uploads even if one process takes them all.
SLOW_CLIENTS = env_int("WEB_SLOW_CLIENTS", 64)
# Of those, how many one client address may hold (past it, 429), so one client cannot take all.
SLOW_CLIENTS_PER_ADDRESS = env_int("WEB_SLOW_CLIENTS_PER_ADDRESS", 16)
# MiB of request bodies a process keeps in memory; the rest wait in temporary files.
BODY_MEMORY = env_int("WEB_BODY_MEMORY", 32)
# Bytes of request line and headers (past it, 431): Railway's edge allows 32 KB.
MAX_HEADER_SIZE = max(env_int("WEB_MAX_HEADER_SIZE", 32_768), 8192)  # hyper's least
# Seconds a client has to send the request line and headers (Railway's edge sends them at once).
HEADER_TIMEOUT = env_int("WEB_HEADER_TIMEOUT", 10)
# MiB: a process above this for two samples 30 s apart is replaced once its requests finish.
MAX_RSS = env_int("WEB_MAX_RSS", 512)
# glibc's mallopt() parameter number (malloc.h).
M_MMAP_THRESHOLD = -3
# Seconds requests in flight get to finish on SIGTERM; keep RAILWAY_DEPLOYMENT_DRAINING_SECONDS
# above it (docs/deploy.md), or Railway kills the process first.
SHUTDOWN_TIMEOUT = env_int("WEB_SHUTDOWN_TIMEOUT", 25)


def application():
    """Each worker process's app: Django behind the body reader, on WEB_THREADS threads."""
    return_freed_memory()
    sys.setswitchinterval(SWITCH_INTERVAL)
    from config.wsgi import application as django_application
    from plumbing.bodies import DjangoOverRSGI
    from plumbing.queries import watch_database

    watch_database()  # a query that waits past DATABASE_TIMEOUT ends in 503, not a hang
    return DjangoOverRSGI(
        django_application,
        threads=THREADS,
        readers=SLOW_CLIENTS,
        per_address=SLOW_CLIENTS_PER_ADDRESS,
        memory=BODY_MEMORY * 1024 * 1024,
        header_limit=MAX_HEADER_SIZE,
    )


def return_freed_memory():
    """Have glibc's malloc give large freed blocks back to the system. By default it raises its
    mmap threshold as large blocks are freed, so after a burst of large request bodies their
    memory stays in the heap, held by the process. A fixed threshold turns that off."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): their allocators decide alone
        return
    libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)  # glibc's starting value, kept


def preload():
    """Import Django once here, before granian forks the workers (its way on Python 3.13), and
    move those objects out of the garbage collector's reach so no collection writes to them:
    the workers then share those pages instead of each holding its own copy, about half their
    private memory. Skipped where workers are spawned: they would import it again."""
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


def refuse_without_static_files():
    """Exit with one line if the build did not collect the static files: every page that links
    one would be a 500 (plumbing/storage.py)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from plumbing.storage import missing_static_files

    problem = missing_static_files()
    if problem:
        sys.exit(problem)


if __name__ == "__main__":
    refuse_without_static_files()
    preload()
    Granian(
        "server:application",
        factory=True,
        address="::",  # IPv4 too; Railway's private network is IPv6-only
        port=PORT,
        interface=Interfaces.RSGI,  # plumbing/bodies.py; Django stays WSGI
        http=HTTPModes.http1,  # what Railway's edge speaks to the service
        websockets=False,
        workers=WORKERS,
        http1_settings=HTTP1Settings(
            header_read_timeout=HEADER_TIMEOUT * 1000, max_buffer_size=MAX_HEADER_SIZE
        ),
        log_level=LogLevels(env("LOG_LEVEL", "INFO").lower()),
        log_dictconfig=logging_config(),
        workers_max_rss=MAX_RSS,
        rss_samples=2,
        workers_kill_timeout=SHUTDOWN_TIMEOUT,
        respawn_failed_workers=True,
    ).serve()
