"""What Railway does with a baked project: its production variables, the checkout it deploys,
its build step (railpack.json) and its Procfile lines."""

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from pathlib import Path

from processes import run

# Railway-like production environment for the baked project; each test adds what it needs.
RAILWAY_DOMAIN = "my-api-production.up.railway.app"
HTTPS = {"Host": RAILWAY_DOMAIN, "X-Forwarded-Proto": "https"}  # as Railway's edge forwards
PROBE = {"Host": "healthcheck.railway.app"}  # Railway's health probe (plain HTTP)


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
        # Uploads on the throwaway checkout's disk, served by the app; without this (and without
        # a bucket) the app refuses to start on Railway (tests/test_files.py shows it).
        "ALLOW_EPHEMERAL_MEDIA": "true",
        "WEB_CONCURRENCY": "2",
    }
    env.update({key: str(value) for key, value in extra.items()})
    return env


def deploy_copy(project, dest):
    """What Railway checks out: the git-tracked files, so no .env, db or staticfiles."""
    dest = Path(dest)
    shutil.copytree(
        project,
        dest,
        ignore=shutil.ignore_patterns(".env", "db.sqlite3*", "staticfiles", "staticfiles-manifest", "__pycache__", ".venv"),
    )
    return dest


def procfile_command(project, process="web"):
    for line in (Path(project) / "Procfile").read_text().splitlines():
        match = re.match(rf"^{process}:\s*(.+)$", line)
        if match:
            return match.group(1)
    raise AssertionError(f"no {process}: line in Procfile")


BUILD_OUTPUTS = ("staticfiles", "staticfiles-manifest")
NOT_BUILD_INPUT = {*BUILD_OUTPUTS, "__pycache__", ".venv", ".git", "logs", "media"}


def refusal_to_start(project, env):
    """Run the Procfile web command, which must refuse to start: the last line it wrote."""
    result = run(["sh", "-c", procfile_command(project)], project, env, timeout=120, check=False)
    assert result.returncode != 0, result.stdout
    return result.stderr.strip().splitlines()[-1]


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
