import pytest

from plumbing import health

pytestmark = pytest.mark.django_db


def test_health_is_200_over_plain_http_without_redirect(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "checks": {"database": "ok"}}
    assert "no-store" in response["Cache-Control"]


def test_health_answers_railway_probe_host(client):
    response = client.get("/health/", HTTP_HOST="healthcheck.railway.app")
    assert response.status_code == 200


def test_failing_check_gives_503_without_details(client, monkeypatch):
    def broken():
        raise ConnectionError("could not connect to server at 10.0.0.7 password=secret")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy", "checks": {"database": "error"}}
    assert b"10.0.0.7" not in response.content
    assert b"secret" not in response.content
