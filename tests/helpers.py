"""Shared machinery for the template tests: baking, baked-project venvs, running the Procfile."""

import atexit
import email.message
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
# What a bake never needs: a local .venv or caches in the template directory would be read (and
# copied, by the tests that copy the template) for nothing.
NOT_TEMPLATE = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".pytest_cache", "node_modules", "*.pyc")
_bake_template = []
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
IN_CI = bool(os.environ.get("CI"))

# Railway-like production environment for the baked project; each test adds what it needs.
RAILWAY_DOMAIN = "my-api-production.up.railway.app"
HTTPS = {"Host": RAILWAY_DOMAIN, "X-Forwarded-Proto": "https"}  # as Railway's edge forwards
PROBE = {"Host": "healthcheck.railway.app"}  # Railway's health probe (plain HTTP)
PASSWORD = "a-long-enough-passphrase"


def bake_template():
    """The template as a user's clone has it (no venv, caches or .git), copied once per session.

    Tests bake from this copy, through pytest-cookies (conftest sets its --template) or the CLI.
    """
    if not _bake_template:
        copy = Path(tempfile.mkdtemp(prefix="template-")) / TEMPLATE_DIR.name
        shutil.copytree(TEMPLATE_DIR, copy, ignore=NOT_TEMPLATE)
        atexit.register(shutil.rmtree, copy.parent, True)
        _bake_template.append(copy)
    return _bake_template[0]


def production_env(**extra):
    """Variables a Railway deploy has: no DEBUG, no .env, a real key, Railway's own names."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "RAILWAY_PUBLIC_DOMAIN": RAILWAY_DOMAIN,
        "RAILWAY_ENVIRONMENT_NAME": "production",
        # What a test does, not a deploy: SQLite in a throwaway checkout. Without this the app
        # refuses to start on Railway without DATABASE_URL (tests/test_accounts.py shows it).
        "ALLOW_EPHEMERAL_SQLITE": "true",
        "WEB_CONCURRENCY": "2",
    }
    env.update({key: str(value) for key, value in extra.items()})
    return env


def python_for(version):
    """An interpreter for `version` (pyenv's or on PATH), else the running one."""
    candidates = sorted(PYENV_ROOT.glob(f"versions/{version}.*/bin/python"), reverse=True)
    found = shutil.which(f"python{version}")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    return sys.executable


class VenvCache:
    """One venv per (interpreter, requirements), shared by every pytest-xdist worker of a run.

    The first worker that needs a venv builds it while holding a lock file for its key; any
    other worker that needs the same one waits on that lock, then reuses it. The "installed"
    marker is written last, so a venv left half-built (an interrupted run) is rebuilt.
    uv (from the template's test group) installs the exact baked requirements files: cold, it
    takes seconds where pip took a minute per venv. The baked README's own pip commands still
    run for real against these venvs (tests/test_readme.py).
    """

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def for_project(self, project):
        """The baked project's test venv: requirements-dev.txt, which includes requirements.txt."""
        names = ("requirements.txt", "requirements-dev.txt")
        files = {name: (Path(project) / name).read_text() for name in names}
        return self.with_requirements(project, files, "requirements-dev.txt")

    def with_requirements(self, project, files, install):
        """A venv with the project's Python and the requirements file `install` installed, from
        `files` ({file name: its text}, including any file it reads with -r)."""
        python = python_for((Path(project) / ".python-version").read_text().strip())
        digest = hashlib.sha256(python.encode())
        for name, text in sorted(files.items()):
            digest.update(f"{name}\0{text}\0".encode())
        key = digest.hexdigest()[:16]
        venv = self.root / key
        with open(self.root / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not (venv / "installed").exists():
                self._build(venv, python, files, install)
        return venv

    @staticmethod
    def _build(venv, python, files, install):
        from uv import find_uv_bin

        shutil.rmtree(venv, ignore_errors=True)
        uv = find_uv_bin()
        # --seed: pip in the venv, as `python3 -m venv` gives it (the README walkthrough uses it).
        subprocess.run([uv, "venv", "--quiet", "--seed", "--python", python, str(venv)], check=True)
        for name, text in files.items():
            (venv / name).write_text(text)
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
             "-r", str(venv / install)],
            check=True,
        )
        (venv / "installed").touch()


def venv_env(venv, env):
    """env with the venv's bin first on PATH, as if activated."""
    return {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}", "VIRTUAL_ENV": str(venv)}


def run(cmd, cwd, env, timeout=300, check=True):
    result = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, shell=isinstance(cmd, str)
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{cmd!r} exited {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def free_port():
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.bind(("::", 0))
        return sock.getsockname()[1]


def procfile_command(project, process="web"):
    for line in (Path(project) / "Procfile").read_text().splitlines():
        match = re.match(rf"^{process}:\s*(.+)$", line)
        if match:
            return match.group(1)
    raise AssertionError(f"no {process}: line in Procfile")


def deploy_copy(project, dest):
    """What Railway checks out: the git-tracked files, so no .env, db or staticfiles."""
    dest = Path(dest)
    shutil.copytree(
        project,
        dest,
        ignore=shutil.ignore_patterns(".env", "db.sqlite3*", "staticfiles", "staticfiles-manifest", "__pycache__", ".venv"),
    )
    return dest


class Http:
    """Minimal HTTP client over urllib: never follows redirects, returns (status, headers, body)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(self._NoRedirect)

    def request(self, method, path, headers=None, body=None, timeout=30):
        req = urllib.request.Request(self.base_url + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def get(self, path, headers=None, **kwargs):
        return self.request("GET", path, headers=headers, **kwargs)


def raw_request(port, head, body_parts, pace=None, timeout=200):
    """Send head + body parts over one connection (sleeping `pace` seconds before each part,
    when given) while reading the answer; return the answer's bytes. Sending stops quietly if
    the server answers early and closes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send():
        try:
            sock.sendall(head)
            for index, part in enumerate(body_parts):
                if pace:
                    pace(index)
                sock.sendall(part)
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and len(answer) >= answer_length(answer):
                break
    except OSError:
        pass
    sock.close()
    sender.join(timeout=5)
    return answer


def answer_length(answer):
    """The answer's full length once its head is in (infinite while a chunked one is open)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    if body.endswith(b"0\r\n\r\n"):
        return len(answer)
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return float("inf")


def request_answered_early(server, method, path, headers, body):
    """(status, headers, body) for a request the server may answer before reading its body (a
    413 from the Content-Length): urllib sends the whole body first, and when the server has
    closed by then it loses the answer to a broken pipe. This reads while it sends."""
    fields = {**headers, "Content-Length": str(len(body)), "Connection": "close"}
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    answer = raw_request(server.port, (head + "\r\n").encode(), [body], timeout=30)
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    message = email.message.Message()
    for line in lines:
        name, _, value = line.partition(":")
        message[name.strip()] = value.strip()
    return int(status_line.split()[1]), message, content


BUILD_OUTPUTS = ("staticfiles", "staticfiles-manifest")
NOT_BUILD_INPUT = {*BUILD_OUTPUTS, "__pycache__", ".venv", ".git", "logs", "media"}


def railpack_build_commands(project):
    """The commands the project's railpack.json adds to Railpack's build step ("..." stands for
    Railpack's own commands: none for a pip project)."""
    config = json.loads((Path(project) / "railpack.json").read_text())
    return [command for command in config["steps"]["build"]["commands"] if command != "..."]


def railway_build(project, env):
    """Run the build step in a checkout, as Railway does before it makes the image. Its output
    (the static files) is kept beside the venv, per source tree, and copied into later checkouts:
    compressing the static files takes seconds, and tests start many servers."""
    project = Path(project)
    commands = railpack_build_commands(project) if (project / "railpack.json").exists() else []
    if not commands:
        return
    digest = hashlib.sha256(json.dumps(commands).encode())
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if path.is_file() and not NOT_BUILD_INPUT & set(relative.parts) and not path.name.startswith((".env", "db.sqlite3")):
            digest.update(f"{relative}\0".encode() + path.read_bytes())
    cache = Path(env["VIRTUAL_ENV"]) / "builds" / digest.hexdigest()[:16]
    cache.parent.mkdir(exist_ok=True)
    with open(f"{cache}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "built").exists():
            for command in commands:
                run(command, project, env)
            shutil.rmtree(cache, ignore_errors=True)
            for name in BUILD_OUTPUTS:
                shutil.copytree(project / name, cache / name)
            (cache / "built").touch()
    for name in BUILD_OUTPUTS:
        if not (project / name).exists():
            shutil.copytree(cache / name, project / name)


class Server:
    """The Procfile web command, run as Railway runs it (sh -c, PORT set), in its own process group.
    A checkout without static files is first built, as Railway builds (railpack.json)."""

    def __init__(self, project, env, log_path, startup_timeout=90):
        self.project = Path(project)
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log_path = Path(log_path)
        self.startup_timeout = startup_timeout
        self.http = Http(f"http://127.0.0.1:{self.port}")
        self.process = None

    def build(self):
        if not (self.project / "staticfiles-manifest").exists():
            railway_build(self.project, self.env)
        return self

    def start(self):
        self.build()
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            ["sh", "-c", procfile_command(self.project)],
            cwd=self.project,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"web command exited {self.process.returncode}:\n{self.output()}")
            try:
                status, _, _ = self.http.get("/health/", {"Host": "healthcheck.railway.app"}, timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"web command not healthy after {self.startup_timeout}s:\n{self.output()}")

    def output(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def log_records(self):
        """Every line the server wrote, parsed as JSON (raises if one is not)."""
        return [json.loads(line) for line in self.output().splitlines() if line.strip()]

    def stop(self, sig=signal.SIGTERM, timeout=40):
        """Signal the main process as Railway does on redeploy; return its exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise
        finally:
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- Local services (PostgreSQL and Redis on 127.0.0.1) -----------------------------------------
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


def venv_python(venv, code, *args):
    """Run Python code with the baked venv's interpreter (it has psycopg and redis)."""
    result = subprocess.run(
        [str(Path(venv) / "bin" / "python"), "-c", code, *args], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise AssertionError(result.stderr)
    return result.stdout


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


def window_left(value, period):
    """Seconds left in django-ratelimit's fixed window for `value` (its _get_window arithmetic:
    windows end at a per-value offset, crc32(value) % period)."""
    now = int(time.time())
    end = now - (now % period) + (zlib.crc32(value.encode()) % period)
    return end - now if end >= now else end + period - now


def fresh_client_ip(period=60, margin=20):
    """A random client address whose window has `margin` seconds left, so a test's requests
    all land in one window."""
    while True:
        ip = f"203.0.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        if window_left(ip, period) >= margin:
            return ip


def wait_for_fresh_window(value, period=60, margin=20):
    """For a fixed value (a TCP peer address): sleep until its window has `margin` seconds left."""
    left = window_left(value, period)
    if left < margin:
        time.sleep(left + 1)


def concurrently(function, count):
    """Call function(index) from `count` threads released at the same moment; return the results."""
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(count)

    def call(index):
        barrier.wait()
        return function(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


def api(server, method, path, body=None, token=None, ip=None, **extra):
    """A JSON API call as Railway's edge forwards it, from client address `ip` (by default a
    fresh one, so no rate-limit bucket is shared with another test)."""
    headers = {**HTTPS, "Content-Type": "application/json", "X-Real-IP": ip or fresh_client_ip(), **extra}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    return server.http.request(method, path, headers, data)


def signup(server):
    """A new user's token, signed up from an address of its own (the signup limit is 3/h)."""
    username = f"u{secrets.token_hex(4)}"
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    status, _, response = api(server, "POST", "/api/auth/signup/", body, ip=fresh_client_ip(period=3600))
    assert status == 201, response
    return json.loads(response)["token"]


def staff_token(server):
    """A superuser's token (createsuperuser, then the login API)."""
    run(
        ["python", "manage.py", "createsuperuser", "--noinput", "--username", "ops", "--email", "ops@example.com"],
        server.project,
        {**server.env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
    )
    status, _, body = api(server, "POST", "/api/auth/login/", {"username": "ops", "password": PASSWORD})
    assert status == 200, body
    return json.loads(body)["token"]
