"""Who may be sending a request body to a process at once, and how much of it stays in memory.

plumbing/bodies.py reads each body whole before Django runs. Clients that start a body and then
stall would otherwise hold every reading slot until REQUEST_BODY_TIMEOUT, and every login,
signup and upload would be refused meanwhile. As nginx does, a body must keep arriving (no gap
over REQUEST_BODY_IDLE_TIMEOUT, checked in bodies.py); and here:
- one client address (plumbing.ratelimit.client_ip) holds at most `per_address` slots;
- when every slot is taken, the reader that has waited longest for its next piece gives its
  slot up (answered 408) if that wait is over EVICT_AFTER seconds: an honest slow client sends
  something every few hundred milliseconds, a stalled one does not;
- bodies kept in memory share a byte budget: past it, a body goes straight to a temporary file.
Written here because granian has no body limits and no server library offers these for RSGI.
"""

import time
from collections import Counter

TIMEOUT, STALLED = "timeout", "stalled"  # the whole body was too slow / a gap was too long
BUSY, ADDRESS_BUSY = "busy", "address_busy"  # no slot for anybody / for this client address
# A reader whose last piece is older than this may be stopped to make room for a new request.
EVICT_AFTER = 2.0


class Reader:
    """One body being read: its address, when its last piece came, its memory allowance, and
    the asyncio timeout that bodies.py reschedules after each piece (or fires, to evict it)."""

    __slots__ = ("address", "deadline", "evicted", "last", "memory")

    def __init__(self, address, memory):
        self.address = address
        self.memory = memory
        self.last = time.monotonic()
        self.deadline = None
        self.evicted = False

    def arrived(self):
        self.last = time.monotonic()

    def evict(self):
        self.evicted = True
        if self.deadline is not None:
            self.deadline.reschedule(-1)  # in the past: the read stops now, with TimeoutError


class Readers:
    """The reading slots of one process (one event loop: no locks needed)."""

    def __init__(self, total, per_address, memory, piece_memory):
        self.total = total
        self.per_address = per_address
        self.memory_left = memory
        self.piece_memory = piece_memory  # most a body may hold in memory (then a file)
        self.active = set()
        self.by_address = Counter()

    def take(self, address, length=None):
        """A Reader for a new body (of `length` bytes, if known), or the refusal's name when
        there is no slot for it."""
        if self.by_address[address] >= self.per_address:
            return ADDRESS_BUSY
        if len(self.active) >= self.total:
            stalest = min(self.active, key=lambda reader: reader.last)
            if time.monotonic() - stalest.last < EVICT_AFTER:
                return BUSY
            stalest.evict()
            self.done(stalest)
        wanted = self.piece_memory if length is None else min(length, self.piece_memory)
        reader = Reader(address, min(wanted, max(self.memory_left, 0)))
        self.memory_left -= reader.memory
        self.active.add(reader)
        self.by_address[address] += 1
        return reader

    def done(self, reader):
        """The body is read (or given up): its slot is free. Its memory stays taken until
        release(), once Django has finished with the body."""
        if reader in self.active:
            self.active.discard(reader)
            self.by_address[reader.address] -= 1
            if not self.by_address[reader.address]:
                del self.by_address[reader.address]

    def release(self, reader):
        self.memory_left += reader.memory
        reader.memory = 0
