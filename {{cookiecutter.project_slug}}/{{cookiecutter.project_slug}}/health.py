"""Checks behind GET /health/: each returns nothing or raises."""

from django.db import connection


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


# name -> check; the name is what /health/ reports.
CHECKS = {
    "database": check_database,
}
