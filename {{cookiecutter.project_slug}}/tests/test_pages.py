import pytest
from django.db import OperationalError
from django.urls import path

from config import urls as project_urls


def boom(request):
    raise RuntimeError("deliberate failure")


def database_down(request):
    raise OperationalError("connection to server at 10.0.0.7 failed: timeout expired")


# The project's routes and error handlers, plus views that fail.
urlpatterns = [
    path("boom/", boom),
    path("api/boom/", boom),
    path("db-down/", database_down),
    path("api/db-down/", database_down),
    *project_urls.urlpatterns,
]
handler500 = project_urls.handler500

pytestmark = pytest.mark.django_db


def test_home_page(client):
    response = client.get("/", secure=True)
    assert response.status_code == 200
    assert b"<h1>{{ cookiecutter.project_name }}</h1>" in response.content


def test_unknown_page_gets_custom_404(client):
    response = client.get("/no-such-page/", secure=True)
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Traceback" not in response.content and b"urlpatterns" not in response.content


def test_unknown_api_url_gets_json_404(client):
    response = client.get("/api/no-such-endpoint/", secure=True)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.urls("tests.test_pages")
def test_server_error_page_and_json(client):
    client.raise_request_exception = False
    page = client.get("/boom/", secure=True)
    assert page.status_code == 500
    assert b"Server error" in page.content and b"deliberate failure" not in page.content
    api = client.get("/api/boom/", secure=True)
    assert api.status_code == 500
    assert api.json() == {"detail": "Server error."}


@pytest.mark.urls("tests.test_pages")
def test_unreachable_database_is_503_to_retry_not_a_server_error(client):
    client.raise_request_exception = False
    api = client.get("/api/db-down/", secure=True)
    assert api.status_code == 503 and api["Retry-After"] == "30"
    assert api.json() == {"detail": "Service temporarily unavailable, try again later."}
    page = client.get("/db-down/", secure=True)
    assert page.status_code == 503
    assert b"Service unavailable" in page.content and b"10.0.0.7" not in page.content


@pytest.mark.parametrize("path", ["/", "/health/"])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_read_only_pages_refuse_other_methods_with_405(client, path, method):
    response = getattr(client, method)(path, secure=True)
    assert response.status_code == 405  # not the CSRF failure page (403)
    assert response["Allow"] == "GET, HEAD"


def test_head_has_the_headers_of_get_and_no_body(client):
    get, head = client.get("/", secure=True), client.head("/", secure=True)
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == str(len(get.content))
