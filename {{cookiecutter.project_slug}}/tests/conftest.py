import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def load_settings():
    """Import config.settings in a fresh interpreter with `env` and return chosen values.

    Settings are read once at import, so each combination of variables needs its own process.
    Variables set to "" count as unset, and hide any value a local .env would supply.
    """

    def load(env, names):
        code = (
            "import json, sys, django; from django.conf import settings; django.setup(); "
            "print(json.dumps(dict((n, getattr(settings, n)) for n in sys.argv[1:]), default=str))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, *names],
            cwd=PROJECT_DIR,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            return {"error": result.stderr}
        return json.loads(result.stdout)

    return load
