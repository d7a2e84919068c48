"""Serve Django from granian's RSGI interface: bodies read on the event loop, Django on threads.

Railway's edge does not say it buffers request bodies, so a client on a slow network (or an
attacker sending a byte a second) would hold a Django thread for as long as its body takes to
arrive. Here each request starts as a coroutine on the process's event loop (granian's RSGI
interface, https://github.com/emmett-framework/granian/blob/master/docs/spec/RSGI.md), which
reads its whole body within its size and time limits, into memory or into a temporary file past
FILE_UPLOAD_MAX_MEMORY_SIZE. Only then does Django run, on one of WEB_THREADS threads, in
arrival order; /health/ and static files run on two small pools of their own (pool_for), so
they never queue behind requests that wait on a stalled database. A slow client, or a request
waiting its turn, costs a few KB and its bytes: no thread (under granian's WSGI interface each
held one).

Django keeps its database connections per thread, so a process holds at most WEB_THREADS per
database. A streaming response produces each piece on one of those threads and sends it from
the event loop, so a slow download holds no thread between pieces.

Limits, checked here because nothing earlier does (granian has no body limit or body timeout):
- size (body_limit): DATA_UPLOAD_MAX_MEMORY_SIZE, or for multipart/form-data (file uploads)
  MAX_UPLOAD_SIZE plus MULTIPART_OVERHEAD. A Content-Length over it is refused unread; a
  chunked body is read up to the limit and refused once it goes over.
- time: the whole body must arrive within REQUEST_BODY_TIMEOUT seconds, with no gap between
  two pieces longer than REQUEST_BODY_IDLE_TIMEOUT.
- who reads at once, and the memory bodies hold: plumbing/readers.py.
- a body that did not fully arrive (cut short, a bad chunk) never reaches Django.
A refused request still goes through Django with an empty body, so that
plumbing.middleware.RequestBodyLimitMiddleware answers it (413, 408, 429, 503...) in JSON with
the request id, the site's security headers and one log line. A chunked body that fits
reaches Django with its real Content-Length (Django reads nothing from a body without one).

The WSGI environ (plumbing/environ.py) is built from the request alone, never from the process's
variables: granian's WSGI interface starts each environ from a copy of os.environ, as CGI did,
which put DJANGO_SECRET_KEY and every other secret in request.META.

Written here because no server or library does this: gunicorn's sync workers read bodies in
the worker (its docs ask for a buffering proxy), granian's WSGI interface streams them on a
thread, and asgiref's WsgiToAsgi (ASGI to WSGI) runs every request on one shared thread, with
no size or time limit.
"""

import asyncio
import gc
import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings

from plumbing.environ import BAD_HOST, host_allowed, wsgi_environ
from plumbing.ratelimit import address_in
from plumbing.readers import STALLED, TIMEOUT, Readers

logger = logging.getLogger("plumbing.requests")

BODY_ERROR = "plumbing.body_error"  # environ key, read by RequestBodyLimitMiddleware
TOO_LARGE = "too_large"
CLIENT_GONE = "client_gone"  # the connection broke before the whole body came: nothing to answer
# Room in a multipart body for boundaries, part headers and the form's other small fields.
MULTIPART_OVERHEAD = 64 * 1024
# A file response is sent in pieces of about this size (Django's own are 4 KB).
FILE_PIECE = 64 * 1024
# After a request with a body this large, the garbage collector runs: what the parsers made of
# it sits in reference cycles (DRF's request and its parsed data), which the collector would
# otherwise reach only after many more requests, a process's memory high meanwhile.
COLLECT_AFTER = 512 * 1024


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


class DjangoOverRSGI:
    """The RSGI app: read the body (see the module docstring), then run the WSGI `app` on one
    of `threads` threads, first come first served. At most `readers` bodies are read at once
    (`per_address` from one client address), holding at most `memory` bytes in memory; past
    that a request with a body is refused (plumbing/readers.py). Requests whose headers take
    more than `header_limit` bytes are refused (plumbing/environ.py)."""

    def __init__(self, app, threads, readers, per_address=None, memory=None, header_limit=32_768):
        self.app = app
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="django")
        # Requests that never wait on the database have threads of their own, so a database
        # that stops answering cannot hold them up: /health/ (its checks have their own
        # deadline, plumbing/health.py) and the files WhiteNoise serves.
        self.health_pool = ThreadPoolExecutor(2, thread_name_prefix="health-probe")
        self.static_pool = ThreadPoolExecutor(2, thread_name_prefix="static")
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")
        self.root_files = {"/" + path.name for path in Path(settings.WHITENOISE_ROOT).glob("*")}
        piece = settings.FILE_UPLOAD_MAX_MEMORY_SIZE
        self.readers = Readers(readers, per_address or readers, memory or readers * piece, piece)
        self.timeout = settings.REQUEST_BODY_TIMEOUT
        self.idle_timeout = settings.REQUEST_BODY_IDLE_TIMEOUT
        self.header_limit = header_limit

    def pool_for(self, path):
        if path == "/health/":
            return self.health_pool
        if path.startswith(self.static_prefix) or path in self.root_files:
            return self.static_pool
        return self.pool

    async def __rsgi__(self, scope, protocol):
        if scope.proto != "http":  # websockets are off in server.py
            return
        environ, refused = wsgi_environ(scope, self.header_limit)
        reader = None
        if refused:
            environ[BODY_ERROR] = refused
        elif self.has_body(environ):
            reader = await self.read_body(environ, protocol)
            if reader == CLIENT_GONE:
                return protocol.response_empty(400, [])  # nobody is there to read it
        loop = asyncio.get_running_loop()
        pool = self.pool_for(scope.path)
        try:
            status, headers, body = await loop.run_in_executor(pool, self.run_django, environ)
        finally:
            if reader:
                self.readers.release(reader)
        if isinstance(body, bytes):
            protocol.response_bytes(status, headers, body)
            return
        transport = protocol.response_stream(status, headers)
        try:
            piece = body.first  # a file's, read with the answer; a view's stream starts here
            if piece is None:
                piece = await loop.run_in_executor(pool, body.next_piece)
            while piece is not None:
                try:
                    await transport.send_bytes(piece)
                except RuntimeError:  # granian's RSGIProtocolClosed: the client went away
                    logger.info(
                        "%s %s: the client closed the connection during the answer",
                        environ["REQUEST_METHOD"],
                        environ["PATH_INFO"],
                    )
                    return
                piece = await loop.run_in_executor(pool, body.next_piece)
        finally:
            await loop.run_in_executor(pool, body.close)

    @staticmethod
    def has_body(environ):
        return (
            bool(declared_length(environ))
            or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        )

    async def read_body(self, environ, protocol):
        """Replace wsgi.input with the whole body and return its Reader (to release once Django
        is done); if it cannot be read, set environ[BODY_ERROR] and return None, or CLIENT_GONE."""
        length = declared_length(environ)
        error = None
        if length is not None and length > body_limit(environ.get("CONTENT_TYPE", "")):
            error = TOO_LARGE
        elif not host_allowed(environ):  # Django would refuse it: not worth a slot
            error = BAD_HOST
        else:
            reader = self.readers.take(address_in(environ), length)
            if isinstance(reader, str):
                error = reader
        if error:
            environ[BODY_ERROR] = error
            return None
        try:
            error = await self.receive(environ, protocol, reader, length)
        finally:
            self.readers.done(reader)
        if error == CLIENT_GONE:
            self.readers.release(reader)
            return CLIENT_GONE
        if error:
            environ[BODY_ERROR] = error
        return reader

    async def receive(self, environ, protocol, reader, length):
        """Read the body into a spool file; None when it all came, else the error's name."""
        limit = body_limit(environ.get("CONTENT_TYPE", ""))
        loop = asyncio.get_running_loop()
        end = loop.time() + self.timeout
        # max_size 0 would mean "never a file": 1 sends a body with no memory left to disk.
        spool = tempfile.SpooledTemporaryFile(max_size=max(reader.memory, 1))  # noqa: SIM115
        size, ended, error = 0, False, None
        try:
            async with asyncio.timeout(min(end, loop.time() + self.idle_timeout)) as deadline:
                reader.deadline = deadline
                async for piece in protocol:
                    if not piece:
                        # granian ends a body with one empty piece; one more means hyper found
                        # the body broken (cut short, a bad chunk size): it must not be used.
                        if ended:
                            error = CLIENT_GONE
                            break
                        ended = True
                        continue
                    reader.arrived()
                    spool.write(piece)
                    size += len(piece)
                    if size > limit:
                        error = TOO_LARGE
                        break
                    deadline.reschedule(min(end, loop.time() + self.idle_timeout))
        except TimeoutError:
            error = TIMEOUT if loop.time() >= end else STALLED
        except Exception:  # the connection broke (granian's RSGIProtocolClosed and the like)
            error = CLIENT_GONE
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
            if (declared_length(environ) or 0) > COLLECT_AFTER:
                del response
                gc.collect()
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
