import threading
import time

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


def test_head_is_get_without_a_body(client):
    response = client.head("/health/")
    assert response.status_code == 200 and response.content == b""
    assert response["Cache-Control"] == "no-store"


def test_probes_share_one_run_and_a_stuck_check_answers_503_within_the_deadline(
    client, monkeypatch
):
    release = threading.Event()
    runs = []

    def stuck():
        runs.append(1)
        release.wait(10)

    monkeypatch.setitem(health.CHECKS, "database", stuck)
    monkeypatch.setattr(health, "DEADLINE", 0.3)
    try:
        start = time.monotonic()
        first = client.get("/health/")
        assert time.monotonic() - start < 1
        assert first.status_code == 503
        assert first.json() == {"status": "unhealthy", "checks": {"database": "timeout"}}
        start = time.monotonic()
        assert client.get("/health/").status_code == 503  # still running: at once
        assert time.monotonic() - start < 0.2
        assert runs == [1]  # the second probe started no second run
    finally:
        release.set()
    for _ in range(50):  # the run ends; its result serves the next probes
        if client.get("/health/").status_code == 200:
            break
        time.sleep(0.05)
    assert client.get("/health/").status_code == 200 and runs == [1]
