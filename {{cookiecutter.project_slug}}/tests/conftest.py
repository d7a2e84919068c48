import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def load_settings(monkeypatch):
    """load_settings(env) -> config/settings.py's names, run again in this process with the
    variables in `env` set. A variable set to "" counts as unset, and hides any value a local
    .env supplied. (Django's own settings, and every other test, are left as they were.)"""

    def load(env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(PROJECT_DIR / "config" / "settings.py"))

    return load


def run_django(env, code, *args):
    """Run `code` after django.setup() in a new interpreter, with `env` added to os.environ:
    for what only a process of its own shows, such as a refusal to start."""
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code, *args],
        cwd=PROJECT_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
