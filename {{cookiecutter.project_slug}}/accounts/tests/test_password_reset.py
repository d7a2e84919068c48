"""Password reset: request (same answer for every address, rate limited) and confirm (token
single-use and expiring). Tasks run immediately in tests, so the e-mail is in mailoutbox."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"
NEW_PASSWORD = "another-long-passphrase-42"
REQUEST = "/api/auth/password-reset/"
CONFIRM = "/api/auth/password-reset/confirm/"


@pytest.fixture
def api(client):
    def call(path, data, ip="198.51.100.7"):
        return client.post(path, data, content_type="application/json", secure=True, REMOTE_ADDR=ip)

    return call


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", "alice@example.com", PASSWORD)


def link_in(message):
    uid = re.search(r"uid: (\S+)", message.body).group(1)
    token = re.search(r"token: (\S+)", message.body).group(1)
    return uid, token


def test_same_answer_whether_or_not_the_address_has_an_account(api, user, mailoutbox):
    known = api(REQUEST, {"email": "Alice@Example.com"})
    unknown = api(REQUEST, {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [message.to for message in mailoutbox] == [["alice@example.com"]]
    assert "alice" in mailoutbox[0].body


def test_no_mail_for_inactive_accounts_or_unusable_passwords(api, user, mailoutbox):
    user.set_unusable_password()
    user.save()
    get_user_model().objects.create_user("bob", "bob@example.com", PASSWORD, is_active=False)
    for address in ("alice@example.com", "bob@example.com"):
        assert api(REQUEST, {"email": address}).status_code == 202
    assert mailoutbox == []


def test_not_an_email_address_is_rejected(api):
    response = api(REQUEST, {"email": "not-an-address"})
    assert response.status_code == 400
    assert "email" in response.json()


def test_confirm_sets_the_password_revokes_tokens_and_works_once(api, user, client, mailoutbox):
    old_token = Token.objects.create(user=user)
    api(REQUEST, {"email": "alice@example.com"})
    uid, token = link_in(mailoutbox[0])
    response = api(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not Token.objects.filter(key=old_token.key).exists()
    again = api(CONFIRM, {"uid": uid, "token": token, "new_password": "yet-another-passphrase-7"})
    assert again.status_code == 400
    assert "invalid or has expired" in str(again.json())


def test_expired_token_is_refused(api, user, settings, monkeypatch):
    token = default_token_generator.make_token(user)
    now = default_token_generator._now()
    later = now.replace(microsecond=0) + __import__("datetime").timedelta(
        seconds=settings.PASSWORD_RESET_TIMEOUT + 1
    )
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    response = api(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_bad_uid_gets_the_same_answer_as_a_bad_token(api, user):
    bad_uid = api(CONFIRM, {"uid": "Zm9v", "token": "x-y", "new_password": NEW_PASSWORD})
    bad_token = api(CONFIRM, {"uid": "MQ", "token": "x-y", "new_password": NEW_PASSWORD})
    assert bad_uid.status_code == bad_token.status_code == 400
    assert bad_uid.json() == bad_token.json()


def test_weak_new_password_is_refused_and_the_token_still_works(api, user, mailoutbox):
    api(REQUEST, {"email": "alice@example.com"})
    uid, token = link_in(mailoutbox[0])
    weak = api(CONFIRM, {"uid": uid, "token": token, "new_password": "12345678"})
    assert weak.status_code == 400 and "new_password" in weak.json()
    ok = api(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert ok.status_code == 200


def test_requests_are_limited_per_address_asked(api, user, settings, mailoutbox):
    limit = int(settings.RATELIMIT_RATES["password_reset_email"].split("/")[0])
    answers = [
        api(REQUEST, {"email": "alice@example.com"}, ip=f"198.51.100.{n}").status_code
        for n in range(1, limit + 2)
    ]
    assert answers == [202] * limit + [429]
    assert len(mailoutbox) == limit


def test_requests_are_limited_per_client(api, settings):
    limit = int(settings.RATELIMIT_RATES["password_reset"].split("/")[0])
    answers = [
        api(REQUEST, {"email": f"user{n}@example.com"}, ip="192.0.2.9").status_code
        for n in range(limit + 1)
    ]
    assert answers == [202] * limit + [429]


def test_schema_documents_both_endpoints_with_their_errors(client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    request = schema["paths"][REQUEST]["post"]["responses"]
    confirm = schema["paths"][CONFIRM]["post"]["responses"]
    assert {"202", "400", "429"} <= set(request)
    assert {"200", "400", "429"} <= set(confirm)
