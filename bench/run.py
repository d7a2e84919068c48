"""Performance budget: what the hardened stack costs against bare Django, on this machine.

    python bench/run.py            # about 8 minutes; writes docs/benchmarks.md
    python bench/run.py --database postgres   # the same on PostgreSQL: docs/benchmarks-postgres.md

Times a default bake; bakes, installs and starts the Procfile web command (granian, production
variables, SQLite, or PostgreSQL with --database postgres) and times start -> first 200 on
/health/; drives wrk at /health/, an authenticated GET /api/auth/me/ and a hashed static file at
8 and at 100 connections; does the same against a bare `django-admin startproject` under
gunicorn sync with the same process count; holds 50 slow-body and 50 slowloris connections
against each while probing /health/ and /api/auth/me/; reports ratios, worker RSS, SIGTERM ->
exit, and whether each budget holds; then (SQLite run) measures the background worker's
throughput (bench/worker.py). Needs wrk (Debian package `wrk`).
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

import worker as worker_bench  # noqa: E402
from bare_project import make_bare_project  # noqa: E402
from helpers import (  # noqa: E402
    PROBE,
    RAILWAY_DOMAIN,
    Http,
    Server,
    VenvCache,
    bake_template,
    create_database,
    deploy_copy,
    drop_database,
    free_port,
    production_env,
    reachable,
    run,
    venv_env,
)
from slow_clients import SlowClients, probe_during  # noqa: E402

WORKERS = 2
COMMAND_TAIL = {"sqlite": "", "postgres": " --database postgres"}
DATABASE_TEXT = {
    "sqlite": "SQLite.",
    "postgres": "PostgreSQL on the same machine (127.0.0.1), a database each; both keep their "
                "connections (bare with `CONN_MAX_AGE=600`).",
}
CONNECTIONS = (8, 100)
BARE_SERVER = "gunicorn==27.0.1"  # the baseline's server: what the template shipped before granian
# (name, limit, True when the measured value must stay at or under the limit)
BUDGETS = {
    "bake_s": (0.5, True),
    "start_to_healthy_s": (5.0, True),
    "health_rps_ratio": (1.0, False),  # at 8 connections
    "me_rps_ratio": (1.0, False),  # at 8 connections
    "me_p99_100_ms": (500.0, True),  # authenticated GET at 100 connections
    "me_p99_100_ratio": (1.5, True),
    "slow_failed_probes": (0, True),
    "rss_ratio": (1.25, True),
    "sigterm_to_exit_s": (30.0, True),
}


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


def wrk(url, headers, seconds, connections):
    args = ["wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{seconds}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {}
    for pct in ("50", "99"):
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", out, re.M).groups()
        latency[pct] = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": latency["50"], "p99_ms": latency["99"],
            "errors": int(non2xx.group(1)) if non2xx else 0}


def worker_memory_mb(master_pid):
    """Mean memory of the server's worker processes: VmRSS (the budget's metric), PSS (shared pages
    split between the processes sharing them) and USS (pages only that process has)."""
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    sizes = {"rss": [], "pss": [], "uss": []}
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()

        def kb(name, text=rollup):
            return int(re.search(rf"^{name}:\s+(\d+) kB", text, re.M).group(1))

        sizes["rss"].append(kb("VmRSS", status) / 1024)
        sizes["pss"].append(kb("Pss") / 1024)
        sizes["uss"].append((kb("Private_Clean") + kb("Private_Dirty")) / 1024)
    return {key: statistics.mean(values) if values else float("nan") for key, values in sizes.items()}


def start_ours(project, venv, logdir, database_url=None):
    database = {"DATABASE_URL": database_url, "DATABASE_SSL_REQUIRE": "false"} if database_url else {}
    env = venv_env(venv, production_env(
        WEB_CONCURRENCY=WORKERS,
        ALLOWED_HOSTS=f"{RAILWAY_DOMAIN},127.0.0.1",
        THROTTLE_USER="100000000/m",  # counted as usual (a write per request), never limiting
        THROTTLE_ANON="100000000/m",
        **database,
    ))
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


def start_bare(venv, workdir, logdir, database_url=None):
    project = make_bare_project(venv / "bin" / "django-admin", workdir)
    database = {"DATABASE_URL": database_url} if database_url else {}
    env = venv_env(venv, production_env(DJANGO_SETTINGS_MODULE="bare.settings", **database))
    run(["python", "manage.py", "migrate", "-v", "0"], project, env)
    port = free_port()
    log = (logdir / "bare.log").open("wb")
    process = subprocess.Popen(
        ["gunicorn", "bare.wsgi", "--bind", f"[::]:{port}", "--workers", str(WORKERS),
         "--no-control-socket", "--access-logfile", "-"],
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


def versions(venv, bare):
    def run_python(python, code):
        return subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.split()

    out = run_python(venv / "bin" / "python", "import django, rest_framework, granian; "
                     "print(django.__version__, rest_framework.__version__, granian.__version__)")
    python = subprocess.run([str(venv / "bin" / "python"), "--version"], capture_output=True, text=True).stdout.strip()
    gunicorn = run_python(bare / "bin" / "python", "import gunicorn; print(gunicorn.__version__)")[0]
    return {"python": python, "django": out[0], "drf": out[1], "granian": out[2], "gunicorn": gunicorn}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--slow-seconds", type=int, default=20, help="duration of each slow-client run")
    parser.add_argument("--bakes", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3, help="load rounds; medians are reported")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite",
                        help="postgres: a new database on 127.0.0.1:5432 for each server")
    parser.add_argument("--output", help="default: docs/benchmarks.md (sqlite), "
                        "docs/benchmarks-postgres.md (postgres)")
    args = parser.parse_args()
    default_output = "benchmarks.md" if args.database == "sqlite" else "benchmarks-postgres.md"
    args.output = args.output or str(ROOT / "docs" / default_output)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

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
    databases = []
    if args.database == "postgres":
        if not reachable("127.0.0.1", 5432):
            sys.exit("--database postgres: nothing answers on 127.0.0.1:5432")
        databases = [create_database(venv) for _ in ("ours", "bare")]
    urls = [url for url, _ in databases] or [None, None]
    print("starting the Procfile web command ...", flush=True)
    server, results["start_to_healthy_s"] = start_ours(deployed, venv, logdir, urls[0])
    our_token = token_for(deployed, {**server.env, "DJANGO_SETTINGS_MODULE": "config.settings"})
    _, page_headers, page = server.http.get("/admin/login/", {"Host": RAILWAY_DOMAIN, "X-Forwarded-Proto": "https"})
    static_path = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page).group(1).decode()

    https = {"Host": RAILWAY_DOMAIN, "X-Forwarded-Proto": "https"}
    print("starting bare Django ...", flush=True)
    bare_python = bare_venv(project, venvs)
    process, port, bare_token = start_bare(bare_python, workdir, logdir, urls[1])
    # Both servers up, loaded in turn (ours, bare, ours, bare...) so that drift on a shared
    # 2-core machine hits both alike; each figure is the median over the rounds.
    targets = {
        ("ours", "health"): (f"http://127.0.0.1:{server.port}/health/", https),
        ("bare", "health"): (f"http://127.0.0.1:{port}/health/", {}),
        ("ours", "me"): (f"http://127.0.0.1:{server.port}/api/auth/me/", {**https, "Authorization": f"Token {our_token}"}),
        ("bare", "me"): (f"http://127.0.0.1:{port}/api/auth/me/", {"Authorization": f"Token {bare_token}"}),
        ("ours", "static"): (f"http://127.0.0.1:{server.port}{static_path}", {**https, "Accept-Encoding": "br"}),
    }
    idle_memory = {"ours": worker_memory_mb(server.process.pid), "bare": worker_memory_mb(process.pid)}
    runs = {(who, name, conns): [] for (who, name) in targets for conns in CONNECTIONS}
    for round_number in range(args.rounds):
        print(f"load round {round_number + 1}/{args.rounds} ...", flush=True)
        for conns in CONNECTIONS:
            for (who, name), (url, headers) in targets.items():
                runs[(who, name, conns)].append(wrk(url, headers, args.seconds, conns))
    median = {
        target: {key: statistics.median(run[key] for run in samples) for key in samples[0]}
        for target, samples in runs.items()
    }
    ours = {(name, conns): median[("ours", name, conns)] for (who, name, conns) in runs if who == "ours"}
    bare = {(name, conns): median[("bare", name, conns)] for (who, name, conns) in runs if who == "bare"}
    memory = {"ours": worker_memory_mb(server.process.pid), "bare": worker_memory_mb(process.pid)}
    print("slow clients ...", flush=True)
    slow = {
        "ours": slow_client_run(server.port, our_token, args.slow_seconds, https),
        "bare": slow_client_run(port, bare_token, args.slow_seconds, https),
    }
    recycles = server.output().count("Respawning worker")
    started = time.perf_counter()
    server.stop()
    sigterm = {"ours": time.perf_counter() - started, "bare": sigterm_to_exit(process)}
    for _, name in databases:
        drop_database(venv, name)

    results["health_rps_ratio"] = ours[("health", 8)]["rps"] / bare[("health", 8)]["rps"]
    results["me_rps_ratio"] = ours[("me", 8)]["rps"] / bare[("me", 8)]["rps"]
    results["me_p99_100_ms"] = ours[("me", 100)]["p99_ms"]
    results["me_p99_100_ratio"] = ours[("me", 100)]["p99_ms"] / bare[("me", 100)]["p99_ms"]
    results["slow_failed_probes"] = slow["ours"]["failed"]
    results["rss_ratio"] = memory["ours"]["rss"] / memory["bare"]["rss"]
    results["sigterm_to_exit_s"] = sigterm["ours"]
    holds = {
        key: results[key] <= limit if at_most else results[key] >= limit
        for key, (limit, at_most) in BUDGETS.items()
    }
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "load": os.getloadavg(),
        "versions": versions(venv, bare_python),
        "workers": WORKERS, "seconds": args.seconds, "slow_seconds": args.slow_seconds,
        "bake_times": bake_times, "results": results, "holds": holds,
        "ours": ours, "bare": bare, "memory_mb": memory, "idle_memory_mb": idle_memory,
        "slow": slow, "sigterm_s": sigterm,
        "rounds": args.rounds, "recycles": recycles, "database": args.database,
        "samples": {f"{who} {name} c{conns}": samples for (who, name, conns), samples in runs.items()},
    }
    print(json.dumps({**report, "ours": {f"{k[0]} c{k[1]}": v for k, v in ours.items()},
                      "bare": {f"{k[0]} c{k[1]}": v for k, v in bare.items()}}, indent=2))
    write_markdown(report, Path(args.output))
    if args.database == "sqlite":  # the main report; the worker bench does both databases itself
        print("measuring the background worker ...", flush=True)
        worker_results = worker_bench.measure_all(project, venv, workdir)
        print(json.dumps(worker_results, indent=2))
        machine = f"{report['machine']}, load average {os.getloadavg()[0]:.1f}"
        worker_bench.splice(Path(args.output), worker_bench.markdown(worker_results, report["date"], machine))
    print(f"\nwritten to {args.output}")
    print("ALL BUDGETS HOLD" if all(holds.values()) else "BUDGETS MISSED: " + ", ".join(k for k, v in holds.items() if not v))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(holds.values()) else 1


def write_markdown(report, path):
    r, ours, bare, slow = report["results"], report["ours"], report["bare"], report["slow"]
    mark = {True: "holds", False: "**missed**"}
    h = report["holds"]
    v = report["versions"]
    load = ", ".join(f"{x:.1f}" for x in report["load"])
    lines = [
        "# Benchmarks",
        "",
        f"Run {report['date']} with `python bench/run.py{COMMAND_TAIL[report['database']]}` on {report['machine']} (load average at the "
        f"end: {load}). {v['python']}, Django {v['django']}, DRF {v['drf']}. Ours: the Procfile web "
        f"command, granian {v['granian']}, {report['workers']} processes (server.py defaults). Bare: "
        f"`django-admin startproject` under gunicorn {v['gunicorn']} sync, {report['workers']} workers, "
        "with the project's Django, DRF and psycopg pins (DRF imports psycopg when it is installed). "
        f"wrk with 2 threads, {report['seconds']} s per run, {report['rounds']} rounds with ours and bare "
        "loaded in turn (medians shown), on the same machine as the servers. "
        f"{DATABASE_TEXT[report['database']]} Ours runs in a "
        "venv with `requirements.txt` only, as Railway installs it. "
        f"Our workers were respawned {report['recycles']} times (`WEB_MAX_RSS`).",
        "",
        "## Budgets",
        "",
        "| Budget | Limit | Measured | |",
        "| --- | --- | --- | --- |",
        f"| Default bake (median of {len(report['bake_times'])}) | < {BUDGETS['bake_s'][0]} s | {r['bake_s']:.3f} s | {mark[h['bake_s']]} |",
        f"| Process start → first 200 on `/health/` | < {BUDGETS['start_to_healthy_s'][0]} s | {r['start_to_healthy_s']:.1f} s | {mark[h['start_to_healthy_s']]} |",
        f"| `/health/` requests/s vs bare, 8 connections | ≥ {BUDGETS['health_rps_ratio'][0]} | {r['health_rps_ratio']:.2f} | {mark[h['health_rps_ratio']]} |",
        f"| Authenticated GET requests/s vs bare, 8 connections | ≥ {BUDGETS['me_rps_ratio'][0]} | {r['me_rps_ratio']:.2f} | {mark[h['me_rps_ratio']]} |",
        f"| Authenticated GET p99, 100 connections | < {BUDGETS['me_p99_100_ms'][0]:.0f} ms | {r['me_p99_100_ms']:.0f} ms | {mark[h['me_p99_100_ms']]} |",
        f"| Authenticated GET p99 vs bare, 100 connections | ≤ {BUDGETS['me_p99_100_ratio'][0]} | {r['me_p99_100_ratio']:.2f} | {mark[h['me_p99_100_ratio']]} |",
        f"| Failed probes under 50 slow bodies + 50 slowloris ({report['slow_seconds']} s) | {BUDGETS['slow_failed_probes'][0]} | {r['slow_failed_probes']} of {slow['ours']['probes']} (bare: {slow['bare']['failed']} of {slow['bare']['probes']}) | {mark[h['slow_failed_probes']]} |",
        f"| Worker RSS vs bare | ≤ {BUDGETS['rss_ratio'][0]} | {r['rss_ratio']:.2f} ({report['memory_mb']['ours']['rss']:.0f} MB vs {report['memory_mb']['bare']['rss']:.0f} MB) | {mark[h['rss_ratio']]} |",
        f"| SIGTERM → exit | < {BUDGETS['sigterm_to_exit_s'][0]:.0f} s | {r['sigterm_to_exit_s']:.1f} s (bare {report['sigterm_s']['bare']:.1f} s) | {mark[h['sigterm_to_exit_s']]} |",
        "",
        "## Load",
        "",
        "| Endpoint | Connections | Ours req/s | Bare req/s | Ratio | Ours p50 / p99 ms | Bare p50 / p99 ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for conns in CONNECTIONS:
        for key, label in (("health", "`GET /health/` (SELECT 1)"), ("me", "`GET /api/auth/me/` (token)")):
            o, b = ours[(key, conns)], bare[(key, conns)]
            lines.append(
                f"| {label} | {conns} | {o['rps']:.0f} | {b['rps']:.0f} | {o['rps'] / b['rps']:.2f} | "
                f"{o['p50_ms']:.1f} / {o['p99_ms']:.1f} | {b['p50_ms']:.1f} / {b['p99_ms']:.1f} |"
            )
        s = ours[("static", conns)]
        lines.append(f"| hashed static file (Brotli, WhiteNoise) | {conns} | {s['rps']:.0f} | n/a | | "
                     f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f} | |")
    lines += [
        "",
        "Non-2xx answers during load: " + ", ".join(
            f"{who} {name} c{conns} {samples[(name, conns)]['errors']:.0f}"
            for who, samples in (("ours", ours), ("bare", bare)) for (name, conns) in samples) + ".",
        "",
        "## Memory",
        "",
        "Per worker process (mean of the workers), right after the load above, and at rest (after "
        "start-up, before the load; ours imports the URLconf and every view before the fork, "
        "gunicorn's workers at their first request). VmRSS counts every page a process maps, shared or not; PSS "
        "splits shared pages between the processes sharing them; USS counts only the pages that "
        "process alone has (what one more worker costs). Ours imports Django before granian forks "
        "its workers (server.py `preload()`); gunicorn sync without `--preload` loads it in each "
        "worker. Under load our requests wait for their turn on each process's event loop, without "
        "a thread (6 threads a process, 2 of them running Django); a gunicorn sync worker holds one "
        "request and leaves the others in the kernel's queue.",
        "",
        "| Server | VmRSS MB | PSS MB | USS MB | VmRSS at rest MB |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {who} | {m['rss']:.0f} | {m['pss']:.0f} | {m['uss']:.0f} | "
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
    notes = path.with_name("benchmarks-notes.md")
    if notes.exists() and report["database"] == "sqlite":  # the notes go with the main report
        lines += [notes.read_text()]
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
