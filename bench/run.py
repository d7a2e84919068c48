"""Performance budget: what the hardened stack costs against bare Django, on this machine.

    python bench/run.py            # about 3 minutes; writes docs/benchmarks.md

Times a default bake; bakes, installs and starts the Procfile web command (production
variables, SQLite) and times start -> first 200 on /health/; drives wrk at /health/, an
authenticated GET /api/auth/me/ and a hashed static file; does the same against a bare
`django-admin startproject` with the same gunicorn worker count; reports ratios and worker
RSS, and whether each budget holds; then measures the background worker's throughput
(bench/worker.py). Needs wrk (Debian package `wrk`).
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
    RAILWAY_DOMAIN,
    Http,
    Server,
    VenvCache,
    deploy_copy,
    free_port,
    production_env,
    run,
    venv_env,
)

WORKERS = 2
BUDGETS = {
    "bake_s": 0.5,
    "start_to_healthy_s": 5.0,
    "health_rps_ratio": 0.95,
    "me_rps_ratio": 0.85,
    "p99_ratio": 1.5,
    "rss_ratio": 1.25,
}


def bake(output):
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(ROOT), no_input=True, output_dir=str(output)))


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


def worker_rss_mb(master_pid):
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return statistics.mean(sizes) if sizes else float("nan")


def start_ours(project, venv, logdir):
    env = venv_env(venv, production_env(
        WEB_CONCURRENCY=WORKERS,
        ALLOWED_HOSTS=f"{RAILWAY_DOMAIN},127.0.0.1",
        THROTTLE_USER="100000000/m",  # counted as usual (a write per request), never limiting
        THROTTLE_ANON="100000000/m",
    ))
    server = Server(project, env, logdir / "ours.log")
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


def start_bare(venv, workdir, logdir):
    project = make_bare_project(venv / "bin" / "django-admin", workdir)
    env = venv_env(venv, production_env(DJANGO_SETTINGS_MODULE="bare.settings"))
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


def versions(venv):
    code = "import django, rest_framework, gunicorn; print(django.__version__, rest_framework.__version__, gunicorn.__version__)"
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True).stdout.split()
    python = subprocess.run([str(venv / "bin" / "python"), "--version"], capture_output=True, text=True).stdout.strip()
    return {"python": python, "django": out[0], "drf": out[1], "gunicorn": out[2]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--bakes", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3, help="load rounds; medians are reported")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
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
    venv = venvs.for_project(project)
    deployed = deploy_copy(project, workdir / "deployed")
    print("starting the Procfile web command ...", flush=True)
    server, results["start_to_healthy_s"] = start_ours(deployed, venv, logdir)
    our_token = token_for(deployed, {**server.env, "DJANGO_SETTINGS_MODULE": "config.settings"})
    _, page_headers, page = server.http.get("/admin/login/", {"Host": RAILWAY_DOMAIN, "X-Forwarded-Proto": "https"})
    static_path = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page).group(1).decode()

    https = {"Host": RAILWAY_DOMAIN, "X-Forwarded-Proto": "https"}
    print("starting bare Django ...", flush=True)
    process, port, bare_token = start_bare(venv, workdir, logdir)
    # Both servers up, loaded in turn (ours, bare, ours, bare...) so that drift on a shared
    # 2-core machine hits both alike; each figure is the median over the rounds.
    targets = {
        ("ours", "health"): (f"http://127.0.0.1:{server.port}/health/", https),
        ("bare", "health"): (f"http://127.0.0.1:{port}/health/", {}),
        ("ours", "me"): (f"http://127.0.0.1:{server.port}/api/auth/me/", {**https, "Authorization": f"Token {our_token}"}),
        ("bare", "me"): (f"http://127.0.0.1:{port}/api/auth/me/", {"Authorization": f"Token {bare_token}"}),
        ("ours", "static"): (f"http://127.0.0.1:{server.port}{static_path}", {**https, "Accept-Encoding": "br"}),
    }
    runs = {target: [] for target in targets}
    for round_number in range(args.rounds):
        print(f"load round {round_number + 1}/{args.rounds} ...", flush=True)
        for target, (url, headers) in targets.items():
            runs[target].append(wrk(url, headers, args.seconds, args.connections))
    median = {
        target: {key: statistics.median(run[key] for run in samples) for key in samples[0]}
        for target, samples in runs.items()
    }
    ours = {name: median[("ours", name)] for name in ("health", "me", "static")}
    bare = {name: median[("bare", name)] for name in ("health", "me")}
    ours_rss = worker_rss_mb(server.process.pid)
    bare_rss = worker_rss_mb(process.pid)
    recycles = server.output().count("Autorestarting worker")
    server.stop()
    process.terminate()
    process.wait(timeout=30)

    results["health_rps_ratio"] = ours["health"]["rps"] / bare["health"]["rps"]
    results["me_rps_ratio"] = ours["me"]["rps"] / bare["me"]["rps"]
    results["p99_ratio"] = max(ours[k]["p99_ms"] / bare[k]["p99_ms"] for k in ("health", "me"))
    results["rss_ratio"] = ours_rss / bare_rss
    holds = {
        key: (results[key] <= limit if key in ("bake_s", "start_to_healthy_s", "p99_ratio", "rss_ratio")
              else results[key] >= limit)
        for key, limit in BUDGETS.items()
    }
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "versions": versions(venv),
        "workers": WORKERS, "seconds": args.seconds, "connections": args.connections,
        "bake_times": bake_times, "results": results, "holds": holds,
        "ours": ours, "bare": bare, "rss_mb": {"ours": ours_rss, "bare": bare_rss},
        "rounds": args.rounds, "recycles": recycles,
        "samples": {f"{who} {name}": samples for (who, name), samples in runs.items()},
    }
    print(json.dumps(report, indent=2))
    write_markdown(report, Path(args.output))
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
    r, ours, bare = report["results"], report["ours"], report["bare"]
    mark = {True: "holds", False: "**missed**"}
    v = report["versions"]
    lines = [
        "# Benchmarks",
        "",
        f"Run {report['date']} with `python bench/run.py` on {report['machine']}.",
        f"{v['python']}, Django {v['django']}, DRF {v['drf']}, gunicorn {v['gunicorn']}; "
        f"{report['workers']} gunicorn sync workers; wrk with 2 threads and {report['connections']} "
        f"connections, {report['seconds']} s per run, {report['rounds']} rounds with ours and bare "
        f"loaded in turn (medians shown), on the same machine as the servers. SQLite. "
        f"Our workers were recycled {report['recycles']} times during the load (`max_requests`).",
        "",
        "## Budgets",
        "",
        "| Budget | Limit | Measured | |",
        "| --- | --- | --- | --- |",
        f"| Default bake (median of {len(report['bake_times'])}) | < {BUDGETS['bake_s']} s | {r['bake_s']:.3f} s | {mark[report['holds']['bake_s']]} |",
        f"| Process start → first 200 on `/health/` | < {BUDGETS['start_to_healthy_s']} s | {r['start_to_healthy_s']:.1f} s | {mark[report['holds']['start_to_healthy_s']]} |",
        f"| `/health/` requests/s vs bare | ≥ {BUDGETS['health_rps_ratio']} | {r['health_rps_ratio']:.2f} | {mark[report['holds']['health_rps_ratio']]} |",
        f"| Authenticated DRF GET requests/s vs bare | ≥ {BUDGETS['me_rps_ratio']} | {r['me_rps_ratio']:.2f} | {mark[report['holds']['me_rps_ratio']]} |",
        f"| p99 latency vs bare (worst of the two) | ≤ {BUDGETS['p99_ratio']} | {r['p99_ratio']:.2f} | {mark[report['holds']['p99_ratio']]} |",
        f"| Worker RSS vs bare | ≤ {BUDGETS['rss_ratio']} | {r['rss_ratio']:.2f} ({report['rss_mb']['ours']:.0f} MB vs {report['rss_mb']['bare']:.0f} MB) | {mark[report['holds']['rss_ratio']]} |",
        "",
        "## Load",
        "",
        "| Endpoint | Ours req/s | Bare req/s | Ratio | Ours p50 / p99 ms | Bare p50 / p99 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in (("health", "`GET /health/` (SELECT 1)"), ("me", "`GET /api/auth/me/` (token)")):
        o, b = ours[key], bare[key]
        lines.append(
            f"| {label} | {o['rps']:.0f} | {b['rps']:.0f} | {o['rps'] / b['rps']:.2f} | "
            f"{o['p50_ms']:.2f} / {o['p99_ms']:.2f} | {b['p50_ms']:.2f} / {b['p99_ms']:.2f} |"
        )
    s = ours["static"]
    lines.append(f"| hashed static file (Brotli, WhiteNoise) | {s['rps']:.0f} | n/a | | {s['p50_ms']:.2f} / {s['p99_ms']:.2f} | |")
    lines += ["", "Non-2xx answers during load: " + ", ".join(
        f"ours {k} {ours[k]['errors']}" for k in ours) + ", " + ", ".join(f"bare {k} {bare[k]['errors']}" for k in bare) + ".", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    notes = path.with_name("benchmarks-notes.md")
    if notes.exists():
        lines += [notes.read_text()]
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
