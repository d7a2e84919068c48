"""The field's reference as a third side of bench/run.py: cookiecutter-django's production stack.

Nothing of cookiecutter-django is kept in this repository. Get its source yourself, at the
release the docs name, and point bench/run.py at it:

    git clone --depth 1 --branch 2026.8.18 https://github.com/cookiecutter/cookiecutter-django /tmp/ccd
    python bench/run.py --database postgres --cookiecutter-django /tmp/ccd   # or CCD_SOURCE=/tmp/ccd

What this module does with it, in a temporary directory:
- bakes a copy with DRF, WhiteNoise, no cloud storage, Mailgun (its default), without Docker,
  with its Heroku option on (the only way it keeps its `Procfile`).
  Its post-generation hook ends with `uv add -r requirements/...`, which needs the network and
  then deletes `requirements/`: the copy's hook has that one call (`setup_dependencies()`)
  replaced by `pass`, so the bake runs offline and keeps the requirements files;
- installs `requirements/production.txt` (which reads base.txt) on our project's Python, since
  its own 3.14 may be missing, and compiles the venv to bytecode as pip does at install;
- runs its Procfile `release:` line (migrate), creates a user and a DRF token, and starts its
  Procfile `web:` line (`gunicorn config.wsgi:application`) with WEB_CONCURRENCY processes and
  the variables `config.settings.production` requires.
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from baked_venvs import venv_env
from http_clients import Http
from processes import free_port, run

RELEASE = "2026.8.18"
CONTEXT = {
    "project_name": "Reference",
    "project_slug": "reference",
    "rest_api": "DRF",
    "use_whitenoise": "y",
    "cloud_provider": "None",
    "use_docker": "n",
    "use_heroku": "y",  # keeps its Procfile (a Heroku-style web: line, as Railway reads it)
    "ci_tool": "None",
}
HOOK_CALL = "\n    setup_dependencies()\n"
TOKEN = """
import django
django.setup()
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "b@example.com"})
print(Token.objects.get_or_create(user=user)[0].key)
"""


def source_from(option):
    """The cookiecutter-django checkout given by --cookiecutter-django or CCD_SOURCE, or None."""
    path = option or os.environ.get("CCD_SOURCE")
    if not path:
        return None
    path = Path(path)
    if not (path / "cookiecutter.json").exists() or not (path / "hooks" / "post_gen_project.py").exists():
        raise SystemExit(f"{path}: not a cookiecutter-django checkout (see bench/cookiecutter_django.py)")
    return path


def bake(source, workdir):
    """Bake cookiecutter-django offline; return the project's path."""
    from cookiecutter.main import cookiecutter

    copy = Path(workdir) / "ccd-template"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".git"))
    hook = copy / "hooks" / "post_gen_project.py"
    text = hook.read_text()
    if text.count(HOOK_CALL) != 1:
        raise SystemExit(f"{hook}: expected one setup_dependencies() call to skip; has the hook changed?")
    hook.write_text(text.replace(HOOK_CALL, "\n    pass  # the uv step, skipped: it needs the network\n"))
    output = Path(workdir) / "ccd"
    return Path(cookiecutter(str(copy), no_input=True, extra_context=CONTEXT, output_dir=str(output)))


def venv(project, python_project, venvs):
    """requirements/production.txt on the Python of `python_project` (ours)."""
    requirements = project / "requirements"
    files = {name: (requirements / name).read_text() for name in ("base.txt", "production.txt")}
    path = venvs.with_requirements(python_project, files, "production.txt")
    subprocess.run([str(path / "bin" / "python"), "-m", "compileall", "-q", "-j", "0",
                    str(next((path / "lib").glob("python3*/site-packages")))], check=True)
    return path


def environment(venv_path, base_env, database_url, redis_url, workers):
    """What config.settings.production needs: it reads each of these with no default."""
    return venv_env(venv_path, {
        **base_env,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_ALLOWED_HOSTS": "*",
        "DJANGO_ADMIN_URL": "admin/",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,  # its cache; the token endpoint does not touch it
        "MAILGUN_API_KEY": "bench-unused",
        "MAILGUN_DOMAIN": "example.com",
        "WEB_CONCURRENCY": str(workers),  # gunicorn reads it
    })


def procfile(project, process):
    for line in (project / "Procfile").read_text().splitlines():
        match = re.match(rf"^{process}:\s*(.+)$", line)
        if match:
            return match.group(1)
    raise SystemExit(f"cookiecutter-django's Procfile has no {process}: line")


def start(project, env, log_path, cpus=None):
    """Migrate, make a token, collect static files, start the web: line; (process, port, token)."""
    run(procfile(project, "release"), project, env, timeout=600)
    run(["python", "manage.py", "collectstatic", "--noinput", "-v", "0"], project, env, timeout=600)
    token = run(["python", "-c", TOKEN], project, env).stdout.strip().splitlines()[-1]
    port = free_port()
    # As Railway runs a Procfile line: sh -c, PORT set (gunicorn binds 0.0.0.0:$PORT).
    # exec: gunicorn's master replaces the shell, so its workers are the process's children
    # (bench/run.py reads their memory there), as in a container.
    command = f"{procfile(project, 'web')} --no-control-socket"
    command = f"exec taskset -c {cpus} {command}" if cpus else f"exec {command}"
    log = Path(log_path).open("wb")
    process = subprocess.Popen(["sh", "-c", command], cwd=project, env={**env, "PORT": str(port)},
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    http = Http(f"http://127.0.0.1:{port}")
    headers = {"X-Forwarded-Proto": "https", "Authorization": f"Token {token}"}
    for _ in range(300):
        try:
            if http.get("/api/users/me/", headers)[0] == 200:
                return process, port, token
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"cookiecutter-django did not answer /api/users/me/ (log: {log_path})")
