"""A cache backend for rate-limit counters whose increment is atomic in the project's database.

Django's DatabaseCache reads, adds and writes back, so concurrent requests lose counts, and
LocMemCache counts per server process. This backend keeps integers in one table (created by
migrate) and changes them with single SQL statements that PostgreSQL and SQLite both execute
atomically, so a limit holds exactly across workers and across replicas sharing the database.
django-ratelimit calls add() then incr() for each request it counts; a process remembers the
counters it has seen live, so that is one statement (the increment) for all but a window's first
request. It stores integers only: it is the `ratelimit` cache, not a general-purpose one.
"""

import random
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connections, router, transaction

from .models import RateLimitCounter

FOREVER = 253402300799.0  # 9999-12-31: a timeout of None means "never expires"
# Insert a counter, or overwrite the row already there (PostgreSQL 9.5+, SQLite 3.24+).
UPSERT = (
    "INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
    "ON CONFLICT (cache_key) DO UPDATE SET value = excluded.value, expires = excluded.expires"
)

# Counters this process has seen live, with when they expire (a process-wide dict: Django makes
# one cache object per thread). Bounded: past SEEN_LIMIT entries, the expired ones are dropped.
_seen_live = {}
SEEN_LIMIT = 10_000


def _remember(key, expires, now):
    if len(_seen_live) >= SEEN_LIMIT:
        for stale in [k for k, until in list(_seen_live.items()) if until <= now]:
            _seen_live.pop(stale, None)
        if len(_seen_live) >= SEEN_LIMIT:
            _seen_live.clear()
    _seen_live[key] = expires


class AtomicCounterCache(BaseCache):
    def __init__(self, location, params):
        super().__init__(params)
        options = params.get("OPTIONS", {})
        # Share of add() calls that reach the database (about one per counter created) that also
        # delete expired rows; keeps the table small.
        self.cull_probability = float(options.get("CULL_PROBABILITY", 0.01))

    # --- SQL helpers -------------------------------------------------------------------------
    @staticmethod
    def _db():
        # Every statement, reads included, goes where counters are written: on a lagging replica
        # a counter could look expired, or a login lockout's count too low.
        return router.db_for_write(RateLimitCounter)

    def _execute(self, sql, params):
        alias = self._db()
        connection = connections[alias]
        table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(sql.format(table=table), params)
            return cursor.rowcount, cursor.fetchone() if cursor.description else None

    def _expiry(self, timeout):
        expires = self.get_backend_timeout(timeout)
        return FOREVER if expires is None else expires

    @staticmethod
    def _check_value(value):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("AtomicCounterCache stores integers (rate-limit counters) only.")

    # --- Cache API ---------------------------------------------------------------------------
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """Create the counter unless a live one exists; True if this call created it. A counter
        this process has seen live, and deleted since by another, still answers False until it
        would have expired: incr() then counts it from the start again."""
        key = self.make_and_validate_key(key, version=version)
        self._check_value(value)
        now = time.time()
        # django-ratelimit add()s before every incr(), and all but a window's first request find
        # the counter live: once this process has seen it live, it says so without a statement.
        if _seen_live.get(key, 0) > now:
            return False
        if random.random() < self.cull_probability:  # noqa: S311 - not security sensitive
            self._execute("DELETE FROM {table} WHERE expires <= %s", [now])
        # A read says "live" without SQLite's write lock or a PostgreSQL row lock; the statement
        # in _create decides races.
        _, live = self._execute(
            "SELECT expires FROM {table} WHERE cache_key = %s AND expires > %s", [key, now]
        )
        if live:
            _remember(key, live[0], now)
            return False
        return self._create(key, value, self._expiry(timeout), now)

    def incr(self, key, delta=1, version=None):
        """Add delta to a live counter and return the new value; ValueError if there is none."""
        key = self.make_and_validate_key(key, version=version)
        row = self._increment(key, delta)
        expires = _seen_live.pop(key, None) if row is None else None
        now = time.time()
        if expires is not None and expires > now:
            # add() answered "live" from what this process had seen, but the row has gone since
            # (delete(), clear()): count from here, as that add() would have.
            if self._create(key, delta, expires, now):
                return delta
            row = self._increment(key, delta)  # another request re-created it first
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return row[0]

    def _create(self, key, value, expires, now):
        """Insert the counter, or revive an expired row, in one statement; a live row is left
        alone (rowcount 0). True if this call created it."""
        rowcount, _ = self._execute(
            UPSERT + " WHERE {table}.expires <= %s", [key, value, expires, now]
        )
        if rowcount == 1:
            _remember(key, expires, now)
        return rowcount == 1

    def _increment(self, key, delta):
        """The counter's new value as a one-item row, or None if there is no live counter."""
        alias = self._db()
        update = "UPDATE {table} SET value = value + %s WHERE cache_key = %s AND expires > %s"
        params = [delta, key, time.time()]
        if connections[alias].features.can_return_columns_from_insert:  # PostgreSQL, SQLite 3.35+
            # One statement, atomic by itself: this runs on every throttled API request.
            return self._execute(update + " RETURNING value", params)[1]
        # The UPDATE locks the row until commit, so the SELECT reads this call's own result.
        with transaction.atomic(using=alias):
            rowcount, row = self._execute(update, params)
            if rowcount == 1:
                _, row = self._execute("SELECT value FROM {table} WHERE cache_key = %s", [key])
        return row

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        _, row = self._execute(
            "SELECT value FROM {table} WHERE cache_key = %s AND expires > %s",
            [key, time.time()],
        )
        return default if row is None else row[0]

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        self._check_value(value)
        _seen_live.pop(key, None)
        self._execute(UPSERT, [key, value, self._expiry(timeout)])

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        _seen_live.pop(key, None)
        rowcount, _ = self._execute(
            "UPDATE {table} SET expires = %s WHERE cache_key = %s AND expires > %s",
            [self._expiry(timeout), key, time.time()],
        )
        return rowcount == 1

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        _seen_live.pop(key, None)
        rowcount, _ = self._execute("DELETE FROM {table} WHERE cache_key = %s", [key])
        return rowcount == 1

    def has_key(self, key, version=None):
        return self.get(key, version=version) is not None

    def clear(self):
        _seen_live.clear()
        self._execute("DELETE FROM {table}", [])
