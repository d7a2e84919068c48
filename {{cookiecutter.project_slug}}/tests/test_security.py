import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_plain_http_redirects_to_https(client):
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/"


def test_security_headers_on_https(client):
    response = client.get("/", secure=True)
    assert response.status_code == 200
    # This host only by default: includeSubDomains and preload are later rollout stages.
    assert response["Strict-Transport-Security"] == "max-age=31536000"
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


SECURITY_HEADERS = [
    "Strict-Transport-Security",
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
]


def test_static_files_get_the_same_security_headers_and_no_cors(settings, tmp_path, client):
    """WhiteNoise answers static files itself: the header middleware must sit above it."""
    (tmp_path / "page.html").write_text("<!doctype html><title>A static page</title>")
    settings.STATIC_ROOT = tmp_path  # read when the middleware starts, with a new client
    static = Client().get("/static/page.html", secure=True)
    assert static.status_code == 200 and static.get("Content-Type", "").startswith("text/html")
    page = client.get("/", secure=True)
    for name in SECURITY_HEADERS:
        assert static[name] == page[name], name
    assert "Access-Control-Allow-Origin" not in static


def test_cookies_have_the_host_prefix_secure_and_no_domain(client):
    response = client.get(reverse("admin:login"), secure=True)
    cookie = response.cookies["__Host-csrftoken"]
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"
    assert not cookie["domain"] and cookie["samesite"] == "Lax"
