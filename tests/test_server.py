"""The Procfile web command under production variables, talked to over real HTTP."""

import gzip
import json
import re
import textwrap
import time

import pytest

from railway import HTTPS, RAILWAY_DOMAIN, deploy_copy

# The web server's own loggers (server.py: granian).
SERVER_LOGGERS = ("_granian", "granian")

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_railway_health_probe_gets_200_over_plain_http(web):
    status, headers, body = web.http.get("/health/", {"Host": "healthcheck.railway.app"})
    assert status == 200
    assert json.loads(body) == {"status": "healthy", "checks": {"database": "ok"}}
    assert "no-store" in headers["Cache-Control"]


def test_plain_http_is_redirected_to_https(web):
    status, headers, _ = web.http.get("/", {"Host": RAILWAY_DOMAIN})
    assert status == 301
    assert headers["Location"] == f"https://{RAILWAY_DOMAIN}/"


def test_security_headers_over_https(web):
    status, headers, _ = web.http.get("/", HTTPS)
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000"  # host only: docs/security.md "HSTS rollout"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])


def test_unknown_url_gets_custom_404_without_debug_output(web):
    status, headers, body = web.http.get("/definitely/not/here/", HTTPS)
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert b"<h1>Page not found</h1>" in body
    for leak in (b"Traceback", b"DEBUG", b"urlpatterns", b"Django tried"):
        assert leak not in body


def test_admin_login_css_is_hashed_compressed_and_cached_for_a_year(web):
    status, _, page = web.http.get("/admin/login/", HTTPS)
    assert status == 200
    css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    assert css, page[:500]
    status, headers, body = web.http.get(css.group(1).decode(), {**HTTPS, "Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert b"body" in gzip.decompress(body)
    assert "max-age=31536000" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]
    status, headers, _ = web.http.get(css.group(1).decode(), {**HTTPS, "Accept-Encoding": "br"})
    assert headers["Content-Encoding"] == "br"


def test_logs_are_json_lines_on_stdout(web):
    web.http.get("/health/", {"Host": "healthcheck.railway.app", "X-Railway-Request-Id": "rail-42"})
    records = web.log_records()  # raises if any line is not JSON
    assert all("level" in record and "message" in record for record in records)
    assert any(record["logger"] == "_granian" and record["message"].startswith("Listening at") for record in records)
    request = [r for r in records if r.get("request_id") == "rail-42"]
    assert request and request[0]["path"] == "/health/" and request[0]["status"] == 200


def test_static_files_carry_the_same_security_headers_and_no_cors(web):
    """WhiteNoise answers before Django's views: the header middleware must sit above it."""
    _, _, page = web.http.get("/admin/login/", HTTPS)
    css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page).group(1).decode()
    _, page_headers, _ = web.http.get("/", HTTPS)
    status, headers, _ = web.http.get(css, HTTPS)
    assert status == 200
    for name in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Resource-Policy",
        "Strict-Transport-Security",
    ):
        assert headers[name] == page_headers[name], name
    assert "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize(
    "path",
    [
        "/static/staticfiles.json",  # the list of every static file
        "/static/drf_spectacular_sidecar/swagger-ui-dist/oauth2-redirect.html",  # unused HTML
    ],
)
def test_no_manifest_and_no_unused_html_is_public(web, path):
    assert web.http.get(path, HTTPS)[0] == 404


def test_head_gets_headers_without_a_body_and_no_server_warning(web):
    before = len(web.log_records())  # start-up notes (e.g. more workers than cores) are not ours
    status, headers, body = web.http.request("HEAD", "/", HTTPS)
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) > 0  # the GET body's length
    time.sleep(0.5)  # let the server write whatever it logs about the request
    warnings = [
        r for r in web.log_records()[before:]
        if r["logger"].startswith(SERVER_LOGGERS) and r["level"] != "INFO"
    ]
    assert not warnings, warnings


def test_requests_do_not_carry_the_process_variables(deployed, server_factory, tmp_path):
    """granian starts each request's environ from the process's variables (as CGI did);
    server.py takes them out, so request.META never holds DJANGO_SECRET_KEY or DATABASE_URL."""
    project, _ = deployed
    checkout = deploy_copy(project, tmp_path / "meta")  # server_factory("meta") starts this copy
    urls = checkout / "config" / "urls.py"
    urls.write_text(urls.read_text() + textwrap.dedent("""
        from django.http import JsonResponse
        urlpatterns.append(path("meta/", lambda request: JsonResponse(sorted(request.META), safe=False)))
    """))
    server = server_factory("meta", DATABASE_URL=f"sqlite:///{checkout / 'db.sqlite3'}", CANARY="x")
    status, _, body = server.http.get("/meta/", {**HTTPS, "Proxy": "http://attacker.example"})
    assert status == 200
    keys = set(json.loads(body))
    assert not keys & {"DJANGO_SECRET_KEY", "DATABASE_URL", "CANARY", "PATH", "HOME", "PORT"}
    assert {"REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "SERVER_NAME", "SERVER_PORT",
            "REMOTE_ADDR", "HTTP_HOST", "HTTP_X_FORWARDED_PROTO", "HTTP_PROXY"} <= keys
