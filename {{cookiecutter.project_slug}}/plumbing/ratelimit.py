"""Rate limiting: the client's address, per-view limits and DRF's global throttles.

All counting goes through django-ratelimit into the `ratelimit` cache (settings.CACHES): the
database counter store by default, Redis when REDIS_URL is set. Rates: settings.RATELIMIT_RATES.
"""

import functools
import ipaddress
import logging

from django.conf import settings
from django.db import Error as DatabaseError
from django.http import JsonResponse
from django_ratelimit import ALL
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
    candidates = []
    if settings.CLIENT_IP_HEADER:
        meta_key = "HTTP_" + settings.CLIENT_IP_HEADER.upper().replace("-", "_")
        # With a list (X-Forwarded-For), the right-most entry is the one our proxy added.
        candidates.append(request.META.get(meta_key, "").split(",")[-1].strip())
    candidates.append(request.META.get("REMOTE_ADDR", ""))
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


class _Throttle(BaseThrottle):
    """DRF throttle on the same atomic store; fails open (logs an error) if it is unreachable."""

    scope = None
    key = None

    def applies(self, request):
        raise NotImplementedError

    def allow_request(self, request, view):
        if not self.applies(request):
            return True
        try:
            usage = _usage(request, self.scope, self.key, method=ALL)
        except store_errors():
            logger.exception("Rate-limit store unavailable; %s throttle skipped", self.scope)
            return True
        if usage is None or not usage["should_limit"]:
            return True
        self.time_left = usage["time_left"]
        return False

    def wait(self):
        return max(self.time_left, 1)


class AnonThrottle(_Throttle):
    """Anonymous API clients, per client address: RATELIMIT_RATES["anon"]."""

    scope = "anon"
    key = "ip"

    def applies(self, request):
        return not request.user.is_authenticated


class UserThrottle(_Throttle):
    """Signed-in API users, per user: RATELIMIT_RATES["user"]."""

    scope = "user"
    key = "user"

    def applies(self, request):
        return request.user.is_authenticated


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
            usage = _usage(context["request"], "anon", "ip", method=ALL)
        except store_errors():
            logger.exception("Rate-limit store unavailable; anon limit skipped")
            usage = None
        if usage is not None and usage["should_limit"]:
            exc = Throttled(wait=max(usage["time_left"], 1))
    # Imported here: rest_framework.views loads DEFAULT_THROTTLE_CLASSES, which live in this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    return drf_exception_handler(exc, context)
