"""The baked projects' venvs: one per (interpreter, requirements), shared between runs and
pytest-xdist workers, and how to run things with one."""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))


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


def venv_python(venv, code, *args):
    """Run Python code with the baked venv's interpreter (it has psycopg and redis)."""
    result = subprocess.run(
        [str(Path(venv) / "bin" / "python"), "-c", code, *args], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise AssertionError(result.stderr)
    return result.stdout
