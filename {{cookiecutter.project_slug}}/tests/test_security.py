import pytest

pytestmark = pytest.mark.django_db


def test_plain_http_redirects_to_https(client):
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/"


def test_security_headers_on_https(client):
    response = client.get("/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_every_response_has_a_request_id(client):
    generated = client.get("/health/")
    assert len(generated["X-Request-ID"]) == 32
    railway = client.get("/health/", HTTP_X_RAILWAY_REQUEST_ID="abc-123")
    assert railway["X-Request-ID"] == "abc-123"
    forged = client.get("/health/", HTTP_X_RAILWAY_REQUEST_ID="bad id\nwith newline")
    assert forged["X-Request-ID"] != "bad id\nwith newline"
