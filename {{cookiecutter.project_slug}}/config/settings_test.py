"""Settings for the test suite: the production settings, with DEBUG forced off.

Tasks run immediately and e-mail goes to pytest-django's outbox (django.core.mail.outbox).

Tests check what production does, whatever DEBUG says in a local .env. A throwaway key is
used only when none is set. DATABASE_URL is honoured: SQLite by default, PostgreSQL if set.
"""

import os

os.environ["DEBUG"] = "False"
# Tasks run inside the request that enqueues them, unless TASKS_BACKEND says otherwise.
os.environ.setdefault("TASKS_BACKEND", "immediate")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-key-" + "0123456789abcdef" * 4)

from config.settings import *  # noqa: E402, F403
from config.settings import STORAGES  # noqa: E402

# The manifest exists only after collectstatic; tests render pages without running it.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Fast password hashing: tests create users, they do not measure hash strength.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
