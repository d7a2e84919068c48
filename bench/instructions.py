"""Where a request's CPU goes, in a count that a busy machine does not change: instructions.

    python bench/instructions.py [--cookiecutter-django PATH] [--requests N] [--variant ...]

Requests/s on a machine shared with other jobs swing by a third from run to run; the number of
instructions a request executes does not. This bakes the template (or takes --project), builds
the bare project and, given its source, cookiecutter-django as bench/run.py does, each on a new
PostgreSQL database (--database sqlite for SQLite), and for each runs N authenticated GETs of
its "me" endpoint through its WSGI handler in one process: production settings, a token,
connections kept as each side keeps them, the server left out. Under `valgrind
--tool=callgrind` only the requests are counted: the loop runs inside glibc's qsort_r (called
through ctypes with the loop as its comparison function), the function --toggle-collect names.
It prints instructions per request and the statements each request sends, and the same for
each variant of ours asked with --variant "label=CHANGE;CHANGE":

    --variant "no access log=MIDDLEWARE-=plumbing.middleware.RequestLogMiddleware"
    --variant "no health checks=DATABASES.default.CONN_HEALTH_CHECKS=False"

(MIDDLEWARE-=path drops a middleware; NAME=VALUE or NAME.key.key=VALUE sets a setting to a
Python literal, after django.setup()). --profile prints cProfile's view instead (by Python
function; times, so noisy). What this leaves out, the server (granian and plumbing/bodies.py,
or gunicorn) and PostgreSQL's work, bench/run.py measures as CPU time per request.
Needs valgrind (Debian package `valgrind`). Do not run callgrind_control meanwhile: it zeroes
and dumps every callgrind process on the machine.
"""

import argparse
import ast
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve()


# --- In the measured project's interpreter ------------------------------------------------------

def child(options):
    project = Path(options["project"])
    os.chdir(project)
    sys.path.insert(0, str(project))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", options["settings"])
    import django
    from django.conf import settings

    django.setup()
    for change in options["changes"]:
        apply_change(settings, change)
    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        **{user_model.USERNAME_FIELD: "bench"}, defaults={"email": "bench@example.com"})
    token = Token.objects.get_or_create(user=user)[0].key
    from django.db import connections

    connections.close_all()  # as a worker starts: no connection yet
    if options["settings"] == "config.settings":
        # The backstop throttles send their counts every BATCH_MAX calls or every second, and
        # under valgrind a second is a dozen requests: send by count only, as at full speed.
        import plumbing.ratelimit

        plumbing.ratelimit.SEND_INTERVAL = float("inf")
    handler = WSGIHandler()  # after the changes: it reads MIDDLEWARE here
    headers = {**options["headers"], "HTTP_AUTHORIZATION": f"Token {token}"}

    def request():
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": options["path"], "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "SCRIPT_NAME": "", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
            **headers,
        }
        status = []
        response = handler(environ, lambda s, h, exc_info=None: status.append(s))
        try:
            body = b"".join(response)
        finally:
            response.close()  # request_finished: what a server does after the last byte
        if not status[0].startswith("200"):
            raise SystemExit(f"{options['path']}: {status[0]} {body[:300]!r}")

    for _ in range(options["warmup"]):
        request()
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        request()
    # The health check (CONN_HEALTH_CHECKS) runs on the raw connection, not through wrappers.
    health = bool(settings.DATABASES["default"].get("CONN_HEALTH_CHECKS"))

    import ctypes

    count = options["requests"]
    libc = ctypes.CDLL(None)
    compare = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

    def loop(a, b):
        for _ in range(count):
            request()
        return 0

    callback = compare(loop)
    pair = (ctypes.c_int * 2)(1, 2)
    started = time.process_time()
    if options["profile"]:  # where the requests' time goes, by Python function
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(loop, None, None)
        stats = pstats.Stats(profile, stream=sys.stderr).strip_dirs()
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)
    else:
        libc.qsort(pair, 2, ctypes.sizeof(ctypes.c_int), callback)  # callgrind counts inside qsort_r
    cpu = time.process_time() - started
    print(json.dumps({"statements": statements, "health_check": health,
                      "cpu_us": cpu / count * 1e6}), flush=True)


def apply_change(settings, change):
    if "-=" in change:
        name, value = change.split("-=", 1)
        setattr(settings, name, [item for item in getattr(settings, name) if item != value])
        return
    name, value = change.split("=", 1)
    path = name.split(".")
    value = ast.literal_eval(value)
    if len(path) == 1:
        setattr(settings, name, value)
        return
    target = getattr(settings, path[0])
    for key in path[1:-1]:
        target = target[key]
    target[path[-1]] = value


# --- The driver (the template's test venv) -----------------------------------------------------

def measure(python, project, settings, path, headers, env, changes, requests, warmup, valgrind=True,
            profile=False):
    """Instructions per request (and what the child printed) for one side and variant."""
    options = {"project": str(project), "settings": settings, "path": path, "headers": headers,
               "changes": changes, "requests": requests, "warmup": warmup, "profile": profile}
    command = [str(python), str(CHILD), "--child", json.dumps(options)]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        if valgrind:
            command = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=qsort_r",
                       f"--callgrind-out-file={out}", *command]
        done = subprocess.run(command, cwd=project, env={**env, "PYTHONHASHSEED": "0"},
                              capture_output=True, text=True)
        if profile:
            print(done.stderr)
        if done.returncode:
            raise SystemExit(f"{' '.join(command[:4])}...: exit {done.returncode}\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if valgrind:
            totals = re.search(r"^(?:totals|summary): (\d+)", out.read_text(), re.M)
            result["instructions"] = int(totals.group(1)) / requests
    return result


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        return child(json.loads(sys.argv[2]))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--cookiecutter-django", metavar="PATH", help="its source (or CCD_SOURCE)")
    parser.add_argument("--project", help="an already baked project (default: bake one)")
    parser.add_argument("--sides", default="ours,bare,ccd")
    parser.add_argument("--variant", action="append", default=[],
                        help='"label=CHANGE[;CHANGE...]": ours again with settings changed')
    parser.add_argument("--no-valgrind", action="store_true", help="CPU time only (noisy)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile each side's requests instead (no valgrind): by Python function")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT / "bench"))
    import cookiecutter_django as ccd
    from baked_venvs import VenvCache, venv_env
    from bare_project import make_bare_project
    from processes import run
    from railway import production_env
    from services import create_database, drop_database
    from run import RAILWAY_DOMAIN, bake, bare_venv, production_venv

    workdir = Path(tempfile.mkdtemp(prefix="instructions-"))
    project = Path(args.project) if args.project else bake(workdir)
    venvs = VenvCache(os.environ.get("TEMPLATE_VENV_DIR") or workdir / "venvs")
    venv = production_venv(project, venvs)
    sides = args.sides.split(",")
    ccd_source = ccd.source_from(args.cookiecutter_django) if "ccd" in sides else None
    if not ccd_source and "ccd" in sides:
        print("cookiecutter-django skipped: give its source with --cookiecutter-django or CCD_SOURCE")
        sides.remove("ccd")
    databases = {}
    https = {"HTTP_HOST": RAILWAY_DOMAIN, "HTTP_X_FORWARDED_PROTO": "https"}
    try:
        for side in sides:
            databases[side] = create_database(venv) if args.database == "postgres" else (None, None)
        url = databases["ours"][0]
        env = venv_env(venv, production_env(
            ALLOWED_HOSTS=RAILWAY_DOMAIN, THROTTLE_USER="100000000/m", THROTTLE_ANON="100000000/m",
            **({"DATABASE_URL": url, "DATABASE_SSL_REQUIRE": "false"} if url else {})))
        run(["python", "manage.py", "migrate", "-v", "0"], project, env)
        python = venv / "bin" / "python"
        setups = {"ours": (python, project, "config.settings", "/api/auth/me/", https, env)}
        if "bare" in sides:
            bare_python = bare_venv(project, venvs)
            bare = make_bare_project(bare_python / "bin" / "django-admin", workdir)
            bare_url = databases["bare"][0]
            bare_env = venv_env(bare_python, production_env(
                DJANGO_SETTINGS_MODULE="bare.settings", **({"DATABASE_URL": bare_url} if bare_url else {})))
            run(["python", "manage.py", "migrate", "-v", "0"], bare, bare_env)
            setups["bare"] = (bare_python / "bin" / "python", bare, "bare.settings", "/api/auth/me/",
                              {"HTTP_HOST": "127.0.0.1"}, bare_env)
        if ccd_source:
            ccd_project = ccd.bake(ccd_source, workdir)
            ccd_venv = ccd.venv(ccd_project, project, venvs)
            ccd_url = databases["ccd"][0] or f"sqlite:///{workdir / 'ccd.sqlite3'}"
            ccd_env = ccd.environment(ccd_venv, production_env(), ccd_url, "redis://127.0.0.1:6379/15", 1)
            run(ccd.procfile(ccd_project, "release"), ccd_project, ccd_env, timeout=600)
            setups["ccd"] = (ccd_venv / "bin" / "python", ccd_project, "config.settings.production",
                             "/api/users/me/", {"HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"},
                             ccd_env)
        runs = [(side, side, []) for side in sides]
        for variant in args.variant:
            label, _, changes = variant.partition("=")
            runs.append(("ours", label, [c for c in changes.split(";") if c]))
        results = {}
        for side, label, changes in runs:
            python_, where, settings, path, headers, env_ = setups[side]
            result = measure(python_, where, settings, path, headers, env_, changes,
                             args.requests, args.warmup,
                             valgrind=not (args.no_valgrind or args.profile), profile=args.profile)
            results[label] = result
            figure = f"{result['instructions'] / 1e6:.3f} M instructions" if "instructions" in result else ""
            print(f"{label:40} {figure}  {result['cpu_us']:.0f} us CPU  "
                  f"{len(result['statements'])} queries{' + health check' if result['health_check'] else ''}",
                  flush=True)
        print(json.dumps(results, indent=2))
    finally:
        for _, name in databases.values():
            if name:
                drop_database(venv, name)


if __name__ == "__main__":
    sys.exit(main())
