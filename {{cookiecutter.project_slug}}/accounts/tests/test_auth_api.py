import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def api(client):
    """JSON over HTTPS, as production sees it."""

    def call(method, path, data=None, token=None, **headers):
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Token {token}"
        send = getattr(client, method)
        return send(path, data, content_type="application/json", secure=True, **headers)

    return call


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)


def login(api, username="alice", password=PASSWORD):
    return api("post", "/api/auth/login/", {"username": username, "password": password})


def test_signup_creates_user_and_returns_token(api):
    response = api(
        "post",
        "/api/auth/signup/",
        {"username": "bob", "email": "bob@example.com", "password": PASSWORD},
    )
    assert response.status_code == 201
    body = response.json()
    assert len(body["token"]) == 40
    assert body["user"]["username"] == "bob"
    assert "password" not in body["user"]
    assert get_user_model().objects.get(username="bob").check_password(PASSWORD)


def test_signup_applies_django_password_validators(api):
    response = api(
        "post",
        "/api/auth/signup/",
        {"username": "bob", "email": "bob@example.com", "password": "qwertyuiop"},
    )
    assert response.status_code == 400
    assert "too common" in str(response.json())


def test_login_returns_token_and_hides_which_part_was_wrong(api, user):
    ok = login(api)
    assert ok.status_code == 200 and len(ok.json()["token"]) == 40
    wrong_password = login(api, password="nope-nope-nope")
    unknown_user = login(api, username="mallory")
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert (
        wrong_password.json()
        == unknown_user.json()
        == {"detail": "Unable to log in with the provided credentials."}
    )


def test_me_needs_a_token_and_logout_revokes_it(api, user):
    assert api("get", "/api/auth/me/").status_code == 401
    token = login(api).json()["token"]
    me = api("get", "/api/auth/me/", token=token)
    assert me.status_code == 200 and me.json()["username"] == "alice"
    assert api("post", "/api/auth/logout/", token=token).status_code == 204
    assert api("get", "/api/auth/me/", token=token).status_code == 401


def test_password_change_rotates_the_token(api, user):
    token = login(api).json()["token"]
    bad = api(
        "post",
        "/api/auth/password/",
        {"old_password": "x", "new_password": "another-long-passphrase"},
        token=token,
    )
    assert bad.status_code == 400
    good = api(
        "post",
        "/api/auth/password/",
        {"old_password": PASSWORD, "new_password": "another-long-passphrase"},
        token=token,
    )
    assert good.status_code == 200
    assert good.json()["token"] != token
    assert api("get", "/api/auth/me/", token=token).status_code == 401
    assert login(api, password="another-long-passphrase").status_code == 200


def test_signup_refuses_an_email_longer_than_the_column(api):
    """A valid 312-character address: PostgreSQL would refuse it (varchar 254) with a 500."""
    email = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
    response = api(
        "post", "/api/auth/signup/", {"username": "bob", "email": email, "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "email" in response.json()
    assert not get_user_model().objects.filter(username="bob").exists()


def test_signup_refuses_a_blank_email_and_a_short_password(api):
    response = api("post", "/api/auth/signup/", {"username": "bob", "email": "", "password": "x"})
    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_an_entirely_numeric_password_is_refused_once(api):
    response = api(
        "post",
        "/api/auth/signup/",
        {"username": "bob", "email": "b@example.com", "password": "4" * 12},
    )
    assert response.status_code == 400
    assert response.json() == {"password": ["This password is entirely numeric."]}
