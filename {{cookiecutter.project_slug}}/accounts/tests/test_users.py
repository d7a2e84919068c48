"""The custom user model: first migration, admin, unique e-mail in any case, Argon2."""

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import CreateModel

from accounts.models import DUPLICATE_EMAIL, User
from config import settings as production_settings

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


def post(client, path, data):
    return client.post(path, data, content_type="application/json", secure=True)


def signup(client, username, email):
    data = {"username": username, "email": email, "password": PASSWORD}
    return post(client, "/api/auth/signup/", data)


def test_user_model_is_created_by_the_first_accounts_migration():
    assert get_user_model() is User
    migration = MigrationLoader(None).get_migration("accounts", "0001_initial")
    created = [op.name for op in migration.operations if isinstance(op, CreateModel)]
    assert created == ["User"]


def test_users_are_managed_in_the_admin(admin_client):
    assert admin.site.is_registered(User)
    base = f"/{settings.ADMIN_URL}accounts/user/"
    assert admin_client.get(base, secure=True).status_code == 200
    added = admin_client.post(
        f"{base}add/",
        {
            "username": "carol",
            "email": "carol@example.com",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        secure=True,
    )
    assert added.status_code == 302
    assert User.objects.get(username="carol").email == "carol@example.com"


def test_signup_with_a_taken_email_in_another_case_is_a_400(client):
    assert signup(client, "alice", "alice@example.com").status_code == 201
    again = signup(client, "alice2", "ALICE@Example.COM")
    assert again.status_code == 400
    assert again.json() == {"email": [DUPLICATE_EMAIL]}
    assert User.objects.count() == 1


def test_signup_losing_a_race_for_the_email_is_a_400_not_a_500(client, monkeypatch):
    User.objects.create_user("alice", "alice@example.com", PASSWORD)
    answers = iter([False, True])  # validation misses the other signup; the retry sees it
    monkeypatch.setattr(User, "email_taken", classmethod(lambda cls, email: next(answers)))
    response = signup(client, "bob", "Alice@example.com")
    assert response.status_code == 400
    assert response.json() == {"email": [DUPLICATE_EMAIL]}


def test_database_refuses_the_same_email_in_another_case_but_not_blanks():
    User.objects.create_user("alice", "alice@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("alice2", "Alice@EXAMPLE.com")
    User.objects.create_user("nomail1")
    User.objects.create_user("nomail2")  # no address: nothing to compare


def test_argon2_hashes_and_older_hashes_upgraded_at_login(client, settings):
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS
    assert signup(client, "dave", "dave@example.com").status_code == 201
    assert User.objects.get(username="dave").password.startswith("argon2$")

    old = User.objects.create(
        username="erin", password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    assert old.password.startswith("pbkdf2_sha256$")
    login = post(client, "/api/auth/login/", {"username": "erin", "password": PASSWORD})
    assert login.status_code == 200
    old.refresh_from_db()
    assert old.password.startswith("argon2$")
