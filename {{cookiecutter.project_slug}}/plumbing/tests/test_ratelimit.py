import time
import zlib

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import RequestFactory, override_settings

from plumbing import ratelimit

pytestmark = pytest.mark.django_db


def post_login(client, **headers):
    body = {"username": "nobody", "password": "wrong-password"}
    return client.post(
        "/api/auth/login/", body, content_type="application/json", secure=True, **headers
    )


def fresh_window(value="127.0.0.1", period=60, margin=3):
    """Sleep, if needed, until django-ratelimit's fixed window for `value` has `margin` seconds
    left, so a test's requests all count in one window (windows end at crc32(value) % period)."""
    now = int(time.time())
    end = now - (now % period) + (zlib.crc32(value.encode()) % period)
    left = end - now if end >= now else end + period - now
    if left < margin:
        time.sleep(left + 1)


def test_sixth_login_in_a_minute_gets_429_in_drf_shape(client):
    fresh_window()
    statuses = [post_login(client).status_code for _ in range(5)]
    assert statuses == [400] * 5
    limited = post_login(client)
    assert limited.status_code == 429
    wait = int(limited["Retry-After"])
    assert 1 <= wait <= 65
    unit = "second" if wait == 1 else "seconds"  # DRF's wording
    assert limited.json() == {
        "detail": f"Request was throttled. Expected available in {wait} {unit}."
    }


def test_admin_login_shares_the_login_limit_and_answers_json(client):
    fresh_window()
    for _ in range(5):
        post_login(client)
    admin_login = f"/{settings.ADMIN_URL}login/"  # .env has a random DJANGO_ADMIN_URL
    response = client.post(admin_login, {"username": "x", "password": "y"}, secure=True)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "throttled" in response.json()["detail"]


def test_unreachable_store_fails_closed_on_login(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(ratelimit, "get_usage", unreachable)
    response = post_login(client)
    assert response.status_code == 503
    assert response.json() == {"detail": "Service temporarily unavailable, try again later."}


@pytest.mark.parametrize(
    "header, meta, expected",
    [
        ("", {"REMOTE_ADDR": "::ffff:203.0.113.9"}, "203.0.113.9"),
        ("", {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_REAL_IP": "1.2.3.4"}, "10.0.0.1"),
        ("X-Real-IP", {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_REAL_IP": "1.2.3.4"}, "1.2.3.4"),
        ("X-Real-IP", {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_REAL_IP": "garbage"}, "10.0.0.1"),
        (
            "X-Forwarded-For",
            {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 5.5.5.5"},
            "5.5.5.5",
        ),
        ("", {"REMOTE_ADDR": "2001:db8::1"}, "2001:db8::1"),
    ],
)
def test_client_ip(header, meta, expected):
    request = RequestFactory().get("/", **meta)
    with override_settings(CLIENT_IP_HEADER=header):
        assert ratelimit.client_ip(request) == expected


@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "update-select"])
def test_counter_store_semantics(returning, monkeypatch):
    # incr is one UPDATE ... RETURNING where the database has it, else UPDATE + SELECT.
    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", returning)
    store = caches["ratelimit"]
    store.clear()  # and what this process saw of counters in earlier tests' rolled-back rows
    assert store.add("k", 1, 60) is True
    assert store.add("k", 1, 60) is False  # a live counter is never reset
    assert store.incr("k") == 2
    assert store.get("k") == 2
    with pytest.raises(ValueError):
        store.incr("missing")
    store.set("old", 5, -1)  # already expired
    assert store.get("old") is None
    assert store.add("old", 1, 60) is True  # an expired counter starts again
    with pytest.raises(TypeError):
        store.set("text", "not a number")


def test_a_live_counter_costs_one_statement_per_request(django_assert_num_queries):
    # django-ratelimit calls add() then incr() for every throttled request.
    store = caches["ratelimit"]
    store.clear()
    assert store.add("seen", 1, 60) is True
    with django_assert_num_queries(1):  # add() answers from what this process saw
        assert store.add("seen", 1, 60) is False
        assert store.incr("seen") == 2
    with connection.cursor() as cursor:  # another process clears the counters
        cursor.execute("DELETE FROM ratelimit_counter")
    assert store.add("seen", 1, 60) is False  # this process still thinks it live...
    assert store.incr("seen") == 1  # ...so incr() counts from one, as add() would have
    assert store.get("seen") == 1
    assert store.incr("seen") == 2


def test_counters_are_read_where_they_are_written(settings):
    # A router that sends reads to a replica (here one that does not exist): a replica that lags
    # would show a lockout's count too low, so the counter store never reads there.
    class ReadsElsewhere:
        def db_for_read(self, model, **hints):
            return "replica"

    settings.DATABASE_ROUTERS = [ReadsElsewhere()]
    store = caches["ratelimit"]
    store.clear()
    assert store.add("routed", 1, 60) is True
    assert store.get("routed") == 1
    assert store.incr("routed") == 2


def test_only_the_unlisted_backend_warning_is_silenced(settings):
    ratelimit_checks = [
        c for c in settings.SILENCED_SYSTEM_CHECKS if c.startswith("django_ratelimit")
    ]
    assert ratelimit_checks == ["django_ratelimit.W001"]
    call_command("check", "--fail-level", "ERROR")  # no E003: the store is shared and atomic


@pytest.mark.parametrize("credentials", [{}, {"HTTP_AUTHORIZATION": "Token " + "0" * 40}])
def test_requests_without_valid_credentials_are_throttled_per_address(
    client, settings, credentials
):
    """DRF checks credentials before throttles: without plumbing.ratelimit.exception_handler,
    anonymous and bad-token requests to a protected endpoint would never be limited."""
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "anon": "3/m"}
    address = "203.0.113.77"
    fresh_window(address)

    def me(ip=address):
        return client.get("/api/auth/me/", secure=True, REMOTE_ADDR=ip, **credentials)

    assert [me().status_code for _ in range(3)] == [401] * 3
    limited = me()
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert "throttled" in limited.json()["detail"]
    assert me(ip="203.0.113.78").status_code == 401  # another address has its own count
