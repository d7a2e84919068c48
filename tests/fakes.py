"""Real local stand-ins for the network around the app: a cuttable TCP path to PostgreSQL and
an HTTP server that receives what the Sentry SDK sends."""

import gzip
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli


def shutdown(sock):
    """Shut a socket down both ways; one already closed by its peer is fine."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class TcpForwarder:
    """127.0.0.1:port -> target. cut() drops every connection and refuses new ones, as a
    database outage does; restore() listens again on the same port."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.port = None
        self.listener = None
        self.connections = set()
        self.lock = threading.Lock()

    def start(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port or 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections.update({client, upstream})
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            shutdown(source)
            shutdown(sink)

    def cut(self):
        # shutdown() wakes the thread blocked in accept(); close() alone would leave it listening.
        shutdown(self.listener)
        self.listener.close()
        with self.lock:
            for sock in self.connections:
                shutdown(sock)
                sock.close()
            self.connections.clear()

    def restore(self):
        return self.start()


class SentryIngest:
    """Accepts the SDK's envelope POSTs on /api/<project>/envelope/ and keeps their items."""

    def __init__(self):
        self.items = []
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    body = brotli.decompress(body)
                ingest.items.extend(parse_envelope(body, self.path))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def dsn(self, key, project=1):
        return f"http://{key}@127.0.0.1:{self.port}/{project}"

    def events(self):
        return [item for item in self.items if item["type"] == "event"]

    def wait_for_events(self, count, timeout=15, settle=2):
        """Wait for `count` events, then `settle` seconds more so extra ones would show."""
        deadline = time.monotonic() + timeout
        while len(self.events()) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(settle)
        return self.events()

    def close(self):
        self.server.shutdown()


def parse_envelope(body, path):
    """An envelope is a header line, then items: a header line and a payload (of `length`
    bytes when the item header says so, else up to the next newline)."""

    def line_at(pos):
        end = body.find(b"\n", pos)
        end = len(body) if end == -1 else end
        return body[pos:end], end + 1

    _, pos = line_at(0)
    items = []
    while pos < len(body):
        header_line, pos = line_at(pos)
        if not header_line.strip():
            continue
        header = json.loads(header_line)
        if header.get("length") is not None:
            payload, pos = body[pos : pos + header["length"]], pos + header["length"] + 1
        else:
            payload, pos = line_at(pos)
        try:
            data = json.loads(payload) if payload else None
        except ValueError:
            data = None
        items.append({"type": header.get("type"), "payload": data, "raw": payload, "path": path})
    return items
