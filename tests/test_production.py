"""The baked project as production runs it and breaks it: PostgreSQL, a database outage,
Sentry, logs, a redeploy, security headers and bad input. Procfile web command, real HTTP."""

import json
import re
import secrets
import signal
import socket
import time

import pytest

from baked_venvs import venv_env, venv_python
from fakes import SentryIngest, TcpForwarder
from http_clients import PASSWORD, api, request_answered_early, signup, staff_token
from processes import run
from railway import HTTPS, PROBE, RAILWAY_DOMAIN, production_env
from rate_windows import fresh_client_ip

pytestmark = [pytest.mark.slow, pytest.mark.server]


def wait_for(condition, timeout, interval=0.2):
    """Poll condition() until it returns a true value; return it and the seconds it took."""
    start = time.monotonic()
    while True:
        value = condition()
        if value or time.monotonic() - start > timeout:
            return value, time.monotonic() - start
        time.sleep(interval)


# 1. PostgreSQL -------------------------------------------------------------------------------
def test_web_command_migrates_and_serves_on_a_fresh_postgres_database(server_factory, postgres_database):
    server = server_factory("postgres", DATABASE_URL=postgres_database, DATABASE_SSL_REQUIRE="false")
    status, _, body = server.http.get("/health/", PROBE)
    assert status == 200 and json.loads(body)["checks"]["database"] == "ok"
    token = signup(server)  # tables from migrate, counters in the ratelimit_counter table
    # An address longer than the column (254) is refused by validation, not by PostgreSQL.
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"  # valid, 312 characters
    long_email = {"username": "longmail", "email": email, "password": PASSWORD}
    status, _, body = api(server, "POST", "/api/auth/signup/", long_email, ip=fresh_client_ip(period=3600))
    assert status == 400 and "email" in json.loads(body), body
    assert api(server, "GET", "/api/auth/me/", token=token)[0] == 200


@pytest.mark.parametrize("django_version", ["5.2", "6.1"])
def test_baked_test_suite_passes_on_postgres(default_project, default_venv, variant, postgres_database, django_version):
    project, venv = (default_project, default_venv) if django_version == "5.2" else variant(django_version=django_version)
    env = venv_env(venv, production_env(DATABASE_URL=postgres_database, DATABASE_SSL_REQUIRE="false"))
    result = run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--create-db"], project, env)
    assert " passed" in result.stdout and " failed" not in result.stdout and " skipped" not in result.stdout


# 2. Database outage ---------------------------------------------------------------------------
def test_database_outage_is_reported_and_recovered_without_restart(server_factory, postgres_database):
    forwarder = TcpForwarder("127.0.0.1", 5432).start()
    url = re.sub(r"127\.0\.0\.1:5432", f"127.0.0.1:{forwarder.port}", postgres_database)
    server = server_factory("outage", DATABASE_URL=url, DATABASE_SSL_REQUIRE="false")
    token = signup(server)
    assert api(server, "GET", "/api/auth/me/", token=token)[0] == 200

    forwarder.cut()
    down, seconds = wait_for(lambda: server.http.get("/health/", PROBE)[0] == 503, timeout=10)
    assert down and seconds < 5, f"still healthy {seconds:.1f}s after the outage began"
    # Each process shares a health result for 3 s (plumbing/health.py): past that, every
    # process's answer comes from a check made during the outage.
    time.sleep(3.1)
    status, headers, body = server.http.get("/health/", PROBE)
    assert status == 503
    assert json.loads(body) == {"status": "unhealthy", "checks": {"database": "error"}}
    for leak in (b"psycopg", b"Operational", b"127.0.0.1", str(forwarder.port).encode(), b"Traceback"):
        assert leak not in body
    status, headers, body = api(server, "GET", "/api/auth/me/", token=token)
    assert status == 503 and headers["Retry-After"]  # an outage to retry after, not a bug
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"detail": "Service temporarily unavailable, try again later."}

    forwarder.restore()
    up, seconds = wait_for(lambda: server.http.get("/health/", PROBE)[0] == 200, timeout=15)
    assert up, "not healthy again after the database came back"
    assert api(server, "GET", "/api/auth/me/", token=token)[0] == 200
    assert server.process.poll() is None  # the same process throughout


def test_connections_dropped_are_replaced_before_use(server_factory, postgres_database, default_venv):
    """A database restart, or a network that drops connections: the kept-open connections are
    gone, and the next request on each checks it first (Django's CONN_HEALTH_CHECKS) and
    reconnects: no 500, even for the requests right after."""
    server = server_factory("dropped", DATABASE_URL=postgres_database, DATABASE_SSL_REQUIRE="false")
    token = signup(server)
    for _ in range(20):  # every Django thread of every process opens its connection
        assert api(server, "GET", "/api/auth/me/", token=token)[0] == 200
    dropped = venv_python(
        default_venv,
        "import sys, psycopg; print(len(psycopg.connect(sys.argv[1], autocommit=True).execute("
        "'SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()').fetchall()))",
        postgres_database,
    )
    assert int(dropped) >= 2, "the server kept no connection open"
    statuses = [api(server, "GET", "/api/auth/me/", token=token)[0] for _ in range(20)]
    assert statuses == [200] * 20
    assert "Internal Server Error" not in server.output()


# 3 and 4. Sentry and logs ---------------------------------------------------------------------
@pytest.fixture
def observed(server_factory):
    """A server reporting to a local Sentry ingest, with a staff user's token."""
    ingest = SentryIngest()
    dsn_key = secrets.token_hex(16)
    server = server_factory(
        "sentry",
        SENTRY_DSN=ingest.dsn(dsn_key),
        RAILWAY_GIT_COMMIT_SHA="3f1c2a9b7d5e4c6a8b0f1e2d3c4b5a6978695a4b",
        RAILWAY_ENVIRONMENT_NAME="staging",
    )
    yield server, ingest, staff_token(server), dsn_key
    ingest.close()


def test_unhandled_error_reaches_sentry_without_personal_data(observed):
    server, ingest, token, dsn_key = observed
    client_ip = fresh_client_ip()
    status, headers, body = api(
        server, "GET", "/api/debug/error/", token=token,
        **{"X-Real-IP": client_ip, "Cookie": "sessionid=cookie-secret-value"},
    )
    assert status == 500 and json.loads(body) == {"detail": "Server error."}
    request_id = headers["X-Request-ID"]
    # Things that must not become events: 4xx answers and the health check.
    server.http.get("/nope/", HTTPS)
    api(server, "GET", "/api/auth/me/")  # 401
    api(server, "GET", "/api/debug/error/")  # 401: not a public crash URL
    server.http.get("/", {"Host": "attacker.example", "X-Forwarded-Proto": "https"})  # 400
    server.http.get("/health/", PROBE)

    events = ingest.wait_for_events(1)
    assert len(events) == 1, [e["payload"].get("message") or e["payload"].get("exception") for e in events]
    event = events[0]["payload"]
    assert events[0]["path"] == "/api/1/envelope/"
    assert event["release"] == "3f1c2a9b7d5e4c6a8b0f1e2d3c4b5a6978695a4b"
    assert event["environment"] == "staging"
    assert "django" in event["sdk"]["integrations"]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["tags"]["request_id"] == request_id
    raw = events[0]["raw"].decode()
    for secret in (token, "cookie-secret-value", client_ip, PASSWORD, dsn_key):
        assert secret not in raw, secret
    assert "ip_address" not in json.dumps(event.get("user", {}))


def test_every_log_line_is_json_with_request_ids_and_no_secrets(observed):
    server, ingest, token, dsn_key = observed
    status, headers, _ = server.http.get("/health/", PROBE)
    generated = headers["X-Request-ID"]
    status, headers, _ = server.http.get("/health/", {**PROBE, "X-Railway-Request-Id": "railway-req-7"})
    assert headers["X-Request-ID"] == "railway-req-7"
    api(server, "GET", "/api/debug/error/", token=token)  # an error with a traceback, in JSON

    records = server.log_records()  # raises if any line is not JSON
    assert all(isinstance(r.get("level"), str) and "message" in r for r in records)
    assert any(r["logger"].startswith("_granian") for r in records)  # the server's own lines
    requests = {r["request_id"]: r for r in records if r["logger"].endswith(".requests")}
    assert requests[generated]["status"] == 200 and requests["railway-req-7"]["path"] == "/health/"
    assert any(r["level"] == "ERROR" and "exc_info" in r for r in records)
    text = server.output()
    for secret in (server.env["DJANGO_SECRET_KEY"], token, PASSWORD, dsn_key, server.env["SENTRY_DSN"]):
        assert secret not in text


# 5. Redeploy ----------------------------------------------------------------------------------
def test_sigterm_lets_the_request_in_flight_finish_and_exits_zero(server_factory):
    server = server_factory("redeploy")
    body = json.dumps({"username": "nobody", "password": "wrong-password"}).encode()
    request = (
        f"POST /api/auth/login/ HTTP/1.1\r\nHost: {RAILWAY_DOMAIN}\r\nX-Forwarded-Proto: https\r\n"
        f"X-Real-IP: {fresh_client_ip()}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request + body[:10])  # a worker is now inside the request, reading its body
        time.sleep(1)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)  # what Railway sends on redeploy
        time.sleep(1)
        sock.sendall(body[10:])
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    assert response.startswith(b"HTTP/1.1 400"), response[:200]
    assert b"Unable to log in" in response
    code = server.process.wait(timeout=40)
    assert code == 0
    assert time.monotonic() - started < 25 + 5  # server.py WEB_SHUTDOWN_TIMEOUT, plus margin


# 6. Security headers: tests/test_observatory.py (the MDN HTTP Observatory scanner itself)


# 8. Bad input ---------------------------------------------------------------------------------
def test_bad_input_gets_4xx_json_and_no_error_log(web):
    cases = {
        "malformed json": api(web, "POST", "/api/auth/signup/", b"{not json"),
        "too large": request_answered_early(
            web, "POST", "/api/auth/login/",
            {**HTTPS, "Content-Type": "application/json", "X-Real-IP": fresh_client_ip()},
            b"x" * (3 * 1024 * 1024),
        ),
        "nested 10,000 deep": api(web, "POST", "/api/auth/login/", b"[" * 10_000 + b"]" * 10_000),
        "5,000 form fields": api(
            web, "POST", "/api/auth/login/", "&".join(f"f{i}=1" for i in range(5000)).encode(),
            **{"Content-Type": "application/x-www-form-urlencoded"},
        ),
        "unknown host": web.http.get("/api/auth/me/", {"Host": "attacker.example", "X-Forwarded-Proto": "https"}),
    }
    status, _, body = cases["malformed json"]
    assert status == 400 and json.loads(body)["detail"].startswith("JSON parse error")
    status, _, body = cases["too large"]
    assert status == 413 and "too large" in json.loads(body)["detail"]
    status, _, body = cases["nested 10,000 deep"]
    assert status == 400 and json.loads(body)["detail"].startswith("JSON parse error")
    status, _, body = cases["5,000 form fields"]
    assert status == 400 and "detail" in json.loads(body)
    status, _, body = cases["unknown host"]
    assert status == 400 and json.loads(body) == {"detail": "Bad request."}
    ids = {headers["X-Request-ID"] for _, headers, _ in cases.values()}
    for record in web.log_records():
        if record.get("request_id") in ids:
            assert record["level"] in ("INFO", "WARNING") and "exc_info" not in record, record
