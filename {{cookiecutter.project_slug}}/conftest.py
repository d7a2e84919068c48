"""Fixtures for every test of the project: tests/ and each app's tests/."""

import pytest


@pytest.fixture(autouse=True)
def backstop_counts_start_empty():
    """The API's backstop throttles count calls in each process's memory (plumbing/ratelimit.py),
    which the rollback after each test does not undo: each test starts from none, as it does
    with the counts in the database."""
    from plumbing.ratelimit import backstop

    backstop.reset()
