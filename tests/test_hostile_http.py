"""The web server as an attacker meets it: the hostile-HTTP corpus (hostile_http.toml) and the
attacks of issue 22 that need more than one request, against the Procfile web command of the
default bake under production variables, over raw sockets on loopback. One server for the
module; the corpus runs its cases eight at a time, in about 16 s (one case waits out the 15 s
REQUEST_BODY_IDLE_TIMEOUT)."""

import json
import secrets
import socket
import struct
import time

import pytest

from baked_venvs import venv_env
from hostile_http import EDGE_ADDRESS, echo_view, failures, load_cases, request_bytes, run
from http_clients import PASSWORD, api, raw_request
from railway import HTTPS, PROBE, RAILWAY_DOMAIN, deploy_copy, production_env
from rate_windows import concurrently, fresh_client_ip
from servers import Server

pytestmark = [pytest.mark.server, pytest.mark.slow]

CASES = load_cases()


@pytest.fixture(scope="module")
def server(deployed, tmp_path_factory):
    project, venv = deployed
    checkout = deploy_copy(project, tmp_path_factory.mktemp("hostile") / "app")
    echo_log = checkout.parent / "echo.log"
    env = production_env(WEB_CONCURRENCY=2, ECHO_LOG=echo_log)
    server = Server(checkout, venv_env(venv, env), checkout.parent / "web.log").build()
    echo_view(checkout)  # after the build: the bake's static files, already built, are reused
    server.start()
    server.echo_log = echo_log
    yield server
    server.stop()


@pytest.fixture(scope="module")
def outcomes(server):
    """Every case of the corpus, sent once; {name: Outcome}."""
    started = time.monotonic()
    result = run(server.port, RAILWAY_DOMAIN, server.echo_log, CASES)
    assert time.monotonic() - started < 60
    return result


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_corpus(case, outcomes):
    assert not failures(case, outcomes[case["name"]]), (case["from"], outcomes[case["name"]])


def test_refusals_write_one_warning_line_and_no_error(server, outcomes):
    records = server.log_records()
    errors = [record for record in records if record["level"] in ("ERROR", "CRITICAL")]
    assert not errors, errors[:3]
    refused = [record for record in records if record.get("status") in (400, 405, 408, 413, 431)]
    assert refused and all(record["level"] == "WARNING" for record in refused)
    request_ids = [record["request_id"] for record in refused]
    assert len(request_ids) == len(set(request_ids))  # one line each


@pytest.mark.parametrize("status_case", ["over-body-limit", "connect", "authorization-not-ascii", "client-address-twice"])
def test_refusals_carry_the_security_headers(outcomes, server, status_case):
    """The answers made for requests refused before Django carry the headers every page has."""
    case = next(case for case in CASES if case["name"] == status_case)
    with socket.create_connection(("127.0.0.1", server.port), timeout=case.get("wait", 8)) as sock:
        sock.sendall(request_bytes(case, RAILWAY_DOMAIN))
        head = everything(sock).partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    assert int(head.split()[1]) in case["expect"]
    assert "strict-transport-security: max-age=31536000" in head
    assert "x-content-type-options: nosniff" in head
    assert "content-security-policy: " in head and "default-src 'none'" in head


def everything(sock):
    """What the server sends until it closes the connection."""
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def test_plain_http_redirect_carries_csp_and_nosniff(server):
    status, headers, _ = server.http.get("/", {"Host": RAILWAY_DOMAIN})
    assert status == 301
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def bad_login(server, ip, spoofed):
    body = {"username": f"nobody-{secrets.token_hex(4)}", "password": "wrong-password"}
    return api(server, "POST", "/api/auth/login/", body, ip=ip, X_Real_IP=spoofed)[0]


def test_a_made_up_x_real_ip_look_alike_does_not_escape_the_login_limit(server):
    """Issue 22 (1): `X_Real_IP` beside the edge's `X-Real-IP` became part of the address."""
    ip = fresh_client_ip()
    statuses = [bad_login(server, ip, f"10.0.1.{index}") for index in range(8)]
    assert statuses == [400] * 5 + [429] * 3


def stalled_body(port, address):
    """A connection that sends a login's headers and one byte of its body, then nothing."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST /api/auth/login/ HTTP/1.1\r\nHost: {RAILWAY_DOMAIN}\r\nX-Forwarded-Proto: https\r\n"
        f"X-Real-IP: {address}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
    )
    sock.sendall(head.encode())
    return sock


def test_stalled_bodies_from_many_addresses_do_not_lock_out_logins(server):
    """Issue 22 (4): 200 connections that send one body byte each, from 200 addresses, took
    every reading slot (64 per process) for REQUEST_BODY_TIMEOUT: every login got 503. Now a
    reader that has sent nothing for 2 s gives its slot up to a new request."""
    username = f"u{secrets.token_hex(4)}"
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    status, _, answer = api(server, "POST", "/api/auth/signup/", body, ip=fresh_client_ip(period=3600))
    assert status == 201, answer
    sockets = [stalled_body(server.port, f"198.51.{index // 250}.{index % 250 + 1}") for index in range(200)]
    try:
        time.sleep(3)
        started = time.monotonic()
        status, _, answer = api(server, "POST", "/api/auth/login/", {"username": username, "password": PASSWORD})
        assert status == 200, answer
        assert time.monotonic() - started < 5
        assert server.http.get("/health/", PROBE)[0] == 200
    finally:
        for sock in sockets:
            sock.close()


def test_one_address_holds_at_most_its_share_of_the_readers(server):
    """WEB_SLOW_CLIENTS_PER_ADDRESS (16 per process): the 17th stalled body from one address in
    a process is answered 429 at once, and another address still gets in."""
    address = fresh_client_ip()
    sockets = [stalled_body(server.port, address) for _ in range(40)]  # 2 processes x 16 held, the rest 429
    try:
        time.sleep(1)
        refused = 0
        for sock in sockets:
            sock.settimeout(0.2)
            try:
                refused += b" 429 " in sock.recv(4096)
            except OSError:
                pass
        assert refused >= 40 - 2 * 16
        status, _, _ = api(server, "POST", "/api/auth/login/", {"username": "x", "password": "y"})
        assert status == 400
    finally:
        for sock in sockets:
            sock.close()


def test_a_client_resetting_mid_download_logs_no_traceback(server):
    """Issue 22 (5): RSGIProtocolClosed was logged as an ERROR traceback."""
    before = len(server.log_records())
    head = f"GET /stream/ HTTP/1.1\r\nHost: {RAILWAY_DOMAIN}\r\nX-Forwarded-Proto: https\r\n\r\n".encode()
    for _ in range(10):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(head)
        sock.recv(65536)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset
        sock.close()
    time.sleep(2)
    records = server.log_records()[before:]
    assert not [record for record in records if record["level"] in ("ERROR", "CRITICAL")], records
    assert server.http.get("/health/", PROBE)[0] == 200


def test_query_strings_reach_views_as_sent(server):
    """Issue 22 (2): ?page=café arrived as caf\\ufffd, and ?x=€ answered 500."""
    status, _, body = server.http.get("/echo/query/?page=caf%C3%A9&x=%E2%82%AC", HTTPS)
    assert status == 200
    assert json.loads(body)["query"] == "page=café&x=€"


def test_honest_bodies_still_flow_while_stalled_ones_are_held(server):
    """A body that keeps arriving (a piece every 0.5 s for 5 s) is served while stalled bodies
    from 150 addresses hold every reading slot."""
    payload = json.dumps({"username": "x", "password": "y", "pad": "p" * 4000}).encode()
    parts = [payload[i:i + 400] for i in range(0, len(payload), 400)]
    request = "POST {path} HTTP/1.1\r\n{edge}Content-Type: application/json\r\n"
    request += f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    head = request_bytes({"name": "slow", "request": request}, RAILWAY_DOMAIN)
    sockets = [stalled_body(server.port, f"192.0.2.{index % 250 + 1}") for index in range(150)]
    try:
        time.sleep(3)  # the stalled readers now wait longer than honest ones ever do
        answer = raw_request(server.port, head, parts, pace=lambda index: time.sleep(0.5), timeout=30)
    finally:
        for sock in sockets:
            sock.close()
    assert b" 200 " in answer.split(b"\r\n")[0]


def worker_rss(server):
    """{pid: VmRSS in MB} of the server's worker processes (granian's main process's children)."""
    pid = server.process.pid
    children = f"/proc/{pid}/task/{pid}/children"
    rss = {}
    for child in open(children).read().split():
        status = open(f"/proc/{child}/status").read()
        rss[child] = int(status.split("VmRSS:")[1].split()[0]) // 1024
    return rss


def test_memory_returns_after_48_near_limit_json_bodies(server):
    """Issue 22 (5): 48 concurrent 2.5 MB JSON bodies took a worker from 78 to about 250 MB,
    where it stayed. What the parsers made of each body is collected once it is answered, and
    glibc gives large freed blocks back."""
    payload = json.dumps({"username": "nobody", "password": "wrong", "pad": [12345678901] * 190_000})
    request = "POST /api/auth/login/ HTTP/1.1\r\n{edge}Content-Type: application/json\r\n"
    request += f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    head = request_bytes({"name": "memory", "request": request}, RAILWAY_DOMAIN)
    before = worker_rss(server)

    def login(index):  # each from an address of its own: one address reads 16 bodies at most
        own = head.replace(EDGE_ADDRESS.encode(), f"198.18.0.{index + 1}".encode())
        return raw_request(server.port, own, [payload.encode()], timeout=120)

    answers = concurrently(login, 48)
    assert all(answer.split(b" ", 2)[1] in (b"400", b"429") for answer in answers)
    time.sleep(2)
    after = worker_rss(server)
    assert all(after[pid] - before[pid] < 50 for pid in before), (before, after)
