"""The backup drill, end to end on PostgreSQL and moto's S3 server on loopback, for both Django
lines: rows in the database, `python manage.py backup` and the scheduled daily backup (scheduler, then worker) to
the bucket, gzipped and named by time with only the last BACKUP_KEEP kept; then the database is
dropped and `python manage.py restore` brings the same rows back, and no login with them."""

import gzip
import json
import shutil
import time

import pytest
from test_files import MotoServer, bucket_env
from test_tasks import Worker

from baked_venvs import venv_env, venv_python
from processes import run
from railway import deploy_copy
from services import POSTGRES_ADMIN_URL, create_database, database_rows, drop_database, require_service, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.worker]
USERS = ["ada", "grace", "linus"]
MAKE_ROWS = f"""
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
for name in {USERS!r}:
    Token.objects.create(user=get_user_model().objects.create_user(name, name + "@example.com"))
"""


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(params=["5.2", "6.1"], ids=lambda version: f"django{version}")
def drill(request, deployed, variant, moto, tmp_path):
    """A checkout of a bake (each Django line: their tasks APIs differ) on a new PostgreSQL
    database, backing up to a new bucket."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    if not shutil.which("pg_dump"):
        unavailable("pg_dump is not installed (Debian: postgresql-client)")
    source, venv = deployed if request.param == "5.2" else variant(django_version=request.param)
    project = deploy_copy(source, tmp_path / "app")
    url, name = create_database(venv)
    bucket = moto.create_bucket()
    env = venv_env(venv, bucket_env(moto, bucket, DATABASE_URL=url, DATABASE_SSL_REQUIRE="false", BACKUP_KEEP="1"))

    def manage(*args):
        return run(["python", "manage.py", *args], project, env, timeout=120)

    def sql(statement):
        return database_rows(venv, url, statement)

    def admin(statement):
        code = "import sys, psycopg; psycopg.connect(sys.argv[1], autocommit=True).execute(sys.argv[2])"
        venv_python(venv, code, POSTGRES_ADMIN_URL, statement.format(name=name))

    def backups():
        listing = moto.client().list_objects_v2(Bucket=bucket, Prefix="backups/")
        return sorted(item["Key"] for item in listing.get("Contents", []))

    manage("migrate", "--noinput", "--verbosity", "0")
    yield manage, sql, admin, backups, (project, env, tmp_path), moto.client(), bucket
    drop_database(venv, name)


def logged(output, message):
    """The JSON log lines whose message starts with `message` (commands also print plain text)."""
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [record for record in records if record["message"].startswith(message)]


def test_backup_to_the_bucket_drop_the_database_restore_the_same_rows(drill):
    manage, sql, admin, backups, (project, env, tmp_path), s3, bucket = drill
    manage("shell", "-c", MAKE_ROWS)
    users = sql("SELECT id, username, email FROM accounts_user ORDER BY id")
    assert [row[1] for row in users] == USERS

    # 1. By hand: `python manage.py backup`.
    result = manage("backup")
    (line,) = logged(result.stdout, "Backup succeeded")
    assert f"Backup written: {line['backup']}" in result.stdout
    first = line["backup"]
    assert first.startswith("default-") and first.endswith(".psql.bin.gz") and line["bytes"] > 0
    assert backups() == [f"backups/{first}", f"backups/{first}.metadata"]

    # 2. The daily schedule, as if a day had passed: the scheduler enqueues it, the worker runs it.
    once = ["python", "manage.py", "scheduler", "--once"]
    run(once, project, env)  # meets plumbing.tasks.backup_database: first run tomorrow at 03:00
    rewind = (
        "UPDATE plumbing_scheduledtask SET due = due - interval '1 day'"
        " WHERE task = 'plumbing.tasks.backup_database' RETURNING task"
    )
    assert sql(rewind) == [["plumbing.tasks.backup_database"]]
    assert logged(run(once, project, env).stdout, "Enqueued plumbing.tasks.backup_database")
    done = (
        "SELECT count(*) FROM django_tasks_database_dbtaskresult"
        " WHERE task_path = 'plumbing.tasks.backup_database' AND status = 'SUCCESSFUL'"
    )
    worker = Worker(project, env, tmp_path / "worker.log")
    worker.start()
    deadline = time.monotonic() + 60
    while sql(done) != [[1]]:
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.2)
    assert worker.stop() == 0
    (line,) = logged(worker.output(), "Backup succeeded")
    second = line["backup"]
    assert second > first  # named by time
    assert backups() == [f"backups/{second}", f"backups/{second}.metadata"]  # BACKUP_KEEP=1
    body = s3.get_object(Bucket=bucket, Key=f"backups/{second}")["Body"].read()
    assert gzip.decompress(body).startswith(b"PGDMP")  # pg_dump's custom format, gzipped

    # 3. Disaster: the database is gone. A new, empty one, then the restore.
    admin("DROP DATABASE {name} WITH (FORCE)")
    admin("CREATE DATABASE {name}")
    result = manage("restore", "--noinput")
    assert f"Restored {second}" in result.stdout
    assert sql("SELECT id, username, email FROM accounts_user ORDER BY id") == users
    assert sql("SELECT count(*) FROM authtoken_token") == [[0]]  # every login revoked
    assert "[ ]" not in manage("showmigrations", "--list").stdout  # the schema came back too
