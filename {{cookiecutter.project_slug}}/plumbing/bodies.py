"""Read each request body before Django sees it, as a buffering proxy would.

Railway's edge does not say it buffers request bodies, so a client on a slow network (or an
attacker sending a byte a second) would hold a Django thread for as long as its body takes to
arrive. granian (server.py) calls the WSGI app as soon as the headers are in and streams
`wsgi.input`; BufferedBodies reads that stream on a reader thread (granian releases the GIL
while it waits) into memory, or into a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE, and only
then lets the request take one of WEB_THREADS seats into Django, in arrival order. Slow clients
cost an idle thread and their bytes, never a seat.

Django runs on the thread granian called in on (handing it to a pool of threads instead cost
two thread switches a request: the template's docs/benchmarks.md). Django keeps its database
connections per thread, so each seat keeps its own and lends them to whichever thread holds the
seat: a process holds at most WEB_THREADS connections per database, however many of granian's
threads it runs, plus one for each streaming response that queries while it streams (its
iterator runs after the seat is given back: StreamedOutsideSeat).

Limits, checked here because nothing earlier does (granian has no body limit or body timeout):
- size (body_limit): DATA_UPLOAD_MAX_MEMORY_SIZE, or for multipart/form-data (file uploads)
  MAX_UPLOAD_SIZE plus MULTIPART_OVERHEAD. A Content-Length over it is refused unread; a
  chunked body is read up to the limit and refused once it goes over.
- time: the whole body must arrive within REQUEST_BODY_TIMEOUT seconds. A body that stops
  arriving is answered at the deadline; its reader thread waits until the client goes away.
A refused request still goes through Django with an empty body, so that
plumbing.middleware.RequestBodyLimitMiddleware answers 413, 408 or 503 JSON with the request id
and a log line. A chunked body that fits reaches Django with its real Content-Length (Django
reads nothing from a body without one).

Written here because no WSGI server or library does this: gunicorn's sync workers read bodies in
the worker (its docs ask for a buffering proxy), granian streams them, and neither limits them.
"""

import io
import tempfile
import threading
from collections import deque

from django.conf import settings
from django.db import connections

BODY_ERROR = "plumbing.body_error"  # environ key, read by RequestBodyLimitMiddleware
TOO_LARGE, TIMEOUT, BUSY = "too_large", "timeout", "busy"
CHUNK = 64 * 1024
# Room in a multipart body for boundaries, part headers and the form's other small fields.
MULTIPART_OVERHEAD = 64 * 1024


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


class BufferedBodies:
    """WSGI wrapper: read the body (within its limits) first, then run the app in one of
    `threads` seats (see Seats).

    At most `readers` bodies are read at once per process (including readers still waiting on
    clients that stopped sending); past that a request with a body is answered 503.
    """

    def __init__(self, app, threads, readers):
        self.app = app
        self.seats = Seats(threads)
        self.readers = threading.BoundedSemaphore(readers)
        self.timeout = settings.REQUEST_BODY_TIMEOUT

    def __call__(self, environ, start_response):
        length = declared_length(environ)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if length or chunked:
            error = self.buffer(environ, length, chunked)
            if error:
                environ[BODY_ERROR] = error
                environ["wsgi.input"] = io.BytesIO()
        seat = self.seats.take()
        try:
            response = self.app(environ, start_response)
        finally:
            self.seats.give_back(seat)
        streams_a_file = getattr(response, "file_to_stream", None) is not None
        if getattr(response, "streaming", False) and not streams_a_file:
            return StreamedOutsideSeat(response)
        return response

    def buffer(self, environ, length, chunked):
        """Replace wsgi.input with the whole body; return an error name instead if it cannot be."""
        limit = body_limit(environ.get("CONTENT_TYPE", ""))
        if length is not None and length > limit:
            return TOO_LARGE
        if not self.readers.acquire(blocking=False):
            return BUSY
        want = limit + 1 if length is None else length  # one byte over the limit proves it
        reader = Reader(environ["wsgi.input"], want, self.readers)
        if not reader.done.wait(self.timeout):
            reader.abandon()
            return TIMEOUT
        if reader.size > limit:
            reader.spool.close()
            return TOO_LARGE
        reader.spool.seek(0)
        environ["wsgi.input"] = reader.spool
        environ["CONTENT_LENGTH"] = str(reader.size)
        return None


class Reader:
    """Copy up to `want` bytes of a request body into a spooled file on a daemon thread (so
    neither a deadline nor a worker's exit waits for a client that stopped sending)."""

    def __init__(self, stream, want, slots):
        # Closed by whoever is last: Django's request (through garbage collection) or abandon().
        self.spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE
        )
        self.size = 0
        self.done = threading.Event()
        self.abandoned = False
        self.lock = threading.Lock()
        self.slots = slots
        thread = threading.Thread(target=self.copy, args=(stream, want), daemon=True)
        thread.start()

    def copy(self, stream, want):
        try:
            while self.size < want:
                data = stream.read(min(CHUNK, want - self.size))
                with self.lock:
                    if not data or self.abandoned:
                        break
                    self.spool.write(data)
                    self.size += len(data)
        finally:
            self.slots.release()
            self.done.set()
            with self.lock:
                if self.abandoned:
                    self.spool.close()

    def abandon(self):
        """The deadline passed: whatever still arrives is dropped, and the file is closed."""
        with self.lock:
            self.abandoned = True
            if self.done.is_set():
                self.spool.close()


class StreamedOutsideSeat:
    """A streaming response that is not a file: its iterator runs as the client reads, after the
    seat is given back, so a slow download never holds one. A query in that iterator opens a
    connection on granian's thread; it is closed when the response ends (granian iterates and
    closes on the thread that called in) instead of staying open for CONN_MAX_AGE."""

    def __init__(self, response):
        self.response = response

    def __iter__(self):
        return iter(self.response)

    def close(self):
        try:
            self.response.close()
        finally:
            connections.close_all()  # this thread's own: the seat's left with the seat


class Seats:
    """`count` seats into Django, given in arrival order, each with its own database connections.

    First in, first out: a thread that finds no free seat queues, and a seat given back goes to
    the longest-waiting thread (with a plain semaphore a newly arriving thread could overtake a
    waiting one, and under load some requests waited many turns: a p99 of seconds where the
    median is milliseconds). While a thread holds a seat, the seat's connections are that
    thread's Django connections (connections[alias]); they go back to the seat with it.
    """

    def __init__(self, count):
        self.lock = threading.Lock()
        self.free = [{} for _ in range(count)]  # a seat: its connections by database alias
        self.queue = deque()  # (lock the waiting thread sleeps on, [the seat it is given])

    def take(self):
        with self.lock:
            if self.free:
                seat = self.free.pop()
            else:
                wake, given = threading.Lock(), []
                wake.acquire()
                self.queue.append((wake, given))
                seat = None
        if seat is None:
            wake.acquire()  # released by give_back, with the seat in `given`
            seat = given[0]
        for alias, connection in seat.items():
            connections[alias] = connection
        return seat

    def give_back(self, seat):
        for connection in connections.all(initialized_only=True):
            if connection.alias not in seat:
                connection.inc_thread_sharing()  # used by one thread at a time, seat by seat
                seat[connection.alias] = connection
            del connections[connection.alias]
        with self.lock:
            if self.queue:
                wake, given = self.queue.popleft()
                given.append(seat)
                wake.release()
            else:
                self.free.append(seat)
