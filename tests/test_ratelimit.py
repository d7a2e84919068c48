"""Rate limits against the real Procfile web command: 4 server processes, real HTTP.

Each test uses its own client addresses (X-Real-IP on Railway) so buckets never collide.
"""

import json
import secrets
import time

import pytest

from baked_venvs import venv_python
from http_clients import api, signup
from rate_windows import concurrently, fresh_client_ip, wait_for_fresh_window
from services import REDIS_HOST, REDIS_PORT, RedisProcess, flush_redis_db, require_service

pytestmark = [pytest.mark.slow, pytest.mark.server]
LOGIN_LIMIT = 5


client_ip = fresh_client_ip


def bad_login(server, ip, index=0):
    # A username of its own: failures per username lock it (tests/test_accounts.py), per address here.
    body = {"username": f"nobody{index}-{secrets.token_hex(4)}", "password": "wrong-password"}
    return api(server, "POST", "/api/auth/login/", body, ip=ip)


def assert_throttled(status, response_headers, body, window=60):
    assert status == 429
    wait = int(response_headers["Retry-After"])
    assert 1 <= wait <= window + 5  # django-ratelimit adds up to 5 s to a window
    assert response_headers["Content-Type"] == "application/json"
    unit = "second" if wait == 1 else "seconds"  # DRF's wording
    assert json.loads(body) == {"detail": f"Request was throttled. Expected available in {wait} {unit}."}


def assert_concurrent_limit_exact(server, ip=None, attempts=20):
    statuses = concurrently(lambda index: bad_login(server, ip, index)[0], attempts)
    assert sorted(statuses) == [400] * LOGIN_LIMIT + [429] * (attempts - LOGIN_LIMIT), statuses


def test_sequential_login_limit_and_429_shape(web):
    ip = client_ip()
    assert [bad_login(web, ip)[0] for _ in range(LOGIN_LIMIT)] == [400] * LOGIN_LIMIT
    assert_throttled(*bad_login(web, ip))


def test_concurrent_logins_across_four_workers_let_exactly_five_through(web):
    assert_concurrent_limit_exact(web, client_ip())


def test_each_railway_client_address_has_its_own_bucket(web):
    first, second = client_ip(), client_ip()
    for _ in range(LOGIN_LIMIT + 1):
        bad_login(web, first)
    assert bad_login(web, first)[0] == 429
    assert bad_login(web, second)[0] == 400


def test_signup_limit_per_address(web):
    ip = client_ip(period=3600)
    statuses = []
    for _ in range(4):
        username = f"user{secrets.token_hex(4)}"
        body = {
            "username": username,
            "email": f"{username}@example.com",  # e-mail addresses are unique
            "password": "a-long-enough-passphrase",
        }
        statuses.append(api(web, "POST", "/api/auth/signup/", body, ip=ip))
    assert [status for status, _, _ in statuses[:3]] == [201, 201, 201]
    assert_throttled(*statuses[3], window=3600)


def test_password_change_limit_is_per_user(web):
    alice, bob = signup(web), signup(web)
    wrong = {"old_password": "not-my-password", "new_password": "another-long-passphrase"}
    shared_ip = client_ip()  # same address for both: the limit follows the user, not the address
    statuses = [api(web, "POST", "/api/auth/password/", wrong, token=alice, ip=shared_ip)[0] for _ in range(10)]
    assert statuses == [400] * 10
    assert_throttled(*api(web, "POST", "/api/auth/password/", wrong, token=alice, ip=shared_ip), window=3600)
    assert api(web, "POST", "/api/auth/password/", wrong, token=bob, ip=shared_ip)[0] == 400


def test_off_railway_a_forged_x_real_ip_does_not_escape_the_limit(server_factory):
    server = server_factory("off-railway", RAILWAY_ENVIRONMENT_NAME="")
    wait_for_fresh_window("127.0.0.1")  # every request comes from this TCP peer
    statuses = [bad_login(server, ip=client_ip())[0] for _ in range(LOGIN_LIMIT + 3)]
    assert statuses == [400] * LOGIN_LIMIT + [429] * 3


def test_two_replicas_on_one_postgres_database_share_the_limit(server_factory, postgres_database, default_venv):
    env = {"DATABASE_URL": postgres_database, "DATABASE_SSL_REQUIRE": "false", "WEB_CONCURRENCY": 2}
    replicas = [server_factory(f"replica{n}", **env) for n in (1, 2)]
    ip = client_ip()
    statuses = concurrently(lambda index: bad_login(replicas[index % 2], ip, index)[0], 20)
    assert sorted(statuses) == [400] * LOGIN_LIMIT + [429] * 15, statuses
    # The counters skip PostgreSQL's write-ahead log (plumbing/migrations/0002_unlogged_counters.py).
    persistence = venv_python(
        default_venv,
        "import sys, psycopg; print(psycopg.connect(sys.argv[1]).execute("
        "\"SELECT relpersistence FROM pg_class WHERE relname = 'ratelimit_counter'\").fetchone()[0])",
        postgres_database,
    )
    assert persistence.strip() == "u"


def test_limits_hold_on_redis(server_factory, default_venv):
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/9"
    flush_redis_db(default_venv, url)
    server = server_factory("redis", REDIS_URL=url)
    status, _, body = server.http.get("/health/", {"Host": "healthcheck.railway.app"})
    assert json.loads(body)["checks"] == {"database": "ok", "cache": "ok"}
    ip = client_ip()
    assert_concurrent_limit_exact(server, ip)
    assert_throttled(*bad_login(server, ip))


def test_redis_outage_auth_fails_closed_rest_fails_open(server_factory, tmp_path):
    redis = RedisProcess(tmp_path).start()
    try:
        server = server_factory("redis-outage", REDIS_URL=redis.url)
        token = signup(server)
        assert api(server, "GET", "/api/auth/me/", token=token)[0] == 200
    finally:
        redis.stop()
    # Auth endpoints refuse rather than allow unlimited guessing.
    status, response_headers, body = bad_login(server, client_ip())
    assert status == 503
    assert json.loads(body) == {"detail": "Service temporarily unavailable, try again later."}
    assert response_headers["Retry-After"] == "30"
    # Everything else goes on without its backstop throttle, with an error in the log.
    status, _, body = api(server, "GET", "/api/auth/me/", token=token)
    assert status == 200 and json.loads(body)["username"]
    time.sleep(3.1)  # a health result is shared for 3 s (plumbing/health.py)
    status, _, body = server.http.get("/health/", {"Host": "healthcheck.railway.app"})
    assert status == 503 and json.loads(body)["checks"]["cache"] == "error"
    records = server.log_records()
    assert any(r["level"] == "ERROR" and "throttle skipped" in r["message"] for r in records)
