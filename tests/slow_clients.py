"""Slow clients as an attacker (or a phone on a bad network) would be, and probes that time the
site meanwhile. Used by tests/test_slow_clients.py and bench/run.py. Loopback only; every run is
bounded by its `seconds`."""

import socket
import threading
import time
from dataclasses import dataclass, field

from http_clients import Http


class SlowClients:
    """Hold `bodies` connections that send a POST body at `rate` bytes/s and `loris` connections
    whose headers never end. A connection the server closes is opened again (as an attacker
    would), so the count stays up for the whole run; `reopened` counts how often that happened,
    per kind ("body", "loris")."""

    def __init__(self, port, host_header, bodies=0, loris=0, rate=100, path="/api/auth/login/"):
        self.port = port
        self.host_header = host_header
        self.bodies, self.loris, self.rate, self.path = bodies, loris, rate, path
        self.reopened = {"body": 0, "loris": 0}
        self.opened = 0
        self.sockets = []
        self.stopping = threading.Event()
        self.thread = None

    def _open(self, kind):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.setblocking(False)
        if kind == "body":
            # Each from an address of its own, as many clients behind Railway's edge would be:
            # one address may only hold WEB_SLOW_CLIENTS_PER_ADDRESS readers.
            self.opened += 1
            head = (
                f"POST {self.path} HTTP/1.1\r\nHost: {self.host_header}\r\nX-Forwarded-Proto: https\r\n"
                f"X-Real-IP: 198.51.{self.opened // 250 % 256}.{self.opened % 250 + 1}\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
            )
        else:
            head = f"GET / HTTP/1.1\r\nHost: {self.host_header}\r\n"
        sock.send(head.encode())
        return [kind, sock]

    def start(self):
        self.sockets = [self._open("body") for _ in range(self.bodies)]
        self.sockets += [self._open("loris") for _ in range(self.loris)]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        tick = 0.5
        while not self.stopping.wait(tick):
            for entry in self.sockets:
                kind, sock = entry
                payload = b" " * int(self.rate * tick) if kind == "body" else b"X-Slow: 1\r\n"
                try:
                    sock.send(payload)
                    sock.recv(4096)  # anything (an answer, or b"" for closed): start over
                    raise ConnectionError
                except BlockingIOError:
                    pass  # nothing to read: still held
                except OSError:
                    sock.close()
                    try:
                        entry[1] = self._open(kind)[1]
                        self.reopened[kind] += 1
                    except OSError:
                        pass

    def stop(self):
        self.stopping.set()
        if self.thread:
            self.thread.join(timeout=5)
        for _, sock in self.sockets:
            sock.close()


@dataclass
class ProbeResults:
    latencies: list = field(default_factory=list)
    failures: list = field(default_factory=list)

    @property
    def worst(self):
        return max(self.latencies, default=float("inf"))


def probe(base_url, path, headers, seconds, interval=0.25, limit=1.0):
    """GET `path` every `interval` for `seconds`; a probe fails unless it gets 200 within `limit`."""
    http = Http(base_url)
    results = ProbeResults()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            status = http.get(path, headers, timeout=limit)[0]
        except OSError as error:
            status = repr(error)
        took = time.monotonic() - start
        results.latencies.append(took)
        if status != 200 or took > limit:
            results.failures.append((round(took, 3), status))
        time.sleep(max(0.0, interval - took))
    return results


def probe_during(base_url, targets, seconds, **kwargs):
    """Run probe() for each (path, headers) in `targets` at once; return their results in order."""
    results = [None] * len(targets)

    def run(index, path, headers):
        results[index] = probe(base_url, path, headers, seconds, **kwargs)

    threads = [threading.Thread(target=run, args=(i, *t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
