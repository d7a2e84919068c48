"""Issue 11's foundation, shown on the baked project: the custom user model, Argon2 hashes."""

import json
import sqlite3

import pytest

from helpers import api, fresh_client_ip, production_env, run, venv_env, PASSWORD


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


@pytest.mark.server
def test_passwords_are_stored_as_argon2_hashes(web):
    username = f"argon{fresh_client_ip().replace('.', '')}"
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    status, _, response = api(web, "POST", "/api/auth/signup/", body, ip=fresh_client_ip(period=3600))
    assert status == 201, response
    with sqlite3.connect(web.project / "db.sqlite3") as db:
        (stored,) = db.execute("SELECT password FROM accounts_user WHERE username = ?", [username]).fetchone()
    assert stored.startswith("argon2$argon2id$"), stored[:20]
