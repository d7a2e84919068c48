"""Checks behind GET /health/: each returns nothing or raises."""

import logging

from django.conf import settings
from django.core.cache import caches
from django.db import connection

from plumbing.media import check_bucket

logger = logging.getLogger(__name__)


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache():
    """The Redis cache that holds the rate-limit counters (only when REDIS_URL is set)."""
    caches["ratelimit"].get("health-check")


def check_storage():
    """The uploads bucket (only when one is configured): a HEAD request, never a listing."""
    check_bucket()


# name -> check; the name is what /health/ reports.
CHECKS = {"database": check_database}
if settings.REDIS_URL:
    CHECKS["cache"] = check_cache
if settings.MEDIA_BUCKET:
    CHECKS["storage"] = check_storage


def run_checks():
    """{name: "ok" | "error"}; a failure is logged with its exception, never returned."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("Health check %s failed", name)
            results[name] = "error"
        else:
            results[name] = "ok"
    return results
