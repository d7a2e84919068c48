import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent


def run_django(env, code, *args):
    """Run `code` after django.setup() in a fresh interpreter with `env` added to os.environ.

    Settings are read once at import, so each combination of variables needs its own process.
    Variables set to "" count as unset, and hide any value a local .env would supply.
    """
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code, *args],
        cwd=PROJECT_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def load_settings():
    """load(env, names) -> {name: value}, or {"error": stderr} if the settings refuse to load."""

    def load(env, names):
        code = (
            "import json, sys\nfrom django.conf import settings\n"
            "print(json.dumps({n: getattr(settings, n) for n in sys.argv[1:]}, default=str))"
        )
        result = run_django(env, code, *names)
        if result.returncode != 0:
            return {"error": result.stderr}
        return json.loads(result.stdout)

    return load


@pytest.fixture
def routes():
    """routes(env, paths) -> the paths that resolve to a view under those variables."""

    def resolvable(env, paths):
        code = (
            "import sys\nfrom django.urls import Resolver404, resolve\n"
            "for path in sys.argv[1:]:\n"
            "    try:\n        resolve(path)\n        print(path)\n"
            "    except Resolver404:\n        pass"
        )
        result = run_django(env, code, *paths)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    return resolvable
