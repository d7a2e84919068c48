import socket
import subprocess
import sys

import pytest
from django.db import connection

from plumbing import connections

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch, settings):
    settings.DATABASE_HEALTH_CHECK_IDLE = 5
    now = [1000.0]
    monkeypatch.setattr(connections.time, "monotonic", lambda: now[0])
    connection.ensure_connection()
    monkeypatch.delattr(connection, "last_request_started", raising=False)
    return now


def next_request():
    """What request_started does to the connection: Django asks for a check, then ours runs."""
    connection.health_check_done = False
    connections.skip_recent_health_checks()
    return "checked" if not connection.health_check_done else "skipped"


def test_a_connection_is_checked_only_after_sitting_idle(clock):
    assert next_request() == "checked"  # first seen: not known to be recent
    clock[0] += 4.9
    assert next_request() == "skipped"
    clock[0] += 4.9
    assert next_request() == "skipped"  # idle time counts from the last request, not the check
    clock[0] += 5.0
    assert next_request() == "checked"


def test_a_recent_connection_with_something_on_its_socket_is_checked(clock, monkeypatch):
    monkeypatch.setattr(connections, "nothing_arrived", lambda database_connection: False)
    assert next_request() == "checked"
    clock[0] += 1
    assert next_request() == "checked"  # however recent its last request


def test_a_closed_socket_shows_without_a_round_trip():
    """What a restart or pg_terminate_backend leaves on an idle connection's socket: the end of
    the stream (a socket pair stands in for psycopg's connection: both have fileno())."""
    ours, server = socket.socketpair()
    try:
        assert connections.nothing_arrived(ours)
        server.close()
        assert not connections.nothing_arrived(ours)
    finally:
        ours.close()


def test_zero_checks_before_every_request(clock, settings):
    settings.DATABASE_HEALTH_CHECK_IDLE = 0
    assert [next_request() for _ in range(3)] == ["checked"] * 3


def test_runs_after_django_asks_for_the_check(settings):
    """Read in a new process, as the server starts: Django's test client disconnects and
    reconnects Django's receiver around each request, which reorders them in this one."""
    code = (
        "import django; django.setup(); from django.core.signals import request_started; "
        "print(' '.join(entry[1]().__name__ for entry in request_started.receivers))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    receivers = result.stdout.split()
    assert result.returncode == 0, result.stderr
    assert receivers.index("close_old_connections") < receivers.index("skip_recent_health_checks")
