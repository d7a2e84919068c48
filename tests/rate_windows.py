"""Timing requests against django-ratelimit's fixed windows: fresh client addresses, waiting
for a fresh window, and requests released at the same moment."""

import secrets
import threading
import time
import zlib


def window_left(value, period):
    """Seconds left in django-ratelimit's fixed window for `value` (its _get_window arithmetic:
    windows end at a per-value offset, crc32(value) % period)."""
    now = int(time.time())
    end = now - (now % period) + (zlib.crc32(value.encode()) % period)
    return end - now if end >= now else end + period - now


def fresh_client_ip(period=60, margin=20):
    """A random client address whose window has `margin` seconds left, so a test's requests
    all land in one window."""
    while True:
        ip = f"203.0.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        if window_left(ip, period) >= margin:
            return ip


def wait_for_fresh_window(value, period=60, margin=20):
    """For a fixed value (a TCP peer address): sleep until its window has `margin` seconds left."""
    left = window_left(value, period)
    if left < margin:
        time.sleep(left + 1)


def concurrently(function, count):
    """Call function(index) from `count` threads released at the same moment; return the results."""
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(count)

    def call(index):
        barrier.wait()
        return function(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))
