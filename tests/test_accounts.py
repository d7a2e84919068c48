"""Issue 11's foundation, shown on the baked project: the custom user model, Argon2 hashes,
the per-account login lockout, no silent SQLite on Railway."""

import json
import secrets
import sqlite3

import pytest

from baked_venvs import venv_env
from http_clients import PASSWORD, api
from processes import run
from railway import production_env, refusal_to_start
from rate_windows import fresh_client_ip, window_left

ACCOUNT_LIMIT, ACCOUNT_PERIOD = 10, 15 * 60  # RATELIMIT_LOGIN_ACCOUNT's default, 10/15m


def manage(project, venv, *args, **env):
    return run(["python", "manage.py", *args], project, venv_env(venv, production_env(**env)))


def test_custom_user_model_is_in_the_first_migration_and_the_admin(deployed):
    project, venv = deployed
    sql = manage(project, venv, "sqlmigrate", "accounts", "0001_initial").stdout
    assert 'CREATE TABLE "accounts_user"' in sql
    assert 'CREATE UNIQUE INDEX "accounts_user_email_ci_unique" ON "accounts_user" ((LOWER("email")))' in sql
    code = (
        "import json; from django.conf import settings; from django.contrib import admin; "
        "from django.contrib.auth import get_user_model; "
        "print(json.dumps([settings.AUTH_USER_MODEL, admin.site.is_registered(get_user_model())]))"
    )
    assert json.loads(manage(project, venv, "shell", "--verbosity", "0", "-c", code).stdout) == ["accounts.User", True]


@pytest.mark.slow
@pytest.mark.server
def test_passwords_are_stored_as_argon2_hashes(web):
    username = f"argon{fresh_client_ip().replace('.', '')}"
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    status, _, response = api(web, "POST", "/api/auth/signup/", body, ip=fresh_client_ip(period=3600))
    assert status == 201, response
    with sqlite3.connect(web.project / "db.sqlite3") as db:
        (stored,) = db.execute("SELECT password FROM accounts_user WHERE username = ?", [username]).fetchone()
    assert stored.startswith("argon2$argon2id$"), stored[:20]


def account(server, margin=60):
    """Sign up a user whose fixed 15-minute lockout window (per username) has `margin` seconds
    left, so the test's attempts all count in one window."""
    username = f"acct{secrets.token_hex(4)}"
    while window_left(username, ACCOUNT_PERIOD) < margin:
        username = f"acct{secrets.token_hex(4)}"
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    status, _, response = api(server, "POST", "/api/auth/signup/", body, ip=fresh_client_ip(period=3600))
    assert status == 201, response
    return username


def login(server, username, password):
    return api(server, "POST", "/api/auth/login/", {"username": username, "password": password},
               ip=fresh_client_ip())  # a new client address each time: only the account counts


@pytest.mark.slow
@pytest.mark.server
def test_failed_logins_from_many_addresses_lock_the_account(web):
    target, other = account(web), account(web)
    wrong = f"wrong-{secrets.token_hex(8)}"
    statuses = [login(web, target, wrong)[0] for _ in range(ACCOUNT_LIMIT + 1)]
    assert statuses == [400] * ACCOUNT_LIMIT + [429]

    status, headers, body = login(web, target, PASSWORD)
    assert status == 429, body  # the right password does not get through while locked
    assert 1 <= int(headers["Retry-After"]) <= ACCOUNT_PERIOD + 5
    assert "throttled" in json.loads(body)["detail"]
    assert login(web, target.upper(), PASSWORD)[0] == 429  # case variants share the counter
    assert login(web, other, PASSWORD)[0] == 200

    locks = [r for r in web.log_records() if r["message"].startswith("Login locked")]
    assert [(r["level"], r["username"]) for r in locks] == [("WARNING", target)]
    assert wrong not in web.output() and PASSWORD not in web.output()


def test_railway_without_a_database_refuses_to_start(deployed):
    project, venv = deployed
    env = venv_env(venv, production_env())
    del env["ALLOW_EPHEMERAL_SQLITE"]  # a Railway service with no DATABASE_URL and no volume
    last_line = refusal_to_start(project, env)
    assert last_line == (
        "django.core.exceptions.ImproperlyConfigured: DATABASE_URL is unset or SQLite outside a "
        "volume on Railway: every row would be lost at the next deploy. Set "
        "DATABASE_URL=${{Postgres.DATABASE_URL}} (or ALLOW_EPHEMERAL_SQLITE=true to accept that)."
    )
