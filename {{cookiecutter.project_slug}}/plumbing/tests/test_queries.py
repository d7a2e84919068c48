import logging
import time

import pytest
from django.db import connection
from django.http import JsonResponse
from django.urls import path

pytestmark = pytest.mark.django_db


# A query that takes measurable time on SQLite and PostgreSQL alike (a few ms).
COUNTING = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
    " SELECT count(*) FROM n"
)


def slow(request, pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s", [pk])
        cursor.execute(COUNTING)
    time.sleep(0.05)
    return JsonResponse({})


urlpatterns = [path("api/slow/<int:pk>/", slow)]


def warnings(caplog, start):
    return [
        record
        for record in caplog.records
        if record.name == "plumbing.queries"
        and record.levelno == logging.WARNING
        and record.getMessage().startswith(start)
    ]


@pytest.mark.urls("plumbing.tests.test_queries")
def test_slow_request_is_a_warning_with_its_route_and_queries(client, settings, caplog):
    settings.SLOW_REQUEST_MS = 40
    client.get("/api/slow/1234/", secure=True)
    (line,) = warnings(caplog, "Slow request")
    assert line.route == "/api/slow/<int:pk>/"  # the route, not the path with its ids
    assert line.method == "GET" and line.status == 200
    assert line.duration_ms >= 50 and line.queries == 2 and 0 < line.query_ms < line.duration_ms


@pytest.mark.urls("plumbing.tests.test_queries")
def test_fast_request_writes_no_slow_line(client, settings, caplog):
    settings.SLOW_REQUEST_MS = 10_000
    client.get("/api/slow/1/", secure=True)
    assert not warnings(caplog, "Slow request")
    assert not warnings(caplog, "Slow query")  # 200 ms


@pytest.mark.urls("plumbing.tests.test_queries")
def test_slow_query_is_a_warning_with_its_sql_never_its_parameters(client, settings, caplog):
    settings.SLOW_QUERY_MS = 0
    client.get("/api/slow/987654/", secure=True)
    lines = warnings(caplog, "Slow query")
    assert [line.sql for line in lines] == ["SELECT %s", COUNTING]
    assert all("987654" not in line.getMessage() for line in lines)
