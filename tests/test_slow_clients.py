"""Slow clients against the Procfile web command: attackers holding connections open cost the
site nothing, honest slow uploads finish, and bodies over their limits or their time get clean
JSON answers. One server for the module; the ~100 s honest uploads run while the other tests do."""

import json
import secrets
import threading
import time

import pytest

from baked_venvs import venv_env
from http_clients import PASSWORD, api, raw_request
from railway import HTTPS, PROBE, RAILWAY_DOMAIN, deploy_copy, production_env
from rate_windows import fresh_client_ip
from servers import Server
from slow_clients import SlowClients, probe_during

pytestmark = [pytest.mark.slow, pytest.mark.server]

MB = 1_000_000


def start_server(deployed, tmp_path_factory, name, **env):
    project, venv = deployed
    checkout = deploy_copy(project, tmp_path_factory.mktemp(name) / "app")
    server = Server(checkout, venv_env(venv, production_env(**env)), checkout.parent / "web.log")
    return server.start()


@pytest.fixture(scope="module")
def server(deployed, tmp_path_factory):
    """Default settings, 2 processes (as the issue measured), the Procfile web command."""
    server = start_server(deployed, tmp_path_factory, "slow", WEB_CONCURRENCY=2)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def account(server):
    """(username, token) of a new user."""
    username = f"u{secrets.token_hex(4)}"
    body = {"username": username, "email": "u@example.com", "password": PASSWORD}
    status, _, response = api(server, "POST", "/api/auth/signup/", body, ip=fresh_client_ip(period=3600))
    assert status == 201, response
    return username, json.loads(response)["token"]


def status_and_json(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        data = b""
        while body:
            size, _, rest = body.partition(b"\r\n")
            data, body = data + rest[: int(size, 16)], rest[int(size, 16) + 2 :]
        body = data
    return int(head.split()[1]), json.loads(body)


def request_head(method, path, headers, length=None):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {RAILWAY_DOMAIN}", "X-Forwarded-Proto: https",
             f"X-Real-IP: {fresh_client_ip()}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(parts):
    return [b"%x\r\n%s\r\n" % (len(part), part) for part in parts] + [b"0\r\n\r\n"]


def paced(rate, part_size):
    """A pace() for raw_request: part i leaves at i * part_size / rate seconds after the first,
    on schedule even if the machine is busy, so the whole body takes size / rate seconds."""
    start = time.monotonic()

    def pace(index):
        time.sleep(max(0.0, start + index * part_size / rate - time.monotonic()))

    return pace


def slow_upload(server, head, body, rate, results, name):
    parts = [body[i:i + 10_000] for i in range(0, len(body), 10_000)]
    started = time.monotonic()
    answer = raw_request(server.port, head, parts, pace=paced(rate, 10_000))
    results[name] = (answer, time.monotonic() - started)


@pytest.fixture(scope="module")
def honest_uploads(server, account):
    """Start, in the background, what a phone on a bad network sends: a 2 MB JSON body at
    20 KB/s and a 5 MB multipart upload at 50 KB/s (about 100 s each, under Railway's 5-minute
    limit). Both are logins with the right password, so the normal answer is 200 and a token."""
    username, _ = account
    padding = "x" * (2 * MB - 100)
    json_body = json.dumps({"username": username, "password": PASSWORD, "padding": padding}).encode()
    boundary = secrets.token_hex(8)
    fields = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in (("username", username), ("password", PASSWORD))
    )
    file_part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + secrets.token_bytes(5 * MB) + f"\r\n--{boundary}--\r\n".encode()
    multipart_body = fields + file_part
    results = {}
    uploads = [
        threading.Thread(target=slow_upload, args=(
            server, request_head("POST", "/api/auth/login/", {"Content-Type": "application/json"},
                                 len(json_body)), json_body, 20_000, results, "json")),
        threading.Thread(target=slow_upload, args=(
            server, request_head("POST", "/api/auth/login/",
                                 {"Content-Type": f"multipart/form-data; boundary={boundary}"},
                                 len(multipart_body)), multipart_body, 50_000, results, "multipart")),
    ]
    for upload in uploads:
        upload.start()
    yield uploads, results


def test_slow_bodies_and_slowloris_cost_the_site_nothing(server, account, honest_uploads):
    """50 connections trickling a body at 100 B/s and 50 whose headers never end, for 20 s:
    /health/ and an authenticated API GET answer every probe within a second."""
    _, token = account
    attack = SlowClients(server.port, RAILWAY_DOMAIN, bodies=50, loris=50).start()
    try:
        time.sleep(1)
        health, me = probe_during(
            f"http://127.0.0.1:{server.port}",
            [("/health/", PROBE),
             ("/api/auth/me/", {**HTTPS, "Authorization": f"Token {token}", "X-Real-IP": fresh_client_ip()})],
            seconds=20,
        )
    finally:
        attack.stop()
    for name, results in (("/health/", health), ("/api/auth/me/", me)):
        assert len(results.latencies) >= 40, name
        assert not results.failures, f"{name}: {len(results.failures)} failed probes {results.failures[:5]}"
        assert results.worst < 1.0
    assert attack.reopened["body"] == 0, "slow bodies were cut off before REQUEST_BODY_TIMEOUT"
    assert attack.reopened["loris"] >= 50, "headers never finished, yet WEB_HEADER_TIMEOUT (10 s) did not close them"


def test_chunked_body_under_the_limit_works_like_one_with_a_length(server, account):
    username, _ = account
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    head = request_head("POST", "/api/auth/login/", {"Content-Type": "application/json"})
    status, answer = status_and_json(raw_request(server.port, head, chunked([body[:10], body[10:]])))
    assert status == 200, answer
    assert len(answer["token"]) == 40


def test_chunked_body_over_the_limit_gets_413_json(server):
    parts = [b"x" * 100_000] * 30  # 3 MB, over the 2.5 MB DATA_UPLOAD_MAX_MEMORY_SIZE
    head = request_head("POST", "/api/auth/login/", {"Content-Type": "application/json"})
    status, answer = status_and_json(raw_request(server.port, head, chunked(parts)))
    assert status == 413
    assert answer == {"detail": "Request body too large: the limit is 2621440 bytes."}


def test_multipart_may_be_as_large_as_max_upload_size_but_no_larger(server):
    head = request_head("POST", "/api/auth/login/", {"Content-Type": "multipart/form-data; boundary=b"},
                        length=10_485_760 + 64 * 1024 + 1)
    status, answer = status_and_json(raw_request(server.port, head, []))  # refused unread
    assert status == 413 and "10551296 bytes" in answer["detail"]


def test_body_that_stops_arriving_gets_408_json(deployed, tmp_path_factory):
    server = start_server(deployed, tmp_path_factory, "stall", REQUEST_BODY_TIMEOUT=2)
    try:
        head = request_head("POST", "/api/auth/login/", {"Content-Type": "application/json"}, length=1000)
        started = time.monotonic()
        answer = raw_request(server.port, head, [b'{"username": "x"'], timeout=30)  # then silence
        took = time.monotonic() - started
        status, body = status_and_json(answer)
        assert status == 408 and body == {"detail": "Request body not received within 2 seconds."}
        assert 2 <= took < 10
        assert server.http.get("/health/", PROBE)[0] == 200
        lines = [r for r in server.log_records() if r.get("status") == 408]
        assert lines and lines[0]["level"] == "WARNING" and lines[0]["request_id"] != "-"
    finally:
        server.stop()


def test_honest_slow_uploads_finish_with_their_normal_answer(honest_uploads):
    """Runs last: waits for the 2 MB body at 20 KB/s and the 5 MB upload at 50 KB/s."""
    uploads, results = honest_uploads
    for upload in uploads:
        upload.join(timeout=200)
    for name in ("json", "multipart"):
        answer, took = results[name]
        status, body = status_and_json(answer)
        assert status == 200, (name, body)
        assert len(body["token"]) == 40
        assert took >= 95, f"{name} upload was not slow ({took:.0f} s)"
