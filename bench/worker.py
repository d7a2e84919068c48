"""Throughput of the baked project's database task queue (django-tasks-db's db_worker).

    python bench/worker.py           # about 1 minute; updates the worker section of docs/benchmarks.md

For SQLite and PostgreSQL (127.0.0.1:5432): enqueues N no-op tasks from a Django shell (the
enqueue rate a request handler sees), then runs 1 and then 2 `db_worker --batch` processes
with production logging (two JSON lines per task) until the queue is empty. Tasks/s is N over
the span between the first task's start and the last task's finish, read from the result
table, so interpreter start-up is not counted. bench/run.py calls measure() too.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from baked_venvs import VenvCache, venv_env  # noqa: E402
from processes import run  # noqa: E402
from railway import deploy_copy, production_env  # noqa: E402
from services import create_database, drop_database, reachable  # noqa: E402

SECTION = "## Background worker (database queue)"
TASKS_MODULE = '''
try:
    from django.tasks import task
except ImportError:
    from django_tasks import task


@task()
def noop(number):
    return number
'''
ENQUEUE = """
import time
from bench_tasks import noop
start = time.perf_counter()
for number in range({count}):
    noop.enqueue(number)
print(time.perf_counter() - start)
"""
SPAN = """
import json
from django.db.models import Max, Min
from django_tasks_db.models import DBTaskResult
done = DBTaskResult.objects.filter(status="SUCCESSFUL")
span = done.aggregate(start=Min("started_at"), end=Max("finished_at"))
print(json.dumps({"done": done.count(), "left": DBTaskResult.objects.exclude(status="SUCCESSFUL").count(),
                  "seconds": (span["end"] - span["start"]).total_seconds()}))
DBTaskResult.objects.all().delete()
"""


def shell(project, env, code):
    return run(["python", "manage.py", "shell", "-c", code], project, env).stdout.strip().splitlines()[-1]


def measure(source, venv, workdir, database, count=1000, processes=(1, 2)):
    """{"enqueue_per_s": ..., "workers": {n: tasks/s}} for one database ("sqlite" or "postgres")."""
    project = deploy_copy(source, Path(workdir) / f"worker-{database}")
    (project / "bench_tasks.py").write_text(TASKS_MODULE)
    extra, name = {}, None
    if database == "postgres":
        url, name = create_database(venv)
        extra = {"DATABASE_URL": url, "DATABASE_SSL_REQUIRE": "false"}
    env = venv_env(venv, production_env(TASKS_BACKEND="database", **extra))
    try:
        run(["python", "manage.py", "migrate", "--noinput", "--verbosity", "0"], project, env)
        result = {"count": count, "workers": {}}
        for workers in processes:
            seconds = float(shell(project, env, ENQUEUE.format(count=count)))
            result.setdefault("enqueue_per_s", count / seconds)
            logs = [open(project / f"worker{i}.log", "wb") for i in range(workers)]
            started = [
                subprocess.Popen(
                    ["python", "manage.py", "db_worker", "--batch", "--no-startup-delay",
                     "--queue-name", "*", "--no-reload"],
                    cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
                )
                for log in logs
            ]
            for process in started:
                process.wait(timeout=600)
            for log in logs:
                log.close()
            span = json.loads(shell(project, env, SPAN))
            assert span["done"] == count and span["left"] == 0, span
            result["workers"][workers] = count / span["seconds"]
        return result
    finally:
        if name:
            drop_database(venv, name)


def measure_all(source, venv, workdir, count=1000):
    results = {"sqlite": measure(source, venv, workdir, "sqlite", count)}
    if reachable("127.0.0.1", 5432):
        results["postgres"] = measure(source, venv, workdir, "postgres", count)
    return results


def markdown(results, when, machine):
    lines = [
        SECTION,
        "",
        f"Run {when} on {machine}: `bench/worker.py`. The default bake, production settings and",
        "logging; no-op tasks (the queue's own cost: claim, run, record, two JSON log lines).",
        "Tasks/s is counted from the first task's start to the last task's finish.",
        "",
        "| Database | Enqueue/s (one process) | 1 worker: tasks/s | 2 workers: tasks/s |",
        "| --- | --- | --- | --- |",
    ]
    for database, result in results.items():
        workers = result["workers"]
        lines.append(
            f"| {database} | {result['enqueue_per_s']:.0f} | {workers[1]:.0f} | {workers[2]:.0f} |"
        )
    lines += [
        "",
        "Each task is three commits (enqueue; claim; result): on PostgreSQL each waits for its",
        "WAL flush to disk, which on a shared, loaded machine dominates; SQLite (WAL,",
        "synchronous=NORMAL) does not flush per commit, but its single writer lock makes a second",
        "worker slower, not faster. Real tasks cost what their work costs (an SMTP conversation",
        "is 50-500 ms), so one worker sends a few mails per second and the queue's overhead only",
        "limits very short tasks. The baked README says when to move to a broker.",
        "",
    ]
    return "\n".join(lines)


def splice(path, section):
    """Replace the worker section of docs/benchmarks.md (or add it before the notes)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if SECTION in text:
        start = text.index(SECTION)
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + (text[end + 1:] if end != -1 else "")
    else:
        marker = "\n## What was measured and changed"
        at = text.find(marker)
        text = text + "\n" + section if at == -1 else text[: at + 1] + section + "\n" + text[at + 1:]
    path.write_text(text)


def main():
    import datetime
    import platform

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    from cookiecutter.main import cookiecutter

    workdir = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    source = Path(cookiecutter(str(ROOT), no_input=True, output_dir=str(workdir / "bake")))
    venv = VenvCache(os.environ.get("TEMPLATE_VENV_DIR") or workdir / "venvs").for_project(source)
    started = time.monotonic()
    results = measure_all(source, venv, workdir, args.tasks)
    print(json.dumps(results, indent=2), f"\n{time.monotonic() - started:.0f} s")
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    splice(Path(args.output), markdown(results, when, machine))
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
