"""A dependency that stalls, as a network partition or a failover does (nothing refused, nothing
reset, bytes simply stop, on the connections already open too): the Procfile web command of a
default bake, production variables, PostgreSQL and then the bucket reached through a forwarder
that can stall (tests/stalling.py). The site fails fast and recovers by itself: every health probe
answers within 3 s, static files within 1 s, a request that needs the database 503 within the
bound docs/web-server.md gives, and health 200 within 10 s of the database coming back, while
the stalled connections stay stalled."""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from http_clients import api, signup
from railway import HTTPS, PROBE
from rate_windows import concurrently
from stalling import StallingForwarder
from test_files import MotoServer, bucket_env

pytestmark = [pytest.mark.slow, pytest.mark.server]

STATIC_FILE = "/static/css/site.css"
# docs/web-server.md: with the defaults, a request waits at most 2 x DATABASE_CONNECT_TIMEOUT
# (the kept connection's check is cut, then a new connection times out), or DATABASE_TIMEOUT + 1
# for a query already waiting, plus the watchdog's half-second look: 6.5 s.
DATABASE_BOUND = 6.5
SLACK = 1.0  # a shared 2-core machine
FRESH = 3.1  # seconds a health result is shared by every probe (plumbing/health.py)


def timed(function, *args, **kwargs):
    start = time.monotonic()
    result = function(*args, **kwargs)
    return result, time.monotonic() - start


def probes(server, count=6):
    """`count` concurrent health probes: [((status, headers, body), seconds)]."""
    return concurrently(lambda _: timed(server.http.get, "/health/", PROBE, timeout=20), count)


def assert_probes_fail_fast(server, check):
    answers = probes(server)
    seconds = sorted(round(took, 2) for _, took in answers)
    print(f"health probes during the stall: {seconds}")
    for (status, headers, body), took in answers:
        assert status == 503 and took < 3, seconds
        assert headers["Cache-Control"] == "no-store"
        assert json.loads(body)["checks"][check] in ("timeout", "error")


def assert_static_file_fast(server):
    (status, _, body), took = timed(server.http.get, STATIC_FILE, HTTPS, timeout=20)
    print(f"static file during the stall: {took:.2f}s")
    assert status == 200 and body and took < 1


def test_database_stall_fails_fast_and_recovers_without_a_reset(server_factory, postgres_database):
    forwarder = StallingForwarder("127.0.0.1", 5432).start()
    url = re.sub(r"127\.0\.0\.1:5432", f"127.0.0.1:{forwarder.port}", postgres_database)
    server = server_factory("stall", DATABASE_URL=url, DATABASE_SSL_REQUIRE="false")
    try:
        token = signup(server)
        for _ in range(8):  # the Django threads keep their connections open
            assert api(server, "GET", "/api/auth/me/", token=token)[0] == 200

        forwarder.stall()
        with ThreadPoolExecutor(2) as pool:
            # Requests that need the database, on the threads' kept (now stalled) connections:
            # two, WEB_THREADS, so that none waits for a thread whichever process takes it (the
            # bound is a request's own wait; a queued one adds the wait of the one before it).
            waiting = [pool.submit(timed, api, server, "GET", "/api/auth/me/", token=token) for _ in range(2)]
            time.sleep(FRESH)  # the last result from before the stall has expired
            assert_probes_fail_fast(server, "database")
            assert_static_file_fast(server)
            answers = [future.result() for future in waiting]
        seconds = sorted(round(took, 2) for _, took in answers)
        print(f"database requests during the stall: {seconds}")
        for (status, headers, body), took in answers:
            assert status == 503 and took < DATABASE_BOUND + SLACK, seconds
            assert headers["Content-Type"] == "application/json" and headers["Retry-After"]
            assert json.loads(body) == {"detail": "Service temporarily unavailable, try again later."}

        forwarder.resume()
        start = time.monotonic()
        while server.http.get("/health/", PROBE, timeout=20)[0] != 200:
            assert time.monotonic() - start < 10, "not healthy 10 s after the database came back"
            time.sleep(0.25)
        print(f"healthy {time.monotonic() - start:.2f}s after the database came back")
        assert forwarder.held() > 0  # the stalled connections were never closed or answered
        statuses = [api(server, "GET", "/api/auth/me/", token=token)[0] for _ in range(8)]
        assert statuses == [200] * 8
        assert "Database stalled" in server.output()
        assert server.process.poll() is None  # the same processes throughout
    finally:
        forwarder.cut()


def test_bucket_stall_fails_health_fast_and_holds_nothing_else(server_factory, tmp_path):
    moto = MotoServer(tmp_path / "moto.log").start()
    forwarder = StallingForwarder("127.0.0.1", moto.port).start()
    try:
        bucket = moto.create_bucket()
        stalled_endpoint = f"http://127.0.0.1:{forwarder.port}"
        env = bucket_env(moto, bucket)
        env["ENDPOINT"] = stalled_endpoint
        server = server_factory("bucket-stall", **{k: v for k, v in env.items() if k not in ("PATH", "HOME", "LANG")})
        forwarder.stall()
        time.sleep(FRESH)
        assert_probes_fail_fast(server, "storage")
        assert_static_file_fast(server)
        # Requests that need neither the bucket nor a stalled dependency still answer.
        (status, _, _), took = timed(api, server, "GET", "/api/auth/me/")
        assert status == 401 and took < 1
    finally:
        forwarder.cut()
        moto.stop()
