"""The local services (PostgreSQL and Redis on 127.0.0.1) and what a test does when something
it needs is missing: skip on a developer's machine, fail in CI."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from baked_venvs import venv_python
from processes import free_port

IN_CI = bool(os.environ.get("CI"))
POSTGRES_ADMIN_URL = os.environ.get("TEMPLATE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def reachable(host, port):
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def unavailable(message):
    """Something a test needs is missing: skip on a developer's machine, fail in CI (where
    .ci/run provides everything, so a skip would hide a test that never ran)."""
    if IN_CI:
        pytest.fail(message + " (CI must run this test; .ci/run provides it)")
    pytest.skip(message)


def require_service(name, host, port):
    if not reachable(host, port):
        unavailable(f"{name} is not reachable on {host}:{port}")


def create_database(venv):
    """A new, empty PostgreSQL database; returns its URL."""
    name = f"tpl_{secrets.token_hex(6)}"
    venv_python(
        venv,
        "import sys, psycopg; psycopg.connect(sys.argv[1], autocommit=True).execute('CREATE DATABASE ' + sys.argv[2])",
        POSTGRES_ADMIN_URL,
        name,
    )
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, name


def drop_database(venv, name):
    venv_python(
        venv,
        "import sys, psycopg; psycopg.connect(sys.argv[1], autocommit=True)"
        ".execute('DROP DATABASE IF EXISTS ' + sys.argv[2] + ' WITH (FORCE)')",
        POSTGRES_ADMIN_URL,
        name,
    )


def database_rows(venv, url, statement):
    """The rows one SQL statement returns (as JSON would give them), run and committed on its own."""
    code = (
        "import json, sys, psycopg\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as db:\n"
        "    print(json.dumps(db.execute(sys.argv[2]).fetchall(), default=str))"
    )
    return json.loads(venv_python(venv, code, url, statement))


def flush_redis_db(venv, url):
    venv_python(venv, "import sys, redis; redis.Redis.from_url(sys.argv[1]).flushdb()", url)


class RedisProcess:
    """A private redis-server on a free port, so a test can stop it without touching the shared one."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = Path(workdir)
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        binary = shutil.which("redis-server")
        if not binary:
            unavailable("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not reachable("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise AssertionError("private redis-server did not start")
            time.sleep(0.1)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
