import pytest
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
