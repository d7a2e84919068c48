"""Baking: the template as a user's clone has it, copied once per session for every bake."""

import atexit
import shutil
import tempfile
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
# What a bake never needs: a local .venv or caches in the template directory would be read (and
# copied, by the tests that copy the template) for nothing.
NOT_TEMPLATE = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".pytest_cache", "node_modules", "*.pyc")
_bake_template = []


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
