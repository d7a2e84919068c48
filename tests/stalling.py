"""A TCP forwarder on loopback that can stall like a network partition: nothing refused, nothing
reset, bytes simply stop, on the connections already open and on new ones alike."""

import threading

from fakes import TcpForwarder


class StallingForwarder(TcpForwarder):
    """127.0.0.1:port -> target. stall(): every connection, open or new, stops passing bytes;
    neither side is closed. resume(): connections made from then on pass bytes again; the
    stalled ones stay stalled (as after a failover, the old connections never answer) until
    cut()."""

    def __init__(self, target_host, target_port):
        super().__init__(target_host, target_port)
        self.stalled = False
        self.generation = 0  # a connection passes bytes only in the generation it was made in
        self.holding = 0  # connections holding bytes they will never pass on
        self.closing = threading.Event()

    def stall(self):
        self.stalled, self.generation = True, self.generation + 1

    def resume(self):
        self.stalled, self.generation = False, self.generation + 1

    def held(self):
        """How many connections hold bytes that were never passed on."""
        with self.lock:
            return self.holding

    def _pump(self, source, sink):
        generation = self.generation
        try:
            while data := source.recv(65536):
                if self.stalled or generation != self.generation:
                    with self.lock:
                        self.holding += 1
                    self.closing.wait()  # until cut(): never forwarded, never closed
                    return
                sink.sendall(data)
        except OSError:
            pass

    def cut(self):
        self.closing.set()
        super().cut()
