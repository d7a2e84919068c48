"""Rate limiting: the client's address, per-view limits and DRF's global throttles.

Counts live in the `ratelimit` cache (settings.CACHES): the database counter store by default,
Redis when REDIS_URL is set. Rates: settings.RATELIMIT_RATES. The per-view limits and the login
lockout count through django-ratelimit, exactly, on every request; the API's backstop throttles
count in each process and send their counts in batches (Backstop, below).
"""

import functools
import hashlib
import ipaddress
import logging
import threading
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import Error as DatabaseError
from django.http import JsonResponse
from django_ratelimit.core import get_usage
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, Throttled
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)


def store_errors():
    """What an unreachable counter store raises: the database's errors, and Redis's when the
    store is Redis. Called in `except` clauses, so only once something was raised: without
    REDIS_URL the redis client (several MB per process) is never imported."""
    errors = (DatabaseError, OSError)
    if settings.CACHES[settings.RATELIMIT_USE_CACHE]["BACKEND"].startswith("django_redis."):
        from django_redis.exceptions import ConnectionInterrupted
        from redis.exceptions import RedisError

        errors += (ConnectionInterrupted, RedisError)
    return errors


def client_ip(request):
    """The client's address: settings.CLIENT_IP_HEADER when set (Railway: X-Real-IP), else the
    TCP peer. IPv4-mapped IPv6 (a server on [::]) is unwrapped so each IPv4 client counts alone.
    """
    return address_in(request.META)


def address_in(meta):
    """client_ip() of a request's META (or WSGI environ), for code that runs before Django."""
    candidates = []
    if settings.CLIENT_IP_HEADER:
        meta_key = "HTTP_" + settings.CLIENT_IP_HEADER.upper().replace("-", "_")
        # With a list (X-Forwarded-For), the right-most entry is the one our proxy added.
        # plumbing/environ.py refuses the header sent twice and drops look-alikes ("X_Real_IP").
        candidates.append(meta.get(meta_key, "").split(",")[-1].strip())
    candidates.append(meta.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        mapped = getattr(address, "ipv4_mapped", None)
        return str(mapped or address)
    return "0.0.0.0"  # noqa: S104 - no usable address: all such requests share one bucket


def _usage(request, scope, key, method, increment=True):
    return get_usage(
        request,
        group=f"ratelimit:{scope}",
        key=key,
        rate=settings.RATELIMIT_RATES[scope],
        method=method,
        increment=increment,
    )


def throttled_detail(wait):
    """DRF's own wording and shape for a throttled request."""
    return Throttled(wait=wait).detail


def too_many_requests(wait):
    wait = max(int(wait), 1)
    return JsonResponse(
        {"detail": str(throttled_detail(wait))}, status=429, headers={"Retry-After": str(wait)}
    )


def store_unavailable():
    return JsonResponse(
        {"detail": "Service temporarily unavailable, try again later."},
        status=503,
        headers={"Retry-After": "30"},
    )


def ratelimit(scope, key="ip", method="POST", fail_open=False):
    """Limit a view, function or class-based (DRF or not), to RATELIMIT_RATES[scope].

    key: "ip" (per client address), "user" (per signed-in user) or any django-ratelimit key.
    A limited request gets 429 JSON with Retry-After. If the counter store is unreachable the
    view fails closed (503 JSON) unless fail_open=True (then it runs, and an error is logged).
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            request = next(arg for arg in args if hasattr(arg, "META"))
            try:
                usage = _usage(request, scope, key, method)
            except store_errors():
                logger.exception("Rate-limit store unavailable for %s", scope)
                if not fail_open:
                    return store_unavailable()
                usage = None
            if usage is not None and usage["should_limit"]:
                return too_many_requests(usage["time_left"])
            return view(*args, **kwargs)

        # Read by plumbing.schema.AutoSchema: this view can also answer 429, and 503.
        wrapped.rate_limit = {"scope": scope, "fail_open": fail_open}
        return wrapped

    return decorator


# --- The API's backstop throttles --------------------------------------------------------------
# Every API view counts its calls, per user or per client address: a backstop against a runaway
# client, not a security limit. Writing each call to the shared store would put a database write
# on every API request, so each process counts in memory and sends its counts in batches; the
# limits above (login, signup, passwords, the lockout) stay exact and go through the store on
# every request.
BATCH_SHARE = 20  # a process sends its count at least every limit / BATCH_SHARE calls,
BATCH_MAX = 50  # every BATCH_MAX calls whatever the limit,
SEND_INTERVAL = 1.0  # and at least once a second while a client keeps calling
TALLIES_KEPT = 10_000  # per process; past it, tallies of windows that have ended are dropped


def rate_parts(rate):
    """(count, seconds) of a rate such as "600/m" or "10/15m" (config.env.env_rate's format)."""
    count, period = rate.split("/")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(count), int(period[:-1] or 1) * units[period[-1]]


def window_end(value, period, now):
    """When the fixed window holding `now` ends for `value`: as django-ratelimit cuts them, each
    value's windows offset by crc32(value) % period so that they do not all end together."""
    now = int(now)
    end = now - now % period + zlib.crc32(value.encode()) % period
    return end if end >= now else end + period


@dataclass
class Tally:
    """One client's calls in one window, as this process knows them."""

    end: int  # the window's end (Unix time)
    shared: int = 0  # the store's count at this process's last send
    unsent: int = 0  # counted here since
    sent_at: float = float("-inf")  # time.monotonic() of the last send: a window's first call sends


class Backstop:
    """Counts of calls per (scope, client) in fixed windows, shared by every process and replica
    through the `ratelimit` cache, sent there in batches.

    A call is refused once the count this process knows (the store's total at its last send plus
    what it counted since) is over the limit. A process sends its count every batch of calls
    (limit / BATCH_SHARE, at most BATCH_MAX), every SEND_INTERVAL seconds, and on each call once
    it is within a batch of the limit, so each process holds back less than a batch the others
    cannot see: with N processes in all, a client gets at most about limit + N batches a window.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.tallies = {}

    def hit(self, scope, value, send_now=False):
        """Count one call; (allowed, seconds until the window ends). Raises what the store
        raises when it is unreachable (store_errors())."""
        limit, period = rate_parts(settings.RATELIMIT_RATES[scope])
        wall, now = time.time(), time.monotonic()
        end = window_end(value, period, wall)
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        key = f"backstop:{scope}:{limit}/{period}:{digest}:{end}"
        batch = max(1, min(limit // BATCH_SHARE, BATCH_MAX))
        with self.lock:
            tally = self.tallies.get(key)
            if tally is None:
                tally = self.tallies[key] = Tally(end)
                self.prune(wall)
            tally.unsent += 1
            known = tally.shared + tally.unsent
            send = (
                send_now
                or tally.unsent >= batch
                or now - tally.sent_at >= SEND_INTERVAL
                or limit - batch < known <= limit
            ) and known <= limit + 1  # past the limit, refusing needs no store
            if send:
                count, tally.unsent, tally.sent_at = tally.unsent, 0, now
        if send:
            try:
                total = self.send(key, count, end - wall + 1)
            except BaseException:
                with self.lock:
                    tally.unsent += count  # counted again at the next send
                raise
            with self.lock:
                tally.shared = total
            known = total
        return known <= limit, max(end - wall, 1)

    @staticmethod
    def send(key, count, timeout):
        """Add `count` to the store's counter for `key`; its new total."""
        store = caches[settings.RATELIMIT_USE_CACHE]
        store.add(key, 0, timeout)
        try:
            return store.incr(key, count)
        except ValueError:  # expired between add() and incr()
            store.add(key, count, timeout)
            return count

    def reset(self):
        """Forget every count of this process (tests: a rolled-back store forgets them too)."""
        with self.lock:
            self.tallies.clear()

    def prune(self, now):
        if len(self.tallies) <= TALLIES_KEPT:
            return
        for key in [key for key, tally in self.tallies.items() if tally.end <= now]:
            del self.tallies[key]
        if len(self.tallies) > TALLIES_KEPT:
            self.tallies.clear()


backstop = Backstop()


class BackstopThrottle(BaseThrottle):
    """DRF throttle on the backstop's counts; fails open (logs an error) if the store is
    unreachable."""

    scope = None

    def client(self, request):
        """The value counted, or None when this throttle does not apply to the request."""
        raise NotImplementedError

    def allow_request(self, request, view):
        value = self.client(request)
        if value is None:
            return True
        try:
            allowed, self.time_left = backstop.hit(self.scope, value)
        except store_errors():
            logger.exception("Rate-limit store unavailable; %s throttle skipped", self.scope)
            return True
        return allowed

    def wait(self):
        return self.time_left


class AnonThrottle(BackstopThrottle):
    """Anonymous API clients, per client address: RATELIMIT_RATES["anon"]."""

    scope = "anon"

    def client(self, request):
        return None if request.user.is_authenticated else client_ip(request)


class UserThrottle(BackstopThrottle):
    """Signed-in API users, per user: RATELIMIT_RATES["user"]."""

    scope = "user"

    def client(self, request):
        return str(request.user.pk) if request.user.is_authenticated else None


def exception_handler(exc, context):
    """DRF's exception handler (settings.REST_FRAMEWORK), except that a request refused for
    missing or bad credentials counts against its client address's "anon" limit, and gets 429
    once over it.

    DRF authenticates and checks permissions before it runs throttles, so without this an
    anonymous or bad-token client is never throttled on a protected endpoint: unlimited token
    guessing. Public views run the throttles and never raise these, so nothing counts twice.
    """
    if isinstance(exc, (NotAuthenticated, AuthenticationFailed)):
        try:
            # Sent at once, not batched: these are guesses at credentials.
            allowed, wait = backstop.hit("anon", client_ip(context["request"]), send_now=True)
        except store_errors():
            logger.exception("Rate-limit store unavailable; anon limit skipped")
            allowed = True
        if not allowed:
            exc = Throttled(wait=wait)
    # Imported here: rest_framework.views loads DEFAULT_THROTTLE_CLASSES, which live in this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    return drf_exception_handler(exc, context)
