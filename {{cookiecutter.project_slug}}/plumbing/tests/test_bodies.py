"""plumbing/bodies.py: bodies are read whole, within their size and time limits, before Django,
which runs on a few threads in arrival order. (tests/test_slow_clients.py in the template runs
the same against the real server.)"""

import asyncio
import os
import threading

import pytest
from django.db import connections
from django.http import FileResponse, StreamingHttpResponse

from plumbing import readers
from plumbing.bodies import BODY_ERROR, FILE_PIECE, TOO_LARGE, DjangoOverRSGI
from plumbing.environ import BAD_HOST, BAD_REQUEST, HEADERS_TOO_LARGE, NOT_ALLOWED
from plumbing.readers import ADDRESS_BUSY, BUSY, STALLED, TIMEOUT


class Headers:
    """granian's RSGIHeaders: items() leaves out values that are not visible ASCII (`hidden`)."""

    def __init__(self, items, hidden=()):
        self._items, self._hidden = items, list(hidden)

    def items(self):
        return list(self._items)

    def __len__(self):  # names, each counted once
        return len({name for name, _ in self._items} | set(self._hidden))

    def get_all(self, name):
        return [value for key, value in self._items if key == name]


class Scope:
    """What granian hands an RSGI app for a request."""

    proto, http_version, scheme, server = "http", "1.1", "http", "[::1]:8000"
    client = "[2001:db8::7]:51000"

    def __init__(self, method="GET", path="/", query_string="", headers=(), hidden=()):
        self.method, self.path, self.query_string = method, path, query_string
        self.headers = Headers([("host", "example.com"), *headers], hidden)


class Protocol:
    """granian's side of one request: the body in pieces (then silence if `stall`), and the
    answer it was given."""

    def __init__(self, body=b"", stall=False, broken=False, cut=False):
        self.pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
        self.stall, self.broken, self.cut = stall, broken, cut
        self.answer, self.sent = None, []

    async def __aiter__(self):
        for piece in self.pieces:
            yield piece
        if self.broken:
            raise RuntimeError("connection closed")  # as granian's RSGIProtocolClosed
        if self.stall:
            await asyncio.Event().wait()
        yield b""  # granian ends every body with an empty piece...
        if self.cut:
            yield b""  # ...and a body hyper found broken with a second one

    def response_bytes(self, status, headers, body):
        self.answer = (status, dict(headers), body)

    def response_empty(self, status, headers):
        self.answer = (status, dict(headers), None)

    def response_stream(self, status, headers):
        self.answer = (status, dict(headers), self.sent)
        protocol = self

        class Transport:
            async def send_bytes(self, data):
                protocol.sent.append(data)

        return Transport()


def body_request(body, content_type="application/json", chunked=False, **protocol_options):
    headers = [
        ("content-type", content_type),
        ("x-real-ip", protocol_options.pop("ip", "192.0.2.1")),
    ]
    length = ("content-length", str(len(body)))
    headers.append(("transfer-encoding", "chunked") if chunked else length)
    return Scope("POST", "/upload/", headers=headers), Protocol(body, **protocol_options)


@pytest.fixture(autouse=True)
def allowed_host(settings):
    settings.ALLOWED_HOSTS = ["example.com"]
    settings.CLIENT_IP_HEADER = "X-Real-IP"


def serve(scope, protocol, app=None, threads=2, readers=4):
    """Run one request through DjangoOverRSGI; return what the app saw: (environ, body)."""
    seen = {}

    def record(environ, start_response):
        seen["environ"], seen["body"] = environ, environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    asyncio.run(DjangoOverRSGI(app or record, threads, readers).__rsgi__(scope, protocol))
    return seen.get("environ"), seen.get("body")


def test_the_environ_comes_from_the_request_alone(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "never-in-a-request")
    scope = Scope(
        path="/caf\u00e9/",
        query_string="a=1&b=%20",
        headers=[
            ("x-forwarded-proto", "https"),
            ("accept", "a"),
            ("accept", "b"),
            ("cookie", "one=1"),
            ("cookie", "two=2"),
        ],
    )
    environ, _ = serve(scope, Protocol())
    assert environ["PATH_INFO"] == "/caf\u00c3\u00a9/"  # the path's UTF-8 bytes, as latin-1
    assert environ["QUERY_STRING"] == "a=1&b=%20"
    assert environ["REMOTE_ADDR"] == "2001:db8::7"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("::1", "8000")
    assert environ["HTTP_HOST"] == "example.com"
    assert environ["HTTP_X_FORWARDED_PROTO"] == "https"
    assert environ["HTTP_ACCEPT"] == "a,b"
    assert environ["HTTP_COOKIE"] == "one=1; two=2"
    assert not set(os.environ) & set(environ), "a process variable reached the request"


def test_chunked_body_reaches_django_with_its_length():
    environ, body = serve(*body_request(b'{"a": 1}' * 500, chunked=True))
    assert body == b'{"a": 1}' * 500
    assert environ["CONTENT_LENGTH"] == "4000"
    assert BODY_ERROR not in environ


def test_body_over_the_limit_is_refused(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    for chunked in (False, True):
        environ, body = serve(*body_request(b"x" * 5001, chunked=chunked))
        assert environ[BODY_ERROR] == TOO_LARGE and body == b""
    environ, body = serve(*body_request(b"x" * 5000, chunked=True))
    assert BODY_ERROR not in environ and len(body) == 5000


def test_a_declared_length_over_the_limit_is_refused_unread(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    scope, protocol = body_request(b"x" * 6000)
    protocol.pieces = None  # reading would fail: it must not be read at all
    environ, _ = serve(scope, protocol)
    assert environ[BODY_ERROR] == TOO_LARGE


def test_multipart_bodies_may_be_as_large_as_max_upload_size(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    settings.MAX_UPLOAD_SIZE = 20_000
    multipart = "multipart/form-data; boundary=x"
    environ, body = serve(*body_request(b"x" * 20_000, multipart, chunked=True))
    assert BODY_ERROR not in environ and len(body) == 20_000
    environ, _ = serve(*body_request(b"x" * (20_000 + 64 * 1024 + 1), multipart))
    assert environ[BODY_ERROR] == TOO_LARGE


def test_body_that_stops_arriving_is_given_up_at_the_deadline(settings):
    settings.REQUEST_BODY_TIMEOUT = 0.3
    scope, protocol = body_request(b"x" * 100, stall=True)
    environ, body = serve(scope, protocol)
    assert environ[BODY_ERROR] == TIMEOUT and body == b""
    assert protocol.answer[0] == 200  # Django answered (with 408 through the middleware)


def test_a_body_cut_off_by_its_client_never_reaches_django():
    environ, _ = serve(*body_request(b"x" * 3000, broken=True))
    assert environ is None
    scope, protocol = body_request(b"x" * 3000)
    protocol.pieces = protocol.pieces[:1]  # the connection ended after 1000 of 3000 bytes
    environ, _ = serve(scope, protocol)
    assert environ is None and protocol.answer[0] == 400


def test_past_the_readers_a_body_is_busy_and_reading_costs_no_thread(settings):
    """Bodies are read on the event loop: 20 that stall hold no thread; the 21st is busy."""
    settings.REQUEST_BODY_TIMEOUT = 0.5
    seen = []

    def app(environ, start_response):
        seen.append(environ.get(BODY_ERROR))
        start_response("200 OK", [])
        return []

    async def main():
        server = DjangoOverRSGI(app, threads=1, readers=20)
        threads_before = set(threading.enumerate())
        stalled = [
            asyncio.create_task(server.__rsgi__(*body_request(b"x", stall=True, ip=f"192.0.2.{n}")))
            for n in range(20)
        ]
        await asyncio.sleep(0.1)
        assert len(server.readers.active) == 20
        assert not set(threading.enumerate()) - threads_before
        await server.__rsgi__(*body_request(b"{}"))
        await asyncio.gather(*stalled)
        assert not server.readers.active

    asyncio.run(main())
    assert seen == [BUSY] + [TIMEOUT] * 20


def test_a_body_granian_found_broken_never_reaches_django():
    """A chunked body cut short or with a bad chunk size: granian's body iterator then gives
    a second empty piece instead of raising."""
    environ, _ = serve(*body_request(b"x" * 3000, chunked=True, cut=True))
    assert environ is None


def test_a_body_silent_for_the_idle_timeout_is_given_up(settings):
    settings.REQUEST_BODY_IDLE_TIMEOUT = 0.2
    environ, body = serve(*body_request(b"x" * 100, stall=True))
    assert environ[BODY_ERROR] == STALLED and body == b""


def stalled_then_one_more(monkeypatch, first_ips, last_ip, readers_count=3, per_address=None):
    """`first_ips` stalled bodies, then one more from `last_ip` after 0.2 s; what each got."""
    monkeypatch.setattr(readers, "EVICT_AFTER", 0.1)
    seen = {}

    def app(environ, start_response):
        seen[environ["HTTP_X_REAL_IP"], len(seen)] = environ.get(BODY_ERROR)
        start_response("200 OK", [])
        return []

    async def main():
        server = DjangoOverRSGI(app, threads=1, readers=readers_count, per_address=per_address)
        stalled = [
            asyncio.create_task(server.__rsgi__(*body_request(b"x", stall=True, ip=ip)))
            for ip in first_ips
        ]
        await asyncio.sleep(0.2)
        await server.__rsgi__(*body_request(b"{}", ip=last_ip))
        await asyncio.sleep(0.2)  # an evicted reader is answered meanwhile
        for task in stalled:
            task.cancel()
        await asyncio.gather(*stalled, return_exceptions=True)

    asyncio.run(main())
    return seen


def test_when_every_reader_is_taken_the_stalest_gives_its_place_up(monkeypatch):
    seen = stalled_then_one_more(monkeypatch, ["192.0.2.1", "192.0.2.2", "192.0.2.3"], "192.0.2.9")
    assert seen == {("192.0.2.9", 0): None, ("192.0.2.1", 1): STALLED}  # the first one stalled


def test_one_address_holds_at_most_its_share_of_the_readers(monkeypatch):
    seen = stalled_then_one_more(monkeypatch, ["192.0.2.1"] * 2, "192.0.2.1", 10, per_address=2)
    assert list(seen.values()) == [ADDRESS_BUSY]


def test_bodies_in_memory_share_a_byte_budget():
    pool = readers.Readers(total=10, per_address=10, memory=2500, piece_memory=1000)
    taken = [pool.take(f"192.0.2.{n}") for n in range(4)]
    assert [reader.memory for reader in taken] == [1000, 1000, 500, 0]  # then a file from byte 0
    pool.release(taken[0])
    assert pool.take("192.0.2.9").memory == 1000
    assert pool.take("192.0.2.10", length=200).memory == 0  # the budget is spent
    pool.release(taken[1])
    assert pool.take("192.0.2.11", length=200).memory == 200  # what it declared, no more


def test_a_body_with_no_memory_left_goes_to_a_file(settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    seen = {}

    def app(environ, start_response):
        seen["rolled"] = environ["wsgi.input"].name is not None  # in memory, it has no name
        start_response("200 OK", [])
        return []

    server = DjangoOverRSGI(app, 1, 4)
    server.readers.memory_left = 0  # spent by bodies waiting for Django
    asyncio.run(server.__rsgi__(*body_request(b"x" * 500)))
    assert seen["rolled"]


@pytest.mark.parametrize(
    ("scope", "refusal"),
    [
        (Scope(headers=[("x-real-ip", "1.1.1.1"), ("x-real-ip", "2.2.2.2")]), BAD_REQUEST),
        (Scope(hidden=["authorization"]), BAD_REQUEST),  # a value that is not ASCII
        (Scope(method="CONNECT", path=""), NOT_ALLOWED),
        (Scope(path="*"), BAD_REQUEST),
        (Scope(headers=[("transfer-encoding", "gzip, chunked")]), BAD_REQUEST),
        (Scope(headers=[("x-big", "a" * 40_000)]), HEADERS_TOO_LARGE),
    ],
)
def test_requests_refused_before_django(scope, refusal):
    environ, _ = serve(scope, Protocol())
    assert environ[BODY_ERROR] == refusal


def test_header_names_with_underscores_are_dropped():
    scope = Scope(headers=[("x-real-ip", "203.0.113.9"), ("x_real_ip", "10.0.0.1")])
    environ, _ = serve(scope, Protocol())
    assert environ["HTTP_X_REAL_IP"] == "203.0.113.9" and BODY_ERROR not in environ


def test_a_query_with_raw_bytes_outside_ascii_is_refused():
    environ, _ = serve(Scope(query_string="page=café"), Protocol())
    assert environ[BODY_ERROR] == BAD_REQUEST


def test_a_percent_encoded_query_is_passed_as_sent():
    environ, _ = serve(Scope(query_string="page=caf%C3%A9"), Protocol())
    assert environ["QUERY_STRING"] == "page=caf%C3%A9" and BODY_ERROR not in environ


def test_a_body_for_a_host_django_refuses_is_not_read():
    scope, protocol = body_request(b"{}")
    scope.headers = Headers([("host", "attacker.example"), *scope.headers.items()[1:]])
    protocol.pieces = None  # reading would fail: it must not be read at all
    environ, _ = serve(scope, protocol)
    assert environ[BODY_ERROR] == BAD_HOST


@pytest.mark.django_db(transaction=True)
def test_requests_run_on_the_threads_in_arrival_order_each_with_its_connection():
    """Requests waiting their turn hold no thread: ten requests through one thread run in the
    order they came, all on that thread and its one database connection."""
    ran = []

    def app(environ, start_response):
        connections["default"].ensure_connection()
        connection = connections["default"].connection
        ran.append((environ["PATH_INFO"], threading.get_ident(), id(connection)))
        start_response("200 OK", [])
        return [b"done"]

    async def main():
        server = DjangoOverRSGI(app, threads=1, readers=4)
        protocols = [Protocol() for _ in range(10)]
        requests = (server.__rsgi__(Scope(path=f"/{n}/"), p) for n, p in enumerate(protocols))
        await asyncio.gather(*requests)
        server.pool.submit(connections.close_all).result()
        return protocols

    protocols = asyncio.run(main())
    assert [path for path, _, _ in ran] == [f"/{n}/" for n in range(10)]
    assert len({thread for _, thread, _ in ran}) == 1 and len({conn for _, _, conn in ran}) == 1
    assert all(p.answer[2] == b"done" for p in protocols)


@pytest.mark.django_db(transaction=True)
def test_a_streaming_response_is_made_on_the_django_threads_and_closed_there():
    made = []

    def rows():
        for n in range(3):
            made.append(threading.current_thread().name)
            yield f"row {n}\n".encode()

    def app(environ, start_response):
        response = StreamingHttpResponse(rows())
        response.close = lambda: made.append("closed on " + threading.current_thread().name)
        start_response("200 OK", list(response.items()))
        return response

    protocol = Protocol()
    serve(Scope(), protocol, app)
    assert protocol.sent == [b"row 0\n", b"row 1\n", b"row 2\n"]  # piece by piece, as made
    assert len(made) == 4 and all(name.startswith("django") for name in made[:3])
    assert made[3].startswith("closed on django")


def file_app(path):
    def app(environ, start_response):
        response = FileResponse(path.open("rb"))
        start_response("200 OK", list(response.items()))
        return response

    return app


def test_a_file_is_sent_in_large_pieces(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(3 * FILE_PIECE + 10))
    protocol = Protocol()
    serve(Scope(), protocol, file_app(path))
    assert b"".join(protocol.sent) == path.read_bytes()
    assert [len(piece) for piece in protocol.sent] == [FILE_PIECE] * 3 + [10]


def test_a_file_that_fits_in_one_piece_is_sent_as_one_answer(tmp_path):
    """Most static files: read whole with the answer, no hand-over per piece."""
    path = tmp_path / "site.css"
    path.write_bytes(b"body { margin: 0 }\n" * 1000)
    protocol = Protocol()
    serve(Scope(), protocol, file_app(path))
    assert protocol.answer[2] == path.read_bytes() and protocol.sent == []


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (TIMEOUT, 408, "Request body not received within 120 seconds."),
        (BUSY, 503, "Too many uploads in progress; try again shortly."),
        (TOO_LARGE, 413, "Request body too large: the limit is 2621440 bytes."),
        (STALLED, 408, "Request body stopped arriving for 15 seconds."),
        (ADDRESS_BUSY, 429, "Too many uploads in progress from your address."),
        (NOT_ALLOWED, 405, "Method not allowed."),
        (HEADERS_TOO_LARGE, 431, "Request headers too large."),
    ],
)
def test_refused_bodies_get_json_answers(client, error, status, detail):
    response = client.post(
        "/api/auth/login/", "{}", "application/json", secure=True, **{BODY_ERROR: error}
    )
    assert response.status_code == status
    assert response.json() == {"detail": detail}
    assert response["Content-Length"] == str(len(response.content))
    assert response["X-Request-ID"]
    assert response["X-Content-Type-Options"] == "nosniff"  # below the security headers
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Strict-Transport-Security"].startswith("max-age=")
