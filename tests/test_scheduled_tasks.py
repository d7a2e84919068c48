"""Periodic tasks end to end on PostgreSQL: two Procfile `scheduler` processes at once (a deploy
overlapping the old one) enqueue each due run of a per-second task exactly once and the worker
runs each once; runs missed while no scheduler ran are enqueued once when one starts again; an
expired API token gets 401 from the web command and is deleted by its scheduled clean-up.
The controlled-clock cases (daily schedules, days of downtime) are the baked project's own
tests (plumbing/tests/test_schedule.py), which tests/test_production.py runs on PostgreSQL."""

import json
import subprocess
import time
from datetime import datetime

import pytest
from test_tasks import Worker

from baked_venvs import venv_env
from http_clients import api, signup
from railway import deploy_copy, production_env
from servers import Server
from services import create_database, database_rows, drop_database, require_service

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.worker]
EVERY_SECOND = "accounts.tasks.every_second"
CLEAN_UP = "accounts.tasks.delete_expired_tokens"
TOKEN_LIFETIME = 6  # seconds: enough for signup and one call on a busy machine
# Appended to the checkout's accounts/tasks.py (which imports task and cron already).
EVERY_SECOND_TASK = '''

@cron("* * * * * *")
@task()
def every_second():
    return "ran"
'''


@pytest.fixture(scope="module")
def stack(deployed, tmp_path_factory):
    """Web, and the makings of workers and schedulers, of the default bake on a new database."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    source, venv = deployed
    workdir = tmp_path_factory.mktemp("scheduled")
    project = deploy_copy(source, workdir / "app")
    with open(project / "accounts" / "tasks.py", "a") as tasks:
        tasks.write(EVERY_SECOND_TASK)
    url, name = create_database(venv)
    env = venv_env(venv, production_env(
        DATABASE_URL=url, DATABASE_SSL_REQUIRE="false", TOKEN_LIFETIME=str(TOKEN_LIFETIME),
    ))
    web = Server(project, env, workdir / "web.log")
    web.start()  # migrates, as on Railway
    started = []

    def process(kind, label):
        ready = "Starting worker" if kind == "worker" else "Scheduler started"
        started.append(Worker(project, web.env, workdir / f"{label}.log", process=kind, ready=ready))
        return started[-1]

    def sql(statement):
        return database_rows(venv, url, statement)

    try:
        yield web, process, sql
    finally:
        for each in started:
            if each.process and each.process.poll() is None:
                each.stop()
        web.stop()
        drop_database(venv, name)


def enqueued(records, task):
    """(due time, level, record) of each run of `task` a scheduler log says it enqueued."""
    return [
        (datetime.fromisoformat(r["due"]), r["level"], r)
        for r in records
        if r.get("task") == task and r["message"].startswith("Enqueued")
    ]


def drain(worker, sql, task):
    """Run the worker until no run of `task` is waiting; return {status: count} of its runs."""
    runs = f"FROM django_tasks_database_dbtaskresult WHERE task_path = '{task}'"
    worker.start()
    deadline = time.monotonic() + 30
    while sql(f"SELECT count(*) {runs} AND status IN ('READY', 'RUNNING')") != [[0]]:
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.2)
    assert worker.stop() == 0
    return dict(sql(f"SELECT status, count(*) {runs} GROUP BY status"))


def test_two_schedulers_enqueue_each_due_run_once_and_the_worker_runs_it_once(stack):
    web, process, sql = stack
    first, second = process("scheduler", "first"), process("scheduler", "second")
    first.start()
    second.start()
    time.sleep(5)
    assert first.stop() == 0 and second.stop() == 0  # SIGTERM: a clean exit
    runs = sorted(enqueued(first.records() + second.records(), EVERY_SECOND), key=lambda run: run[0])
    dues = [due for due, _, _ in runs]
    assert len(dues) >= 3 and len(set(dues)) == len(dues), dues  # each due second once at most
    # ... and none lost: a due second was enqueued, or counted in the WARNING of the coalesced
    # run after it (a pass delayed over a second by a busy machine).
    for (earlier, _, _), (later, _, record) in zip(runs, runs[1:]):
        assert (later - earlier).total_seconds() == 1 + record.get("missed", 0), record
    statuses = drain(process("worker", "worker"), sql, EVERY_SECOND)
    assert statuses == {"SUCCESSFUL": len(dues)}, statuses


def test_runs_missed_while_no_scheduler_ran_are_enqueued_once(stack):
    web, process, sql = stack
    last_run = f"SELECT due FROM plumbing_scheduledtask WHERE task = '{EVERY_SECOND}'"
    if not sql(last_run):  # run alone: let a scheduler meet the task first
        subprocess.run(["sh", "-c", "python manage.py scheduler --once"], cwd=web.project,
                       env=web.env, check=True, capture_output=True, timeout=60)
    last = datetime.fromisoformat(sql(last_run)[0][0])
    time.sleep(max(0, 3 - (time.time() - last.timestamp())))  # 2 or more due seconds pass
    after = process("scheduler", "after")
    after.start()
    time.sleep(1)
    after.stop()
    runs = sorted(enqueued(after.records(), EVERY_SECOND), key=lambda run: run[0])
    due, level, record = runs[0]
    assert level == "WARNING" and record["missed"] >= 2, record
    assert (due - last).total_seconds() == record["missed"] + 1  # the latest only, not the missed


def test_an_expired_token_gets_401_and_is_deleted_by_its_scheduled_clean_up(stack):
    web, process, sql = stack
    token = signup(web)
    assert api(web, "GET", "/api/auth/me/", token=token)[0] == 200
    time.sleep(TOKEN_LIFETIME + 0.5)
    status, headers, body = api(web, "GET", "/api/auth/me/", token=token)
    assert status == 401 and headers["WWW-Authenticate"] == "Token"
    assert json.loads(body) == {"detail": "Token expired: log in again for a new one."}

    # The clean-up is hourly: make its last run an hour older, as if the hour had passed.
    once = ["sh", "-c", "python manage.py scheduler --once"]
    subprocess.run(once, cwd=web.project, env=web.env, check=True, capture_output=True, timeout=60)
    rewind = "UPDATE plumbing_scheduledtask SET due = due - interval '1 hour' WHERE task = '{}'"
    assert sql(rewind.format(CLEAN_UP) + " RETURNING task") == [[CLEAN_UP]]
    result = subprocess.run(
        once, cwd=web.project, env=web.env, check=True, capture_output=True, text=True, timeout=60
    )
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(enqueued(records, CLEAN_UP)) == 1, result.stdout
    assert drain(process("worker", "cleaner"), sql, CLEAN_UP) == {"SUCCESSFUL": 1}
    assert sql(f"SELECT count(*) FROM authtoken_token WHERE key = '{token}'") == [[0]]
