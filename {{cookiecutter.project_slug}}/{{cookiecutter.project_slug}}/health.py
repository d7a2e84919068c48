"""Checks behind GET /health/: each returns nothing or raises."""

from django.conf import settings
from django.core.cache import caches
from django.db import connection


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache():
    """The Redis cache that holds the rate-limit counters (only when REDIS_URL is set)."""
    caches["ratelimit"].get("health-check")


# name -> check; the name is what /health/ reports.
CHECKS = {"database": check_database}
if settings.REDIS_URL:
    CHECKS["cache"] = check_cache
