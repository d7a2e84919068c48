"""API tokens expire TOKEN_LIFETIME after login (accounts/authentication.py): 401 with a body
that says so, a fresh token at the next login, deletion by the hourly task, and no extra
query or write on an authenticated request."""

from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.authentication import EXPIRED
from accounts.tasks import delete_expired_tokens

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)


def age(token, days):
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(days=days))


def me(client, key):
    return client.get("/api/auth/me/", secure=True, HTTP_AUTHORIZATION=f"Token {key}")


def login(client):
    body = {"username": "alice", "password": PASSWORD}
    return client.post("/api/auth/login/", body, content_type="application/json", secure=True)


def test_a_token_older_than_its_lifetime_gets_401_saying_so(client, user, settings):
    settings.TOKEN_LIFETIME = timedelta(days=30)
    token = Token.objects.create(user=user)
    age(token, 29)
    assert me(client, token.key).status_code == 200
    age(token, 30)
    response = me(client, token.key)
    assert response.status_code == 401
    assert response.json() == {"detail": EXPIRED}
    assert response["WWW-Authenticate"] == "Token"


def test_the_expiry_check_adds_no_query_and_no_write(client, user, settings):
    token = Token.objects.create(user=user)
    me(client, token.key)  # the first request also creates its throttle counter
    queries = {}
    for lifetime in (None, timedelta(days=30)):
        settings.TOKEN_LIFETIME = lifetime
        with CaptureQueriesContext(connection) as captured:
            assert me(client, token.key).status_code == 200
        # The backstop throttles send their counts when a second has passed (plumbing/ratelimit.py):
        # on a slow machine that may fall in either request, so those sends are not compared.
        queries[lifetime] = [
            query["sql"]
            for query in captured.captured_queries
            if "ratelimit_counter" not in query["sql"]
        ]
    assert len(queries[None]) == len(queries[timedelta(days=30)])
    token_queries = [sql for sql in queries[timedelta(days=30)] if "authtoken_token" in sql]
    assert [sql.split()[0] for sql in token_queries] == ["SELECT"]


def test_login_replaces_an_expired_token_and_says_when_it_expires(client, user, settings):
    settings.TOKEN_LIFETIME = timedelta(days=30)
    old = Token.objects.create(user=user)
    age(old, 31)
    body = login(client).json()
    assert body["token"] != old.key and me(client, body["token"]).status_code == 200
    expires = Token.objects.get(key=body["token"]).created + timedelta(days=30)
    # DRF writes times in TIME_ZONE (Z only when it is UTC): compare the moments.
    assert datetime.fromisoformat(body["expires"].replace("Z", "+00:00")) == expires
    assert login(client).json()["token"] == body["token"]  # still valid: the same token


def test_tokens_never_expire_when_the_lifetime_is_never(client, user, settings):
    settings.TOKEN_LIFETIME = None
    token = Token.objects.create(user=user)
    age(token, 3650)
    assert me(client, token.key).status_code == 200
    assert login(client).json()["expires"] is None
    assert delete_expired_tokens.call() == 0


def test_the_scheduled_clean_up_deletes_only_expired_tokens(user, settings):
    settings.TOKEN_LIFETIME = timedelta(days=30)
    other = get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD)
    expired, fresh = Token.objects.create(user=user), Token.objects.create(user=other)
    age(expired, 31)
    assert delete_expired_tokens.call() == 1
    assert list(Token.objects.values_list("key", flat=True)) == [fresh.key]


def test_the_schema_documents_the_expiry_and_the_401():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    token = schema["components"]["schemas"]["Token"]["properties"]
    assert token["expires"]["nullable"] and "401" in token["expires"]["description"]
    me_get = schema["paths"]["/api/auth/me/"]["get"]["responses"]
    assert "expired" in me_get["401"]["description"]
