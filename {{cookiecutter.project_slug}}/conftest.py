"""Fixtures for every test of the project: tests/ and each app's tests/ (docs/testing.md).

pytest-django's own fixtures (db, client, settings, django_capture_on_commit_callbacks, ...)
are there too: https://pytest-django.readthedocs.io/en/latest/helpers.html
"""

import signal

import pytest


@pytest.fixture(autouse=True)
def backstop_counts_start_empty():
    """The API's backstop throttles count calls in each process's memory (plumbing/ratelimit.py),
    which the rollback after each test does not undo: each test starts from none, as it does
    with the counts in the database."""
    from plumbing.ratelimit import backstop

    backstop.reset()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Every test stores uploads in a temporary folder of its own, never in the project's media/."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


@pytest.fixture
def user(db):
    """A saved user (accounts/factories.py); its password is accounts.factories.PASSWORD."""
    from accounts.factories import UserFactory

    return UserFactory()


@pytest.fixture
def api_client(user):
    """DRF's test client, signed in as `user` with a real API token, as a client would be. Pass
    secure=True on each request: the production settings redirect plain HTTP."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.user = user
    return client


@pytest.fixture
def run_worker(settings, transactional_db):
    """Tasks go to the database queue, as in production, and run_worker() runs the real worker
    (django-tasks-db's db_worker) until nothing is ready. Tests run tasks at once otherwise
    (TASKS_BACKEND=immediate). Real transactions: the worker closes any connection inside one."""
    from django.core.management import call_command

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # db_worker installs its own signal handlers; pytest's are put back afterwards.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}

    def run():
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    yield run
    for sig, handler in saved.items():
        signal.signal(sig, handler)
