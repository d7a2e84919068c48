"""Per-account login lockout: failures counted per username, whatever the client address; an
admin sees the lock and lifts it."""

import itertools
import logging
import time
import zlib

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from plumbing.models import LoginLock

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"
LIMIT, PERIOD = 10, 15 * 60  # the production default, RATELIMIT_LOGIN_ACCOUNT=10/15m


def username_with_time_left(prefix, margin=60):
    """A username whose fixed 15-minute window (django-ratelimit ends windows at
    crc32(key) % period) has `margin` seconds left, so a test's attempts share one window."""
    for index in itertools.count():
        name = f"{prefix}{index}"
        now = int(time.time())
        end = now - (now % PERIOD) + (zlib.crc32(name.encode()) % PERIOD)
        if (end - now if end >= now else end + PERIOD - now) >= margin:
            return name


def login(client, username, password, address):
    return client.post(
        "/api/auth/login/",
        {"username": username, "password": password},
        content_type="application/json",
        secure=True,
        REMOTE_ADDR=address,  # a new client address each time: the per-address limit never bites
    )


@pytest.fixture
def users():
    create = get_user_model().objects.create_user
    return [create(username_with_time_left(name), f"{name}@example.com", PASSWORD) for name in "ab"]


def fail_until_locked(client, username):
    statuses = [login(client, username, "wrong", f"10.0.0.{i}").status_code for i in range(LIMIT)]
    assert statuses == [400] * LIMIT


def test_failures_from_many_addresses_lock_the_account_for_everyone(client, users):
    target, other = users
    fail_until_locked(client, target.username)
    locked = login(client, target.username, PASSWORD, "10.0.1.1")
    assert locked.status_code == 429  # the right password does not get through
    assert 1 <= int(locked["Retry-After"]) <= PERIOD + 5
    assert "throttled" in locked.json()["detail"]
    assert login(client, target.username.upper(), PASSWORD, "10.0.1.2").status_code == 429
    assert login(client, other.username, PASSWORD, "10.0.1.3").status_code == 200


def test_the_admin_login_shares_the_account_lock(client, users):
    target, _ = users
    fail_until_locked(client, target.username)
    response = client.post(
        f"/{settings.ADMIN_URL}login/",
        {"username": target.username, "password": PASSWORD},
        secure=True,
        REMOTE_ADDR="10.0.2.1",
    )
    assert response.status_code == 429


def test_the_lock_is_logged_once_without_the_password(client, users, caplog):
    target, _ = users
    with caplog.at_level(logging.WARNING, logger="plumbing.lockout"):
        fail_until_locked(client, target.username)
        login(client, target.username, PASSWORD, "10.0.1.1")
    locks = [record for record in caplog.records if "Login locked" in record.getMessage()]
    assert len(locks) == 1
    assert locks[0].username == target.username.casefold()
    assert "wrong" not in str(vars(locks[0])) and PASSWORD not in str(vars(locks[0]))


def test_successful_logins_do_not_count(client, users):
    target, _ = users
    for i in range(LIMIT + 2):
        assert login(client, target.username, PASSWORD, f"10.0.3.{i}").status_code == 200


def test_an_admin_sees_the_lock_and_lifts_it(client, users, admin_user):
    target, _ = users
    fail_until_locked(client, target.username)
    lock = LoginLock.objects.get(username=target.username.casefold())
    assert lock.active
    client.force_login(admin_user)
    page = client.get(f"/{settings.ADMIN_URL}plumbing/loginlock/", secure=True)
    assert page.status_code == 200 and target.username.casefold() in page.content.decode()
    lifted = client.post(
        f"/{settings.ADMIN_URL}plumbing/loginlock/",
        {"action": "lift_locks", "_selected_action": [lock.pk]},
        secure=True,
        follow=True,
    )
    assert "Lifted 1 lock(s)." in lifted.content.decode()
    client.logout()
    assert login(client, target.username, PASSWORD, "10.0.4.1").status_code == 200
    assert not LoginLock.objects.exists()


def test_the_login_locks_command_lists_and_lifts_a_lock(client, users, capsys):
    target, other = users
    fail_until_locked(client, target.username)
    call_command("login_locks")
    listed = capsys.readouterr().out
    assert listed.startswith(target.username.casefold() + "\tlocked until ")
    call_command("login_locks", "--lift", target.username.upper(), "--lift", other.username)
    assert capsys.readouterr().out.splitlines() == [
        f"Lifted the lock on {target.username.casefold()}.",
        f"{other.username} was not locked.",
    ]
    assert login(client, target.username, PASSWORD, "10.0.5.1").status_code == 200
    call_command("login_locks")
    assert capsys.readouterr().out == "No username is locked.\n"
