"""Performance budget: what the hardened stack costs against bare Django and against
cookiecutter-django's production stack, on this machine.

    python bench/run.py --cookiecutter-django /path/to/cookiecutter-django   # PostgreSQL; docs/benchmarks.md
    python bench/run.py --database sqlite        # SQLite: docs/benchmarks-sqlite.md

Times a default bake; bakes, installs and starts the Procfile web command (granian, production
variables, a new PostgreSQL database on 127.0.0.1:5432, or SQLite) and times start -> first 200
on /health/; starts a bare `django-admin startproject` + DRF under gunicorn sync with
cookiecutter-django's database settings, and cookiecutter-django itself baked from a local copy
of its source (bench/cookiecutter_django.py says how to get it; CCD_SOURCE works too; without
it that side is skipped and its budgets are not measured), each with the same process count;
drives wrk at each one's token-authenticated "me" endpoint, at /health/ (ours, bare) and a
hashed static file (ours) at 8 and at 100 connections, all servers loaded in turn, round after
round; holds 50 slow-body and 50 slowloris connections against ours and bare while probing
/health/ and /api/auth/me/; reports medians, per-round ratios, worker memory, SIGTERM -> exit
and whether each budget holds; then measures the background worker's throughput
(bench/worker.py). wrk runs on CPU 0 and the servers on CPU 1 (taskset; --no-pin to let them
share every core). Needs wrk (Debian package `wrk`).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the template tests' bake/venv/server machinery
sys.path.insert(0, str(ROOT / "bench"))

import cookiecutter_django as ccd  # noqa: E402
import worker as worker_bench  # noqa: E402
from baked_venvs import VenvCache, venv_env  # noqa: E402
from baking import bake_template  # noqa: E402
from bare_project import make_bare_project  # noqa: E402
from http_clients import Http  # noqa: E402
from processes import free_port, run  # noqa: E402
from railway import PROBE, RAILWAY_DOMAIN, deploy_copy, production_env  # noqa: E402
from servers import Server  # noqa: E402
from services import create_database, drop_database, reachable  # noqa: E402
from slow_clients import SlowClients, probe_during  # noqa: E402

WORKERS = 2
COMMAND_TAIL = {"sqlite": " --database sqlite", "postgres": ""}
OUTPUT = {"sqlite": "benchmarks-sqlite.md", "postgres": "benchmarks.md"}
DATABASE_TEXT = {
    "sqlite": "SQLite, a file each.",
    "postgres": "PostgreSQL 127.0.0.1:5432 on the same machine, a new database each; every side "
                "keeps its connections (ours 600 s with Django's health checks; bare and "
                "cookiecutter-django 60 s, without, and `ATOMIC_REQUESTS`).",
}
CONNECTIONS = (8, 100)
BARE_SERVER = "gunicorn==27.0.1"  # the baseline's server: what the template shipped before granian
# (name, limit, True when the measured value must stay at or under the limit)
BUDGETS = {
    "bake_s": (0.5, True),
    "start_to_healthy_s": (5.0, True),
    "health_rps_ratio": (1.0, False),  # at 8 connections
    # The authenticated GET (each side's token "me" endpoint), requests/s and tails:
    "me_rps_ccd_8": (1.1, False),  # against cookiecutter-django, 8 connections
    "me_rps_ccd_100": (1.1, False),
    "me_rps_bare_8": (0.95, False),  # against bare, 8 connections
    "me_rps_bare_100": (0.95, False),
    "me_p99_8_ratio": (1.25, True),  # against bare
    "me_p99_100_ms": (500.0, True),
    "me_p99_100_ratio": (1.5, True),  # against bare
    "slow_failed_probes": (0, True),
    "memory_ratio": (1.25, True),  # the whole server's PSS against bare's (server_memory_mb)
    "sigterm_to_exit_s": (30.0, True),
}
PINNED = {"wrk": "0", "servers": "1"}  # --pin: taskset CPU lists (2 cores: one each)


def bake(output):
    from cookiecutter.main import cookiecutter

    # From a copy as a user's clone has it: cookiecutter copies the whole template directory for
    # every bake (it has a pre-prompt hook), and this checkout's .venv would be copied too.
    return Path(cookiecutter(str(bake_template()), no_input=True, output_dir=str(output)))


def time_bakes(workdir, count):
    times = []
    for index in range(count):
        start = time.perf_counter()
        bake(workdir / f"bake{index}")
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def pinned(command, who, pin):
    """command prefixed with taskset when --pin is on."""
    return ["taskset", "-c", PINNED[who], *command] if pin else command


def cpu_seconds(pids):
    """{pid: CPU time (user + system, every thread) used so far} for those of `pids` alive."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone since it was listed
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return used


def cpu_since(before, pids):
    """CPU time the processes `pids` used since `before` (cpu_seconds earlier): a process
    started since counts whole; one that ended since is missed (a database connection that
    CONN_MAX_AGE replaced during the run)."""
    return sum(now - before.get(pid, 0) for pid, now in cpu_seconds(pids).items())


def server_pids(master_pid):
    """The server's master and its worker processes."""
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    return [str(master_pid), *children]


def database_pids(name):
    """PostgreSQL's backend processes serving database `name` (their titles name it)."""
    if not name:
        return []
    found = subprocess.run(["pgrep", "-f", f"^postgres: .* {name} "], capture_output=True, text=True)
    return found.stdout.split()


def wrk(url, headers, seconds, connections, pin=False, side=None):
    """One wrk run; with `side` ((server master pid, database name)), also the CPU time the
    server's processes and its PostgreSQL backends spent per request."""
    args = pinned(["wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{seconds}s"], "wrk", pin)
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if side:
        before = cpu_seconds(server_pids(side[0])), cpu_seconds(database_pids(side[1]))
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    cpu = {}
    if side:
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        cpu = {"cpu_ms": cpu_since(before[0], server_pids(side[0])) / max(requests, 1) * 1000,
               "db_cpu_ms": cpu_since(before[1], database_pids(side[1])) / max(requests, 1) * 1000}
    latency = {}
    for pct in ("50", "99"):
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", out, re.M).groups()
        latency[pct] = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": latency["50"], "p99_ms": latency["99"],
            "errors": int(non2xx.group(1)) if non2xx else 0, **cpu}


def process_memory_mb(pid):
    """One process's memory from /proc, in MB: VmRSS with its anonymous and file-backed parts,
    PSS and USS (Private_Clean + Private_Dirty)."""
    status = Path(f"/proc/{pid}/status").read_text()
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()

    def mb(name, text):
        return int(re.search(rf"^{name}:\s+(\d+) kB", text, re.M).group(1)) / 1024

    return {"rss": mb("VmRSS", status), "anon": mb("RssAnon", status), "file": mb("RssFile", status),
            "pss": mb("Pss", rollup), "uss": mb("Private_Clean", rollup) + mb("Private_Dirty", rollup)}


def server_memory_mb(master_pid):
    """Memory of one server: per worker process (mean of its workers) VmRSS, PSS (shared pages
    split between the processes sharing them) and USS (pages only that process has, what one more
    worker costs); and `total_pss`, the PSS of the master and every worker added up: each page the
    server holds counted once, what the container pays for it (the budget's metric). VmRSS counts
    a shared page in every process mapping it, so a server that imports Django once before it
    forks (ours) is charged for it in each worker, and one that imports it in each worker
    (gunicorn without `--preload`) is not charged for its copies."""
    master, *workers = (process_memory_mb(pid) for pid in server_pids(master_pid))
    means = {key: statistics.mean(worker[key] for worker in workers) if workers else float("nan")
             for key in ("rss", "pss", "uss")}
    return {**means, "total_pss": master["pss"] + sum(worker["pss"] for worker in workers)}


def start_ours(project, venv, logdir, database_url=None, pin=False):
    database = {"DATABASE_URL": database_url, "DATABASE_SSL_REQUIRE": "false"} if database_url else {}
    env = venv_env(venv, production_env(
        WEB_CONCURRENCY=WORKERS,
        ALLOWED_HOSTS=f"{RAILWAY_DOMAIN},127.0.0.1",
        THROTTLE_USER="100000000/m",  # counted as usual (a write per request), never limiting
        THROTTLE_ANON="100000000/m",
        **database,
    ))
    if pin:  # the Procfile's server, on the servers' cores
        procfile = project / "Procfile"
        procfile.write_text(procfile.read_text().replace(
            "exec python server.py", f"exec taskset -c {PINNED['servers']} python server.py"))
    server = Server(project, env, logdir / "ours.log").build()  # Railway's build: not timed
    started = time.perf_counter()
    server.start()
    return server, time.perf_counter() - started


def token_for(project, env, python="python"):
    code = (
        "import django; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "from rest_framework.authtoken.models import Token\n"
        "user, _ = get_user_model().objects.get_or_create(username='bench', email='b@example.com')\n"
        "print(Token.objects.get_or_create(user=user)[0].key)"
    )
    return run([python, "-c", code], project, env).stdout.strip()


def production_venv(project, venvs):
    """What Railway installs: requirements.txt only (the tests' venvs add requirements-dev.txt,
    whose packages DRF imports when they are present: about 10 MB more a process), compiled to
    bytecode as pip compiles it at install (uv does not: the first start would compile Django
    and count it in start -> healthy)."""
    files = {"requirements.txt": (project / "requirements.txt").read_text()}
    venv = venvs.with_requirements(project, files, "requirements.txt")
    subprocess.run([str(venv / "bin" / "python"), "-m", "compileall", "-q", "-j", "0",
                    str(next((venv / "lib").glob("python3*/site-packages")))], check=True)
    return venv


def bare_venv(project, venvs):
    """The baked project's Python, Django, DRF and psycopg pins plus gunicorn, for the baseline.
    psycopg because a project deployed on Railway's PostgreSQL has it, and DRF imports it whenever
    it is installed, whatever the database (about 11 MB a process): that is the driver's cost,
    not the template's."""
    wanted = {"django", "asgiref", "sqlparse", "djangorestframework", "psycopg[binary]", "psycopg-binary"}
    pins = [line for line in (project / "requirements.txt").read_text().splitlines()
            if line.split("==")[0].lower() in wanted]
    files = {"requirements.txt": "\n".join([*pins, BARE_SERVER]) + "\n"}
    return venvs.with_requirements(project, files, "requirements.txt")


def start_bare(venv, workdir, logdir, database_url=None, pin=False):
    project = make_bare_project(venv / "bin" / "django-admin", workdir)
    database = {"DATABASE_URL": database_url} if database_url else {}
    env = venv_env(venv, production_env(DJANGO_SETTINGS_MODULE="bare.settings", **database))
    run(["python", "manage.py", "migrate", "-v", "0"], project, env)
    port = free_port()
    log = (logdir / "bare.log").open("wb")
    process = subprocess.Popen(
        pinned(["gunicorn", "bare.wsgi", "--bind", f"[::]:{port}", "--workers", str(WORKERS),
                "--no-control-socket", "--access-logfile", "-"], "servers", pin),
        cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    http = Http(f"http://127.0.0.1:{port}")
    for _ in range(300):
        try:
            if http.get("/health/")[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    return process, port, token_for(project, env)


def slow_client_run(port, token, seconds, https):
    """50 slow bodies + 50 slowloris for `seconds` while probing /health/ and /api/auth/me/."""
    attack = SlowClients(port, RAILWAY_DOMAIN, bodies=50, loris=50).start()
    try:
        time.sleep(1)
        results = probe_during(
            f"http://127.0.0.1:{port}",
            [("/health/", PROBE), ("/api/auth/me/", {**https, "Authorization": f"Token {token}"})],
            seconds,
        )
    finally:
        attack.stop()
    return {
        "probes": sum(len(r.latencies) for r in results),
        "failed": sum(len(r.failures) for r in results),
        "worst_s": max(r.worst for r in results),
    }


def sigterm_to_exit(process):
    started = time.perf_counter()
    process.terminate()
    process.wait(timeout=60)
    return time.perf_counter() - started


def versions(venv, bare, ccd_venv=None):
    def run_python(python, code):
        return subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.split()

    out = run_python(venv / "bin" / "python", "import django, rest_framework, granian; "
                     "print(django.__version__, rest_framework.__version__, granian.__version__)")
    python = subprocess.run([str(venv / "bin" / "python"), "--version"], capture_output=True, text=True).stdout.strip()
    gunicorn = run_python(bare / "bin" / "python", "import gunicorn; print(gunicorn.__version__)")[0]
    found = {"python": python, "django": out[0], "drf": out[1], "granian": out[2], "gunicorn": gunicorn}
    if ccd_venv:
        found["ccd"] = run_python(ccd_venv / "bin" / "python", "import django, rest_framework, gunicorn; "
                                  "print(django.__version__, rest_framework.__version__, gunicorn.__version__)")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--slow-seconds", type=int, default=20, help="duration of each slow-client run")
    parser.add_argument("--bakes", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5, help="load rounds; medians are reported")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres",
                        help="postgres: a new database on 127.0.0.1:5432 for each server")
    parser.add_argument("--cookiecutter-django", metavar="PATH",
                        help="a cookiecutter-django checkout (or CCD_SOURCE): its side is skipped without one")
    # Pinned runs were the steadier here (docs/benchmarks-notes.md, "Pinning").
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                        help="wrk on CPU 0, the servers on CPU 1 (taskset); --no-pin to share all")
    parser.add_argument("--output", help="default: docs/benchmarks.md (postgres), "
                        "docs/benchmarks-sqlite.md (sqlite)")
    args = parser.parse_args()
    args.output = args.output or str(ROOT / "docs" / OUTPUT[args.database])
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    ccd_source = ccd.source_from(args.cookiecutter_django)

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    logdir = workdir / "logs"
    logdir.mkdir()
    results = {}
    print("timing bakes ...", flush=True)
    results["bake_s"], bake_times = time_bakes(workdir / "bakes", args.bakes)

    project = bake(workdir / "ours")
    venvs = VenvCache(os.environ.get("TEMPLATE_VENV_DIR") or workdir / "venvs")
    venv = production_venv(project, venvs)
    deployed = deploy_copy(project, workdir / "deployed")
    sides = ["ours", "bare", *(["ccd"] if ccd_source else [])]
    databases = []
    if args.database == "postgres":
        if not reachable("127.0.0.1", 5432):
            sys.exit("--database postgres: nothing answers on 127.0.0.1:5432")
        databases = [create_database(venv) for _ in sides]
        urls = dict(zip(sides, (url for url, _ in databases)))
        database_names = dict(zip(sides, (name for _, name in databases)))
    else:
        urls = {"ours": None, "bare": None, "ccd": f"sqlite:///{workdir / 'ccd.sqlite3'}"}
        database_names = {}
    print("starting the Procfile web command ...", flush=True)
    server, results["start_to_healthy_s"] = start_ours(deployed, venv, logdir, urls["ours"], args.pin)
    our_token = token_for(deployed, {**server.env, "DJANGO_SETTINGS_MODULE": "config.settings"})
    _, page_headers, page = server.http.get("/admin/login/", {"Host": RAILWAY_DOMAIN, "X-Forwarded-Proto": "https"})
    static_path = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page).group(1).decode()

    https = {"Host": RAILWAY_DOMAIN, "X-Forwarded-Proto": "https"}
    print("starting bare Django ...", flush=True)
    bare_python = bare_venv(project, venvs)
    process, port, bare_token = start_bare(bare_python, workdir, logdir, urls["bare"], args.pin)
    # Every server up, loaded in turn (ours, bare, cookiecutter-django, ours...) so that drift on
    # a shared machine hits them alike; ratios are taken within each round.
    targets = {
        ("ours", "health"): (f"http://127.0.0.1:{server.port}/health/", https),
        ("bare", "health"): (f"http://127.0.0.1:{port}/health/", {}),
        ("ours", "me"): (f"http://127.0.0.1:{server.port}/api/auth/me/", {**https, "Authorization": f"Token {our_token}"}),
        ("bare", "me"): (f"http://127.0.0.1:{port}/api/auth/me/", {"Authorization": f"Token {bare_token}"}),
        ("ours", "static"): (f"http://127.0.0.1:{server.port}{static_path}", {**https, "Accept-Encoding": "br"}),
    }
    masters = {"ours": server.process.pid, "bare": process.pid}
    ccd_process = ccd_venv = None
    if ccd_source:
        print("baking and starting cookiecutter-django ...", flush=True)
        ccd_project = ccd.bake(ccd_source, workdir)
        ccd_venv = ccd.venv(ccd_project, project, venvs)
        ccd_env = ccd.environment(ccd_venv, production_env(), urls["ccd"], "redis://127.0.0.1:6379/15", WORKERS)
        ccd_process, ccd_port, ccd_token = ccd.start(
            ccd_project, ccd_env, logdir / "ccd.log", PINNED["servers"] if args.pin else None)
        targets[("ccd", "me")] = (f"http://127.0.0.1:{ccd_port}/api/users/me/",
                                  {"X-Forwarded-Proto": "https", "Authorization": f"Token {ccd_token}"})
        masters["ccd"] = ccd_process.pid
    idle_memory = {who: server_memory_mb(pid) for who, pid in masters.items()}
    runs = {(who, name, conns): [] for (who, name) in targets for conns in CONNECTIONS}
    for round_number in range(args.rounds):
        print(f"load round {round_number + 1}/{args.rounds} ...", flush=True)
        for conns in CONNECTIONS:
            for (who, name), (url, headers) in targets.items():
                side = (masters[who], database_names.get(who))
                runs[(who, name, conns)].append(wrk(url, headers, args.seconds, conns, args.pin, side))
    median = {
        target: {key: statistics.median(run[key] for run in samples) for key in samples[0]}
        for target, samples in runs.items()
    }
    by_side = {who: {(name, conns): median[(w, name, conns)] for (w, name, conns) in runs if w == who}
               for who in sides}
    ours = by_side["ours"]
    memory = {who: server_memory_mb(pid) for who, pid in masters.items()}
    print("slow clients ...", flush=True)
    slow = {
        "ours": slow_client_run(server.port, our_token, args.slow_seconds, https),
        "bare": slow_client_run(port, bare_token, args.slow_seconds, https),
    }
    recycles = server.output().count("Respawning worker")
    started = time.perf_counter()
    server.stop()
    sigterm = {"ours": time.perf_counter() - started, "bare": sigterm_to_exit(process)}
    if ccd_process:
        sigterm["ccd"] = sigterm_to_exit(ccd_process)
    for _, name in databases:
        drop_database(venv, name)

    def round_ratios(name, conns, other):
        """ours / other for each round: adjacent runs, so drift between rounds cancels."""
        pairs = zip(runs[("ours", name, conns)], runs[(other, name, conns)])
        return [a["rps"] / b["rps"] for a, b in pairs]

    ratios = {f"{name} c{conns} vs {other}": round_ratios(name, conns, other)
              for (who, name, conns) in runs if who != "ours" for other in [who]}
    results["health_rps_ratio"] = statistics.median(ratios["health c8 vs bare"])
    for conns in CONNECTIONS:
        results[f"me_rps_bare_{conns}"] = statistics.median(ratios[f"me c{conns} vs bare"])
        if ccd_source:
            results[f"me_rps_ccd_{conns}"] = statistics.median(ratios[f"me c{conns} vs ccd"])
    for conns in CONNECTIONS:  # tails too, round by round: one round's hiccup is not a trend
        pairs = zip(runs[("ours", "me", conns)], runs[("bare", "me", conns)])
        ratios[f"me p99 c{conns} vs bare"] = [a["p99_ms"] / b["p99_ms"] for a, b in pairs]
    results["me_p99_8_ratio"] = statistics.median(ratios["me p99 c8 vs bare"])
    results["me_p99_100_ms"] = ours[("me", 100)]["p99_ms"]
    results["me_p99_100_ratio"] = statistics.median(ratios["me p99 c100 vs bare"])
    results["slow_failed_probes"] = slow["ours"]["failed"]
    results["memory_ratio"] = memory["ours"]["total_pss"] / memory["bare"]["total_pss"]
    results["sigterm_to_exit_s"] = sigterm["ours"]
    holds = {
        key: results[key] <= limit if at_most else results[key] >= limit
        for key, (limit, at_most) in BUDGETS.items() if key in results
    }
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "load": os.getloadavg(),
        "versions": versions(venv, bare_python, ccd_venv),
        "workers": WORKERS, "seconds": args.seconds, "slow_seconds": args.slow_seconds,
        "bake_times": bake_times, "results": results, "holds": holds, "sides": sides,
        "median": by_side, "memory_mb": memory, "idle_memory_mb": idle_memory,
        "slow": slow, "sigterm_s": sigterm, "ratios": ratios, "pin": args.pin,
        "rounds": args.rounds, "recycles": recycles, "database": args.database,
        "samples": {f"{who} {name} c{conns}": samples for (who, name, conns), samples in runs.items()},
    }
    print(json.dumps({**report, "median": {who: {f"{k[0]} c{k[1]}": v for k, v in side.items()}
                                           for who, side in by_side.items()}}, indent=2))
    write_markdown(report, Path(args.output))
    print("measuring the background worker ...", flush=True)
    worker_results = worker_bench.measure_all(project, venv, workdir)
    print(json.dumps(worker_results, indent=2))
    machine = f"{report['machine']}, load average {os.getloadavg()[0]:.1f}"
    worker_bench.splice(Path(args.output), worker_bench.markdown(worker_results, report["date"], machine))
    print(f"\nwritten to {args.output}")
    print("ALL BUDGETS HOLD" if all(holds.values()) else "BUDGETS MISSED: " + ", ".join(k for k, v in holds.items() if not v))
    if not ccd_source:
        print("cookiecutter-django not measured: pass --cookiecutter-django PATH (bench/cookiecutter_django.py)")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(holds.values()) and ccd_source else 1


def write_markdown(report, path):
    r, slow, median = report["results"], report["slow"], report["median"]
    ours, bare, ccd_side = median["ours"], median["bare"], median.get("ccd")
    mark = {True: "holds", False: "**missed**"}
    h = report["holds"]
    v = report["versions"]
    load = ", ".join(f"{x:.1f}" for x in report["load"])

    def budget(key, label, value):
        limit, at_most = BUDGETS[key]
        sign = "≤" if at_most else "≥"
        return f"| {label} | {sign} {limit:g} | {value} | {mark[h[key]] if key in h else 'not measured'} |"

    def spread(key):
        values = report["ratios"].get(key)
        return f"{statistics.median(values):.2f} (rounds: {', '.join(f'{x:.2f}' for x in values)})" if values else "n/a"

    ccd_text = (
        f" cookiecutter-django: its {ccd.RELEASE} release baked with DRF and WhiteNoise (Django "
        f"{v['ccd'][0]}, DRF {v['ccd'][1]}), its Procfile `web:` line (gunicorn {v['ccd'][2]} sync), "
        f"`config.settings.production`, {report['workers']} workers (bench/cookiecutter_django.py)."
        if "ccd" in v else " cookiecutter-django: not measured (no `--cookiecutter-django` given)."
    )
    pin = ("wrk pinned to CPU 0 and the servers to CPU 1 (taskset, the default); PostgreSQL unpinned"
           if report["pin"] else "wrk and the servers unpinned")
    lines = [
        "# Benchmarks",
        "",
        f"Run {report['date']} with `python bench/run.py{COMMAND_TAIL[report['database']]}"
        f"{'' if report['pin'] else ' --no-pin'} --cookiecutter-django PATH` on {report['machine']} (load "
        f"average at the end: {load}; the machine is shared with other jobs). {v['python']}, Django "
        f"{v['django']}, DRF {v['drf']}. Ours: the Procfile web command, granian {v['granian']}, "
        f"{report['workers']} processes (server.py defaults), in a venv with `requirements.txt` only, "
        "as Railway installs it. Bare: `django-admin startproject` + DRF with the same token view, "
        f"gunicorn {v['gunicorn']} sync, {report['workers']} workers, the project's Django, DRF and "
        f"psycopg pins, cookiecutter-django's database settings.{ccd_text} "
        f"wrk with 2 threads, {report['seconds']} s per run, {report['rounds']} rounds with every "
        f"server loaded in turn; {pin}. {DATABASE_TEXT[report['database']]} Figures are medians "
        "over the rounds; ratios (requests/s and p99) are the median of the per-round ratios (each "
        "round's runs are minutes apart at most, so drift cancels), with each round's ratio shown. "
        f"Our workers were respawned {report['recycles']} times (`WEB_MAX_RSS`). How to repeat "
        "this, and what changed over time: [benchmarks-notes.md](benchmarks-notes.md).",
        "",
        "## Budgets",
        "",
        "| Budget | Limit | Measured | |",
        "| --- | --- | --- | --- |",
        budget("bake_s", f"Default bake (median of {len(report['bake_times'])}), s", f"{r['bake_s']:.3f} s"),
        budget("start_to_healthy_s", "Process start → first 200 on `/health/`, s", f"{r['start_to_healthy_s']:.1f} s"),
        budget("health_rps_ratio", "`/health/` requests/s vs bare, 8 connections", spread("health c8 vs bare")),
        budget("me_rps_ccd_8", "Authenticated GET requests/s vs cookiecutter-django, 8 connections", spread("me c8 vs ccd")),
        budget("me_rps_ccd_100", "Authenticated GET requests/s vs cookiecutter-django, 100 connections", spread("me c100 vs ccd")),
        budget("me_rps_bare_8", "Authenticated GET requests/s vs bare, 8 connections", spread("me c8 vs bare")),
        budget("me_rps_bare_100", "Authenticated GET requests/s vs bare, 100 connections", spread("me c100 vs bare")),
        budget("me_p99_8_ratio", "Authenticated GET p99 vs bare, 8 connections", spread("me p99 c8 vs bare")),
        budget("me_p99_100_ms", "Authenticated GET p99, 100 connections, ms", f"{r['me_p99_100_ms']:.0f} ms"),
        budget("me_p99_100_ratio", "Authenticated GET p99 vs bare, 100 connections", spread("me p99 c100 vs bare")),
        budget("slow_failed_probes", f"Failed probes under 50 slow bodies + 50 slowloris ({report['slow_seconds']} s)", f"{r['slow_failed_probes']} of {slow['ours']['probes']} (bare: {slow['bare']['failed']} of {slow['bare']['probes']})"),
        budget("memory_ratio", "Server memory (PSS of master and workers) vs bare",
               f"{r['memory_ratio']:.2f} ({report['memory_mb']['ours']['total_pss']:.0f} MB vs "
               f"{report['memory_mb']['bare']['total_pss']:.0f} MB)"),
        budget("sigterm_to_exit_s", "SIGTERM → exit, s", f"{r['sigterm_to_exit_s']:.1f} s (bare {report['sigterm_s']['bare']:.1f} s)"),
        "",
        "## Load",
        "",
        "| Endpoint | Conn. | Ours req/s | Bare req/s | cookiecutter-django req/s | Ours p50 / p99 ms | Bare p50 / p99 ms | cookiecutter-django p50 / p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def cell(side, key, what):
        if side is None or key not in side:
            return "n/a"
        run = side[key]
        return f"{run['rps']:.0f}" if what == "rps" else f"{run['p50_ms']:.1f} / {run['p99_ms']:.1f}"

    labels = {"me": "authenticated GET (token, \"me\")", "health": "`GET /health/` (SELECT 1)",
              "static": "hashed static file (Brotli, WhiteNoise)"}
    for conns in CONNECTIONS:
        for name in ("me", "health", "static"):
            key = (name, conns)
            lines.append(
                f"| {labels[name]} | {conns} | {cell(ours, key, 'rps')} | {cell(bare, key, 'rps')} | "
                f"{cell(ccd_side, key, 'rps')} | {cell(ours, key, 'lat')} | {cell(bare, key, 'lat')} | "
                f"{cell(ccd_side, key, 'lat')} |"
            )
    lines += [
        "",
        "CPU time per request during the same runs, in ms (every thread of the server's master and "
        "workers, user + system; and of the PostgreSQL backends serving its database). It says "
        "which side does more work per request, but other jobs on the machine move it too (at 8 "
        "connections by up to 2x between runs on a loaded machine): compare instructions "
        "(bench/instructions.py) there. A database connection replaced during a run (bare's and "
        "cookiecutter-django's `CONN_MAX_AGE=60`) takes its CPU time with it: those figures can "
        "read low.",
        "",
        "| Endpoint | Conn. | Ours server | Bare server | cookiecutter-django server | Ours PostgreSQL | Bare PostgreSQL | cookiecutter-django PostgreSQL |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def cpu_cell(side, key, what):
        if side is None or key not in side or what not in side[key]:
            return "n/a"
        return f"{side[key][what]:.2f}"

    for conns in CONNECTIONS:
        for name in ("me", "health", "static"):
            key = (name, conns)
            lines.append(
                f"| {labels[name]} | {conns} | "
                + " | ".join(cpu_cell(side, key, what) for what in ("cpu_ms", "db_cpu_ms")
                             for side in (ours, bare, ccd_side)) + " |"
            )
    lines += [
        "",
        "Non-2xx answers during load: " + ", ".join(
            f"{who} {name} c{conns} {samples[(name, conns)]['errors']:.0f}"
            for who, samples in median.items() for (name, conns) in samples) + ".",
        "",
        "## Memory",
        "",
        "Right after the load above, and at rest (after start-up, before the load). The budget "
        "compares each server's memory as a whole: the PSS of its master and workers added up, each "
        "page counted once, which is what the container holds. Per worker process (mean of the "
        "workers): VmRSS counts every page a process maps, shared or not; PSS splits shared pages "
        "between the processes sharing them; USS counts only the pages that process alone has "
        "(what one more worker costs). Ours imports Django before granian forks its workers "
        "(server.py `preload()`), so its workers share that copy and each one's VmRSS counts it; "
        "gunicorn without `--preload` loads Django in each worker, a copy each.",
        "",
        "| Server | Whole server PSS MB | At rest MB | Worker VmRSS MB | Worker PSS MB | Worker USS MB | Worker VmRSS at rest MB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *(f"| {who} | {m['total_pss']:.0f} | {report['idle_memory_mb'][who]['total_pss']:.0f} | "
          f"{m['rss']:.0f} | {m['pss']:.0f} | {m['uss']:.0f} | "
          f"{report['idle_memory_mb'][who]['rss']:.0f} |"
          for who, m in report["memory_mb"].items()),
        "",
        "## Slow clients",
        "",
        f"50 connections sending a POST body at 100 bytes/s and 50 whose headers never end, held "
        f"{report['slow_seconds']} s (reopened whenever the server closes one), while `/health/` and "
        "`/api/auth/me/` are each probed every 0.25 s; a probe fails without a 200 within 1 s.",
        "",
        "| Server | Probes | Failed | Worst probe |",
        "| --- | --- | --- | --- |",
    ]
    for who, label in (("ours", "ours (granian + plumbing/bodies.py)"), ("bare", "bare (gunicorn sync)")):
        run = slow[who]
        lines.append(f"| {label} | {run['probes']} | {run['failed']} | {run['worst_s']:.2f} s |")
    lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
