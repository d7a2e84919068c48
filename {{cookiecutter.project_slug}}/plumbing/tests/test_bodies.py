"""plumbing/bodies.py: bodies are read whole, within their size and time limits, before Django.
(tests/test_slow_clients.py in the template runs the same against the real server.)"""

import io
import threading
import time

import pytest
from django.db import connections
from django.http import FileResponse, StreamingHttpResponse

from plumbing.bodies import (
    BODY_ERROR,
    BUSY,
    TIMEOUT,
    TOO_LARGE,
    BufferedBodies,
    StreamedOutsideSeat,
)


class Stream:
    """A wsgi.input that hands out `data` in pieces, then blocks forever if `stall` is set."""

    def __init__(self, data, stall=False):
        self.data = io.BytesIO(data)
        self.stall = stall

    def read(self, size):
        piece = self.data.read(min(size, 1000))
        if not piece and self.stall:
            threading.Event().wait()
        return piece


def serve(environ):
    """Run environ through BufferedBodies; return what the app saw: (environ, body)."""
    seen = {}

    def app(environ, start_response):
        seen["environ"], seen["body"] = environ, environ["wsgi.input"].read()
        return []

    BufferedBodies(app, threads=2, readers=4)(environ, None)
    return seen["environ"], seen["body"]


def request(body, content_type="application/json", chunked=False, stall=False):
    environ = {"CONTENT_TYPE": content_type, "wsgi.input": Stream(body, stall)}
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def test_chunked_body_reaches_django_with_its_length():
    environ, body = serve(request(b'{"a": 1}' * 500, chunked=True))
    assert body == b'{"a": 1}' * 500
    assert environ["CONTENT_LENGTH"] == "4000"
    assert BODY_ERROR not in environ


def test_body_over_the_limit_is_refused(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    for chunked in (False, True):
        environ, body = serve(request(b"x" * 5001, chunked=chunked))
        assert environ[BODY_ERROR] == TOO_LARGE and body == b""
    environ, body = serve(request(b"x" * 5000, chunked=True))
    assert BODY_ERROR not in environ and len(body) == 5000


def test_multipart_bodies_may_be_as_large_as_max_upload_size(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    settings.MAX_UPLOAD_SIZE = 20_000
    multipart = "multipart/form-data; boundary=x"
    environ, body = serve(request(b"x" * 20_000, multipart, chunked=True))
    assert BODY_ERROR not in environ and len(body) == 20_000
    environ, _ = serve(request(b"x" * (20_000 + 64 * 1024 + 1), multipart))
    assert environ[BODY_ERROR] == TOO_LARGE


def test_body_that_stops_arriving_is_given_up_at_the_deadline(settings):
    settings.REQUEST_BODY_TIMEOUT = 0.3
    started = time.monotonic()
    environ, body = serve(request(b"x" * 100, stall=True) | {"CONTENT_LENGTH": "5000"})
    assert environ[BODY_ERROR] == TIMEOUT and body == b""
    assert time.monotonic() - started < 2


def test_no_reader_left_means_busy():
    wrapper = BufferedBodies(lambda environ, start: [], threads=1, readers=1)
    wrapper.readers.acquire()  # the one reader still waits on a client that went silent
    environ = request(b"{}")
    wrapper(environ, None)
    assert environ[BODY_ERROR] == BUSY


@pytest.mark.django_db(transaction=True)
def test_requests_take_seats_in_arrival_order_each_with_its_connection():
    """granian calls in on any of its threads, and Django keeps a database connection per thread:
    each request runs in one of `threads` seats, in arrival order, on that seat's connection, so
    a process holds at most `threads` connections however many threads call in."""
    release, order, used = threading.Event(), [], set()

    def app(environ, start_response):
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
        used.add(connections["default"])
        if environ["index"] == 0:
            release.wait(5)  # holds the only seat while the others queue up
        order.append(environ["index"])
        return []

    wrapper = BufferedBodies(app, threads=1, readers=4)
    callers = []
    for index in range(6):
        caller = threading.Thread(target=wrapper, args=({"index": index}, None))
        caller.start()
        callers.append(caller)
        time.sleep(0.05)  # each is waiting before the next arrives
    release.set()
    for caller in callers:
        caller.join(timeout=5)
    assert order == [0, 1, 2, 3, 4, 5]
    assert len(used) == 1  # six threads, one connection
    (connection,) = used
    assert connection is not connections["default"]  # the test's own thread keeps its own
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_streaming_response_queries_on_a_connection_closed_at_its_end(monkeypatch):
    """Its iterator runs after the seat is given back (a slow download holds no seat), so it
    uses a connection of the thread's own, which must not stay open once the response ends."""
    used, closed = {}, []
    wrapper_class = type(connections["default"])
    real_close = wrapper_class.close
    # Recorded rather than read from .connection: SQLite's in-memory test database ignores close().
    monkeypatch.setattr(
        wrapper_class, "close", lambda self: closed.append(self) or real_close(self)
    )

    def rows():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
        used["stream"] = connections["default"]
        yield b"row\n"

    def app(environ, start_response):
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
        used["seat"] = connections["default"]
        return StreamingHttpResponse(rows())

    def serve_and_read():
        response = BufferedBodies(app, threads=1, readers=4)({}, None)
        used["type"], used["body"] = type(response), b"".join(response)
        response.close()  # as granian does, on the same thread

    caller = threading.Thread(target=serve_and_read)
    caller.start()
    caller.join(timeout=5)
    assert used["type"] is StreamedOutsideSeat and used["body"] == b"row\n"
    assert used["stream"] is not used["seat"]
    assert used["stream"] in closed  # at the end of the response
    assert used["seat"] not in closed  # kept open for the seat's next request
    used["seat"].close()


def test_files_and_plain_responses_are_returned_as_they_are(tmp_path):
    path = tmp_path / "file.txt"
    path.write_bytes(b"data")
    with path.open("rb") as handle:
        response = BufferedBodies(lambda environ, start: FileResponse(handle), 1, 4)({}, None)
        assert isinstance(response, FileResponse)
    plain = []
    assert BufferedBodies(lambda environ, start: plain, 1, 4)({}, None) is plain


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (TIMEOUT, 408, "Request body not received within 120 seconds."),
        (BUSY, 503, "Too many uploads in progress; try again shortly."),
        (TOO_LARGE, 413, "Request body too large: the limit is 2621440 bytes."),
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
