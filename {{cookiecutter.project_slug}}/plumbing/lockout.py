"""Per-account login lock: failed logins counted per username, from any client address.

A credential-stuffing run spread over many addresses gets past a per-address limit; this stops
it. After RATELIMIT_RATES["login_account"] failures (10/15m) in a window, every login for that
username, API or admin, gets 429 until the window ends, even with the right password.

Failures are counted in the `ratelimit` cache, the atomic store django-ratelimit uses, through
the cache API only, so that a lock can be lifted (django-ratelimit has no public way to reset a
counter). Windows are fixed, as django-ratelimit's are. Each lock is also recorded as a LoginLock
row, which the admin lists and lifts, as does `python manage.py login_locks`. Not django-axes:
it would keep a second store of login failures, at several more queries per failed login.
"""

import functools
import hashlib
import logging
import re
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import caches

from .models import LoginLock
from .ratelimit import store_errors, store_unavailable, too_many_requests

logger = logging.getLogger(__name__)

__all__ = ["account_key", "count_failed_login", "lift", "login_lockout", "status"]

SCOPE = "login_account"
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATE_RE = re.compile(r"(\d+)/(\d*)([smhd])")  # config/env.py env_rate has checked the format


def account_key(username: str) -> str:
    """The name a username is counted under: case variants and stray spaces share one counter."""
    return str(username).strip().casefold()


@dataclass(frozen=True)
class Window:
    failures: int
    limit: int
    seconds_left: int

    @property
    def locked(self) -> bool:
        return self.failures >= self.limit


def rate() -> tuple[int, int]:
    """RATELIMIT_RATES["login_account"] as (failures, period in seconds): "10/15m" -> (10, 900)."""
    count, number, unit = RATE_RE.fullmatch(settings.RATELIMIT_RATES[SCOPE]).groups()
    return int(count), int(number or 1) * PERIODS[unit]


def _window(name: str, period: int) -> tuple[str, int]:
    """The counter's cache key and the end of its fixed window (Unix time). Windows end at an
    offset of their own per name, so that all counters do not reset at the same moment."""
    now = int(time.time())
    end = now - now % period + zlib.crc32(name.encode()) % period
    if end < now:
        end += period
    digest = hashlib.sha256(name.encode()).hexdigest()  # any text a client sent, made key-safe
    return f"login-lock:{digest}:{end}", end


def status(username: str) -> Window:
    """The username's failures in the current window (raises what the store raises)."""
    limit, period = rate()
    key, end = _window(account_key(username), period)
    failures = caches[settings.RATELIMIT_USE_CACHE].get(key, 0)
    return Window(failures, limit, max(end - int(time.time()), 1))


def count_failure(username: str) -> Window:
    limit, period = rate()
    name = account_key(username)
    key, end = _window(name, period)
    cache = caches[settings.RATELIMIT_USE_CACHE]
    cache.add(key, 0, period + 60)
    window = Window(cache.incr(key), limit, max(end - int(time.time()), 1))
    if window.failures == limit:
        until = datetime.fromtimestamp(end, tz=UTC)
        LoginLock.objects.update_or_create(username=name[:150], defaults={"until": until})
        logger.warning(
            "Login locked for a username after %d failed attempts",
            window.failures,
            extra={"username": name[:150], "retry_after": window.seconds_left},
        )
    return window


def lift(username: str) -> bool:
    """Lift the username's lock (and forget its failures); True if it was locked."""
    name = account_key(username)
    was_locked = status(name).locked
    caches[settings.RATELIMIT_USE_CACHE].delete(_window(name, rate()[1])[0])
    LoginLock.objects.filter(username=name[:150]).delete()
    if was_locked:
        logger.warning("Login lock lifted for a username", extra={"username": name[:150]})
    return was_locked


def submitted_username(request) -> str | None:
    """The username of a login attempt: DRF's parsed body, or a form's POST data."""
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    username = data.get("username") if hasattr(data, "get") else None
    return username if isinstance(username, str) and username.strip() else None


def login_lockout(view):
    """Refuse a login for a locked username: 429 with Retry-After, even with the right
    password. Fails closed (503) when the counter store is unreachable."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        request = next(arg for arg in args if hasattr(arg, "META"))
        username = submitted_username(request) if request.method == "POST" else None
        if username is not None:
            try:
                window = status(username)
            except store_errors():
                logger.exception("Rate-limit store unavailable for %s", SCOPE)
                return store_unavailable()
            if window.locked:
                return too_many_requests(window.seconds_left)
        return view(*args, **kwargs)

    return wrapped


def count_failed_login(sender, credentials, request=None, **kwargs):
    """user_login_failed receiver (the API login and the admin login both call authenticate()):
    count the failure; record and log the lock once, when it starts."""
    username = credentials.get("username")
    if not isinstance(username, str) or not username.strip():
        return
    try:
        count_failure(username)
    except store_errors():
        logger.exception("Rate-limit store unavailable; failed login not counted")
