import logging

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400_json_answer(client):
    response = client.post(
        "/api/auth/signup/", "{not json", content_type="application/json", secure=True
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_body_over_the_limit_is_refused_before_it_is_read(client, settings):
    body = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post("/api/auth/login/", body, content_type="application/json", secure=True)
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_a_number_where_the_schema_says_string_is_a_400(client, django_user_model):
    """DRF alone would sign up a user named "1.5e+201" (plumbing/fields.py)."""
    signup = {"username": 1.5e201, "email": "n@example.com", "password": 12345678.5}
    response = client.post(
        "/api/auth/signup/", signup, content_type="application/json", secure=True
    )
    assert response.status_code == 400
    assert response.json()["username"] == ["Not a valid string."]
    assert response.json()["password"] == ["Not a valid string."]
    assert not django_user_model.objects.exists()
    login = {"username": 12345, "password": "a-long-enough-passphrase"}
    response = client.post("/api/auth/login/", login, content_type="application/json", secure=True)
    assert response.status_code == 400 and response.json()["username"] == ["Not a valid string."]
    reset = {"email": 7}
    response = client.post(
        "/api/auth/password-reset/", reset, content_type="application/json", secure=True
    )
    assert response.status_code == 400


def test_unknown_host_is_a_400_page(client):
    response = client.get("/", secure=True, HTTP_HOST="evil.example.net")
    assert response.status_code == 400
    assert b"Bad request" in response.content


def test_error_check_is_not_public(client, django_user_model):
    assert client.get("/api/debug/error/", secure=True).status_code == 401
    user = django_user_model.objects.create_user("someone", password="x-long-password")
    token = Token.objects.create(user=user)
    forbidden = client.get("/api/debug/error/", secure=True, HTTP_AUTHORIZATION=f"Token {token}")
    assert forbidden.status_code == 403


def test_error_check_raises_for_a_staff_token(client, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="x-long-password", is_staff=True)
    token = Token.objects.create(user=staff)
    client.raise_request_exception = False
    response = client.get("/api/debug/error/", secure=True, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}


def test_json_nested_too_deep_is_a_400_not_a_recursion_error(client):
    body = "[" * 10_000 + "]" * 10_000  # 20 KB
    response = client.post("/api/auth/login/", body, content_type="application/json", secure=True)
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested too deeply."}


def test_json_with_too_many_values_is_a_413_before_it_is_parsed(client, settings):
    """Parsing costs memory per value (2.5 MB of [] = +76 MB in a worker), not per byte."""
    body = "[" + ",".join(["[]"] * 500_000) + "]"  # 1.5 MB: under the size limit
    assert len(body) < settings.API_JSON_MAX_SIZE
    response = client.post("/api/auth/login/", body, content_type="application/json", secure=True)
    assert response.status_code == 413
    limit = settings.API_JSON_MAX_VALUES
    assert response.json() == {"detail": f"Request body too large: more than {limit} JSON values."}


def test_json_over_its_size_limit_is_a_413(client, settings):
    settings.API_JSON_MAX_SIZE = 1000
    body = '{"username": "u", "password": "' + "x" * 1000 + '"}'
    response = client.post("/api/auth/login/", body, content_type="application/json", secure=True)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: the limit is 1000 bytes."}


def test_a_2_mb_json_document_is_parsed_like_any_other(client):
    """A phone may send a large document: 2 MB of text is a few values, not a threat."""
    body = '{"username": "nobody", "password": "wrong-password", "note": "' + "x" * 2_000_000 + '"}'
    response = client.post("/api/auth/login/", body, content_type="application/json", secure=True)
    assert response.status_code == 400  # parsed, then refused for its credentials
    assert response.json() == {"detail": "Unable to log in with the provided credentials."}


def test_too_many_form_fields_is_a_400_without_an_error_log(client, caplog):
    body = "&".join(f"field{i}=1" for i in range(5000))
    response = client.post(
        "/api/auth/login/", body, content_type="application/x-www-form-urlencoded", secure=True
    )
    assert response.status_code == 400
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.json()["detail"]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def test_too_many_form_fields_on_a_django_form_is_a_400_without_an_error_log(client, caplog):
    body = "&".join(f"field{i}=1" for i in range(5000))
    response = client.post(
        reverse("admin:login"), body, content_type="application/x-www-form-urlencoded", secure=True
    )
    assert response.status_code == 400
    # Django still logs it; pytest's caplog listens even on loggers that do not propagate, so
    # check that every ERROR record goes nowhere but a NullHandler (the request line has it).
    for record in [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]:
        logger = logging.getLogger(record.name)
        outputs = [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        assert not logger.propagate, record.name
        assert all(isinstance(h, logging.NullHandler) for h in outputs), record.name
