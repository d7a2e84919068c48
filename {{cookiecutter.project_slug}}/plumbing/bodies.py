"""Serve Django from granian's RSGI interface: bodies read on the event loop, Django on threads.

Railway's edge does not say it buffers request bodies, so a client on a slow network (or an
attacker sending a byte a second) would hold a Django thread for as long as its body takes to
arrive. Here each request starts as a coroutine on the process's event loop (granian's RSGI
interface, https://github.com/emmett-framework/granian/blob/master/docs/spec/RSGI.md), which
reads its whole body within its size and time limits, into memory or into a temporary file past
FILE_UPLOAD_MAX_MEMORY_SIZE. Only then does Django run, on one of WEB_THREADS threads, in
arrival order. A slow client, or a request waiting its turn, costs a few KB and its bytes: no
thread (under granian's WSGI interface each held one).

Django keeps its database connections per thread, so a process holds at most WEB_THREADS per
database. A streaming response produces each piece on one of those threads and sends it from
the event loop, so a slow download holds no thread between pieces.

Limits, checked here because nothing earlier does (granian has no body limit or body timeout):
- size (body_limit): DATA_UPLOAD_MAX_MEMORY_SIZE, or for multipart/form-data (file uploads)
  MAX_UPLOAD_SIZE plus MULTIPART_OVERHEAD. A Content-Length over it is refused unread; a
  chunked body is read up to the limit and refused once it goes over.
- time: the whole body must arrive within REQUEST_BODY_TIMEOUT seconds.
- bodies read at once per process: `readers` (WEB_SLOW_CLIENTS), a cap on the memory they hold.
A refused request still goes through Django with an empty body, so that
plumbing.middleware.RequestBodyLimitMiddleware answers 413, 408 or 503 JSON with the request id
and a log line. A chunked body that fits reaches Django with its real Content-Length (Django
reads nothing from a body without one).

The WSGI environ is built from the request alone (PEP 3333), never from the process's
variables: granian's WSGI interface starts each environ from a copy of os.environ, as CGI did,
which put DJANGO_SECRET_KEY and every other secret in request.META.

Written here because no server or library does this: gunicorn's sync workers read bodies in
the worker (its docs ask for a buffering proxy), granian's WSGI interface streams them on a
thread, and asgiref's WsgiToAsgi (ASGI to WSGI) runs every request on one shared thread, with
no size or time limit.
"""

import asyncio
import io
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

BODY_ERROR = "plumbing.body_error"  # environ key, read by RequestBodyLimitMiddleware
TOO_LARGE, TIMEOUT, BUSY = "too_large", "timeout", "busy"
CLIENT_GONE = "client_gone"  # the connection broke before the whole body came: nothing to answer
# Room in a multipart body for boundaries, part headers and the form's other small fields.
MULTIPART_OVERHEAD = 64 * 1024
# A file response is sent in pieces of about this size (Django's own are 4 KB).
FILE_PIECE = 64 * 1024
SPECIAL_HEADERS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def body_limit(content_type):
    """The most bytes a request body with this Content-Type may have."""
    if content_type.lower().startswith("multipart/form-data"):
        return settings.MAX_UPLOAD_SIZE + MULTIPART_OVERHEAD
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def declared_length(environ):
    """Content-Length as a number; None when absent or not a number."""
    try:
        return int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def split_address(address):
    """("host", "port") from granian's "host:port" or "[v6 host]:port"."""
    host, _, port = (address or "").rpartition(":")
    return host.strip("[]"), port


def wsgi_environ(scope):
    """The PEP 3333 environ of an RSGI request scope (its body comes later)."""
    server_name, server_port = split_address(scope.server)
    environ = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        # granian gives the path percent-decoded as text; WSGI wants its bytes as latin-1.
        "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": split_address(scope.client)[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope.headers.items():
        key = SPECIAL_HEADERS.get(name) or "HTTP_" + name.upper().replace("-", "_")
        if key in environ:  # a repeated header: one value, as RFC 9110 combines them
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ


class DjangoOverRSGI:
    """The RSGI app: read the body (see the module docstring), then run the WSGI `app` on one
    of `threads` threads, first come first served. At most `readers` bodies are read at once;
    past that a request with a body is answered 503."""

    def __init__(self, app, threads, readers):
        self.app = app
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="django")
        self.readers = readers
        self.reading = 0
        self.timeout = settings.REQUEST_BODY_TIMEOUT

    async def __rsgi__(self, scope, protocol):
        if scope.proto != "http":  # websockets are off in server.py
            return
        environ = wsgi_environ(scope)
        length = declared_length(environ)
        if length or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            error = await self.read_body(environ, protocol, length)
            if error == CLIENT_GONE:
                return protocol.response_empty(400, [])  # nobody is there to read it
            if error:
                environ[BODY_ERROR] = error
        loop = asyncio.get_running_loop()
        status, headers, body = await loop.run_in_executor(self.pool, self.run_django, environ)
        if isinstance(body, bytes):
            protocol.response_bytes(status, headers, body)
            return
        transport = protocol.response_stream(status, headers)
        try:
            piece = body.first  # a file's, read with the answer; a view's stream starts here
            if piece is None:
                piece = await loop.run_in_executor(self.pool, body.next_piece)
            while piece is not None:
                await transport.send_bytes(piece)
                piece = await loop.run_in_executor(self.pool, body.next_piece)
        finally:
            await loop.run_in_executor(self.pool, body.close)

    async def read_body(self, environ, protocol, length):
        """Replace wsgi.input with the whole body; return an error name instead if it cannot be."""
        limit = body_limit(environ.get("CONTENT_TYPE", ""))
        if length is not None and length > limit:
            return TOO_LARGE
        if self.reading >= self.readers:
            return BUSY
        self.reading += 1
        spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
        size, error = 0, None
        try:
            async with asyncio.timeout(self.timeout):
                async for piece in protocol:
                    spool.write(piece)
                    size += len(piece)
                    if size > limit:
                        error = TOO_LARGE
                        break
        except TimeoutError:
            error = TIMEOUT
        except Exception:  # the connection broke (granian's RSGIProtocolClosed and the like)
            error = CLIENT_GONE
        finally:
            self.reading -= 1
        if error is None and length is not None and size < length:
            error = CLIENT_GONE
        if error:
            spool.close()
            return error
        spool.seek(0)
        environ["wsgi.input"] = spool  # closed with Django's request
        environ["CONTENT_LENGTH"] = str(size)
        return None

    def run_django(self, environ):
        """On a Django thread: the answer as (status, headers, bytes or a Pieces)."""
        started = []

        def start_response(status, headers, exc_info=None):
            started[:] = [int(status[:3]), headers]

        response = self.app(environ, start_response)
        if getattr(response, "streaming", False):
            pieces = Pieces(response)
            if pieces.ended:  # a small file, read whole here: no more hand-overs
                pieces.close()
                return *started, pieces.first or b""
            return *started, pieces
        try:
            body = b"".join(response)
        finally:
            if hasattr(response, "close"):  # Django's request_finished: it looks after connections
                response.close()
        return *started, body


class Pieces:
    """A streaming response, produced a piece at a time on a Django thread: each piece is one
    hand-over between the event loop and a thread. A file's 4 KB blocks are joined into pieces of
    FILE_PIECE bytes, and its first piece is read at once, so a file that fits in one (most
    static files) is sent like any other answer; other streams go piece by piece, as the view
    yields them."""

    def __init__(self, response):
        self.response = response
        self.iterator = iter(response)
        self.is_file = getattr(response, "file_to_stream", None) is not None
        self.ended = False
        self.first = self.next_piece() if self.is_file else None

    def next_piece(self):
        """The next bytes to send, or None at the end."""
        if not self.is_file:
            return next(self.iterator, None)
        pieces, size = [], 0
        for piece in self.iterator:
            pieces.append(piece)
            size += len(piece)
            if size >= FILE_PIECE:
                break
        else:
            self.ended = True
        return b"".join(pieces) if pieces else None

    def close(self):
        self.response.close()
