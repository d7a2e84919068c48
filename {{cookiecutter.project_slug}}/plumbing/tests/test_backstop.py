"""The API's backstop throttles (plumbing.ratelimit.Backstop): counted in each process and sent
to the shared counter store in batches, so an API read needs no write of its own."""

import time
import zlib

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from rest_framework.authtoken.models import Token

from plumbing import ratelimit

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    user = get_user_model().objects.create_user("reader", "reader@example.com", "x" * 20)
    return Token.objects.create(user=user).key


@pytest.fixture
def fresh(monkeypatch):
    """A new Backstop (no tallies from other tests), sending only on batches and near the limit."""
    backstop = ratelimit.Backstop()
    monkeypatch.setattr(ratelimit, "backstop", backstop)
    monkeypatch.setattr(ratelimit, "SEND_INTERVAL", 3600)
    caches["ratelimit"].clear()
    return backstop


def with_time_left(value, period=60, margin=5):
    """Sleep, if needed, until `value`'s fixed window has `margin` seconds left."""
    now = int(time.time())
    left = ratelimit.window_end(value, period, now) - now
    if left < margin:
        time.sleep(left + 1)


def me(client, token):
    return client.get("/api/auth/me/", secure=True, HTTP_AUTHORIZATION=f"Token {token}")


def test_an_authenticated_api_read_makes_one_query(client, token, fresh, django_assert_num_queries):
    assert me(client, token).status_code == 200  # the window's first call is sent at once
    for _ in range(5):
        with django_assert_num_queries(1):  # the token with its user; no counter write
            assert me(client, token).status_code == 200


def test_counts_reach_the_store_in_batches(settings, fresh):
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "user": "100/m"}  # batches of 5
    with_time_left("42")
    for _ in range(12):
        assert fresh.hit("user", "42")[0]
    (key,) = fresh.tallies
    # Sent at the 1st call (a new window), then at the 6th and the 11th: the 12th is held here.
    assert caches["ratelimit"].get(key) == 11
    assert fresh.tallies[key].unsent == 1


def test_a_high_limit_still_sends_every_fifty_calls(settings, fresh):
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "user": "1000000/m"}
    with_time_left("43")
    for _ in range(60):
        assert fresh.hit("user", "43")[0]
    (key,) = fresh.tallies
    assert caches["ratelimit"].get(key) == 51  # the 1st call, then the 51st


def test_processes_sharing_the_store_hold_the_limit_within_a_batch_each(settings, fresh):
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "user": "100/m"}
    with_time_left("7")
    first, second = fresh, ratelimit.Backstop()  # two server processes
    allowed = sum(first.hit("user", "7")[0] for _ in range(90))
    allowed += sum(second.hit("user", "7")[0] for _ in range(30))
    allowed += sum(first.hit("user", "7")[0] for _ in range(30))
    # Near the limit each call is sent, so only what the first held back (under a batch) was
    # unseen by the second.
    assert 100 <= allowed < 100 + 5
    assert not second.hit("user", "7")[0]


def test_a_user_over_the_limit_gets_429_with_retry_after(client, token, settings, fresh):
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "user": "3/m"}
    user_id = str(Token.objects.get(key=token).user_id)
    with_time_left(user_id)
    assert [me(client, token).status_code for _ in range(3)] == [200] * 3
    limited = me(client, token)
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "throttled" in limited.json()["detail"]


def test_windows_are_cut_as_django_ratelimit_cuts_them():
    # The same fixed windows as the exact limits: crc32 of the value offsets each one's end.
    period, now = 60, 1_700_000_030
    end = ratelimit.window_end("203.0.113.9", period, now)
    assert now <= end < now + period
    assert end % period == zlib.crc32(b"203.0.113.9") % period
    assert ratelimit.rate_parts("10/15m") == (10, 900)
    assert ratelimit.rate_parts("600/m") == (600, 60)
