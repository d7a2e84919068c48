"""config/settings.py and .env.example are laid out so that a template update and a user's edits
never touch the same lines: a bake, the edits the baked docs describe, then a later release that
adds a template app, a settings block and a variable where the layout says, merge with no
conflict (git merge-file: the 3-way merge `cruft update` performs)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from baking import NOT_TEMPLATE, bake_template

FILES = ("config/settings.py", ".env.example")


def next_release(template, dest):
    """A copy of the template with what a later release typically adds, where it adds it."""
    shutil.copytree(template, dest, ignore=NOT_TEMPLATE)
    project = dest / "{{cookiecutter.project_slug}}"
    settings = (project / "config/settings.py").read_text()
    settings = settings.replace('    "plumbing",\n]', '    "plumbing",\n    "webhooks",\n]', 1)
    banner = settings.index("# ====")
    block = '# --- Webhooks ---\nWEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10)\n\n'
    (project / "config/settings.py").write_text(settings[:banner] + block + settings[banner:])
    example = (project / ".env.example").read_text()
    end = example.index("\n# The template's variables end here")
    variable = "\n# Seconds to wait for a webhook receiver.\n# WEBHOOK_TIMEOUT=10"
    (project / ".env.example").write_text(example[:end] + variable + example[end:])
    return dest


def user_edits(project):
    """What the baked docs tell a user to do: an app, a time zone and language, own settings."""
    settings = (project / "config/settings.py").read_text()
    apps = settings.index("PROJECT_APPS = [")
    end = settings.index("\n]", apps)
    settings = settings[:end] + '\n    "orders",' + settings[end:]
    settings = re.sub(r"^TIME_ZONE = .*$", 'TIME_ZONE = "Europe/Paris"', settings, flags=re.M)
    settings = re.sub(r"^LANGUAGE_CODE = .*$", 'LANGUAGE_CODE = "fr-fr"', settings, flags=re.M)
    settings += '\nORDERS_PER_USER = env_int("ORDERS_PER_USER", 100)\nREST_FRAMEWORK["PAGE_SIZE"] = 50\n'
    (project / "config/settings.py").write_text(settings)
    with (project / ".env.example").open("a") as example:
        example.write("# Most open orders a user may have.\n# ORDERS_PER_USER=100\n")


def merge(user, base, new):
    """git merge-file's 3-way merge of base -> user and base -> new: (conflicts, merged text)."""
    merged = subprocess.run(["git", "merge-file", "-p", user, base, new], capture_output=True, text=True)
    return merged.returncode, merged.stdout


@pytest.mark.parametrize("options", [{}, {"use_sentry": False, "use_cors": False, "django_version": "6.1"}],
                         ids=["default", "6.1-minimal"])
def test_users_edits_and_a_template_release_merge_without_conflict(tmp_path, options):
    def bake(template, name):
        output = tmp_path / name
        return Path(cookiecutter(str(template), no_input=True, extra_context=options, output_dir=str(output)))

    base = bake(bake_template(), "base")
    new = bake(next_release(bake_template(), tmp_path / "next" / "template"), "new")
    user = tmp_path / "user"
    shutil.copytree(base, user)
    user_edits(user)
    merged = {name: merge(user / name, base / name, new / name) for name in FILES}
    assert {name: conflicts for name, (conflicts, _) in merged.items()} == dict.fromkeys(FILES, 0), merged
    settings, example = (text for _, text in merged.values())
    assert '    "files",\n    "orders",\n]' in settings and '"webhooks"' in settings
    assert 'TIME_ZONE = "Europe/Paris"' in settings and "WEBHOOK_TIMEOUT =" in settings
    assert settings.endswith('REST_FRAMEWORK["PAGE_SIZE"] = 50\n')
    assert "WEBHOOK_TIMEOUT=10" in example and example.endswith("# ORDERS_PER_USER=100\n")
