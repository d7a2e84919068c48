"""From the previous release to this working tree, the way a user gets there.

The previous release is the newest one CHANGELOG.md names with its commit. A clone of this
repository at that commit stands in for GitHub (git's `url.insteadOf`), so the commands run as
the READMEs give them, `gh:OWNER/REPO` included: bake with the template README's command, link
with cruft and add the `orders` app as that release's baked README says, change a setting and
the README, put rows in PostgreSQL; then the template moves on to this working tree, `cruft
update` runs (with -y: no prompt), and the post-update checklist of the updated docs runs as
written. Nothing may conflict, no edit may be lost, and the rows must still be there.
"""

import json
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from baked_venvs import venv_env
from baking import TEMPLATE_DIR
from services import create_database, drop_database, require_service
from test_add_an_app import append_to_list
from template_git import commit_working_tree, release_clone, releases

pytestmark = pytest.mark.slow

OWNER = "https://github.com/OWNER/"
TEMPLATE = "gh:OWNER/REPO"
# A fenced code block, indented or not (the steps of a numbered list are).
FENCE = re.compile(r"^[ \t]*```(\w*)[^\n]*\n(.*?)^[ \t]*```[ \t]*$", re.M | re.S)
# Unmerged paths in `git status --porcelain` (both sides changed, added or deleted).
UNMERGED = re.compile(r"^(DD|AU|UD|UA|DU|AA|UU) ", re.M)
USER_README = "Orders for the shop: see orders/ (our own app).\n"
TIME_ZONE = 'TIME_ZONE = "Europe/Paris"'


def previous_release():
    """(version, commit) of the newest release with a recorded commit: the one before this tree."""
    recorded = [(version, commit) for version, commit in releases() if commit]
    assert recorded, "CHANGELOG.md names no release with its commit"
    return recorded[0]


def section(project, title, holding):
    """The text under the heading `title` (any level) that holds `holding`, in the baked README
    or a baked docs/*.md file: releases move sections from one to the other."""
    for path in [project / "README.md", *sorted((project / "docs").glob("*.md"))]:
        text = path.read_text()
        for match in re.finditer(rf"^(#+) {re.escape(title)}\n", text, re.M):
            end = re.compile(rf"^#{{1,{len(match.group(1))}}} ", re.M).search(text, match.end())
            found = text[match.start(): end.start() if end else len(text)]
            if holding in found:
                return found
    raise AssertionError(f"no {title!r} section with {holding!r} in the baked README or docs/")


def blocks(text, language):
    return [textwrap.dedent(body) for lang, body in FENCE.findall(text) if lang == language]


def sh(script, cwd, env, timeout=600):
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    return result


def add_the_orders_app(project, env):
    """The release's "Add an app" steps: startapp, INSTALLED_APPS, the files, the URLs, then
    its commands (migrations, formatter, linter) but not its test run: the updated project's
    suite runs later, the orders test included."""
    steps = section(project, "Add an app", "```python")
    sh("python manage.py startapp orders", project, env)
    settings, urls = project / "config/settings.py", project / "config/urls.py"
    apps = apps_list(steps)
    settings.write_text(append_to_list(settings.read_text(), f"{apps} = [", '    "orders",'))
    for source in blocks(steps, "python"):
        path = source.partition("\n")[0].removeprefix("# ").strip()
        (project / path).write_text(source)
    assert 'add `path("api/", include("orders.urls")),` to' in steps
    urls.write_text(append_to_list(urls.read_text(), "urlpatterns = [", '    path("api/", include("orders.urls")),'))
    commands = blocks(steps, "bash")[-1]
    assert " && .venv/bin/pytest" in commands
    sh(commands.replace(" && .venv/bin/pytest", "").replace(".venv/bin/", ""), project, env)
    assert (project / "orders/migrations/0001_initial.py").exists()


def apps_list(steps):
    """The settings list the "Add an app" steps put a new app in (INSTALLED_APPS, PROJECT_APPS)."""
    named = re.search(r'add `"orders",` at the end of `([A-Z_]+)`', steps)
    assert named, "the Add an app steps no longer say which list the app goes in"
    return named.group(1)


def take_the_upgrade_notes(project):
    """What the CHANGELOG's upgrade notes ask of this user: the suite now fuzzes their own app,
    whose serializer (DRF's ModelSerializer, as the old walkthrough wrote it) turns a number sent
    for a text field into text; the note's fix is plumbing.fields.StrictModelSerializer."""
    assert "StrictModelSerializer" in (TEMPLATE_DIR / "CHANGELOG.md").read_text()
    path = project / "orders/serializers.py"
    text = path.read_text()
    assert "class OrderSerializer(serializers.ModelSerializer):" in text
    text = text.replace("from rest_framework import serializers\n", "from plumbing.fields import StrictModelSerializer\n")
    path.write_text(text.replace("(serializers.ModelSerializer)", "(StrictModelSerializer)"))


def make_the_users_edits(project):
    """A settings change and an extra installed app, and a line of their own in the README."""
    settings = project / "config/settings.py"
    text, count = re.subn(r'^TIME_ZONE = ".*"$', TIME_ZONE, settings.read_text(), flags=re.M)
    assert count == 1
    apps = apps_list(section(project, "Add an app", "```python"))
    settings.write_text(append_to_list(text, f"{apps} = [", '    "django.contrib.humanize",'))
    readme = project / "README.md"
    title, _, rest = readme.read_text().partition("\n")
    readme.write_text(f"{title}\n\n{USER_README}{rest}")


ROWS = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from orders.models import Order
user = get_user_model().objects.create_user("alice", "alice@example.com", "a-long-enough-passphrase")
Token.objects.create(user=user)
Order.objects.bulk_create([Order(owner=user, item="tea", quantity=2), Order(owner=user, item="cake")])
"""
READ_ROWS = """
from django.contrib.auth import get_user_model
from orders.models import Order
user = get_user_model().objects.get(username="alice")
assert user.check_password("a-long-enough-passphrase") and user.auth_token.key
print(sorted(Order.objects.filter(owner=user).values_list("item", "quantity")))
"""


def linked_bake(tmp_path, commit, *answers, readme_link=True):
    """A project baked at `commit` from gh:OWNER/REPO (a clone of this repository at that commit,
    reached through git's url.insteadOf) and linked with cruft as its README says; returns the
    template clone, the project, and the environment of the user's shell."""
    template = release_clone(tmp_path / "github" / "REPO.git", commit)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f'[url "{tmp_path / "github"}/"]\n\tinsteadOf = {OWNER}\n'
        "[user]\n\tname = Shop Dev\n\temail = dev@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    tools = Path(sys.executable).parent  # cookiecutter and cruft, as venvs of their own give them
    env = {"PATH": f"{tools}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "GIT_CONFIG_NOSYSTEM": "1",
           "TMPDIR": str(tmp_path)}
    work = tmp_path / "work"
    work.mkdir()
    sh(f"cookiecutter --no-input {TEMPLATE} {shlex.join(answers)}", work, env)
    project = work / "my_api"
    if not (project / ".git").exists():  # baked before the hook made the repository
        sh("git init -q && git add -A && git commit -qm 'First commit'", project, env)
    if readme_link:
        # The README's link block; cruft comes from the test venv, so not the lines installing it.
        link = blocks(section(project, "Template updates", "cruft link"), "bash")[0]
        assert f"cruft link --no-input {OWNER}REPO.git" in link, link
        link = "\n".join(line.replace("~/.venvs/cruft/bin/", "") for line in link.splitlines()
                         if not line.startswith("python3 -m venv") and "/pip install" not in line)
    else:  # older READMEs gave cruft the gh: address, which it cannot clone
        link = (f'cruft link --no-input {OWNER}REPO.git --extra-context "$(cat .cookiecutter.json)"\n'
                "git add .cruft.json && git commit -qm 'Link the project to its template with cruft'")
    sh(link, project, env)
    return template, project, env


def update_cleanly(template, project, env):
    """The template moves on to this working tree; `cruft update -y` must merge without a conflict."""
    commit_working_tree(template, "The next release")
    update = sh("cruft update -y", project, env)
    said = update.stdout + update.stderr
    assert "Failed to apply" not in said and "conflict" not in said.lower(), said
    status = sh("git status --porcelain", project, env).stdout
    assert not UNMERGED.search(status), status
    assert not list(project.rglob("*.rej")), status
    markers = sh("git grep -n -E '^(<<<<<<<|>>>>>>>) ' -- . || true", project, env).stdout
    assert markers.strip() == "", markers
    return status


def assert_the_users_edits_kept(project):
    settings = (project / "config/settings.py").read_text()
    assert TIME_ZONE in settings and '"django.contrib.humanize",' in settings
    assert USER_README in (project / "README.md").read_text()
    assert (project / "pyproject.toml").read_text().count("[tool.cruft]") == 1


def test_cruft_update_from_the_previous_release_keeps_the_users_app_settings_and_data(tmp_path, venvs):
    require_service("PostgreSQL", "127.0.0.1", 5432)
    version, commit = previous_release()
    template, project, base = linked_bake(tmp_path, commit)
    old = venvs.for_project(project)
    url, name = create_database(old)
    try:
        env = venv_env(old, {**base, "DATABASE_URL": url, "DATABASE_SSL_REQUIRE": "false"})
        add_the_orders_app(project, env)
        make_the_users_edits(project)
        sh('git add -A && git commit -qm "Orders, Paris time, humanize"', project, env)
        sh(f"python manage.py shell -v 0 -c {shlex.quote(ROWS)}", project, env)
        before = sh(f"python manage.py shell -v 0 -c {shlex.quote(READ_ROWS)}", project, env).stdout

        status = update_cleanly(template, project, base)
        print(f"cruft update {version} -> working tree:\n{status}")  # the conflict surface, for -s
        assert_the_users_edits_kept(project)
        assert '"orders",' in (project / "config/settings.py").read_text()
        assert 'path("api/", include("orders.urls")),' in (project / "config/urls.py").read_text()
        assert "orders/models.py" in sh("git ls-files orders", project, base).stdout

        take_the_upgrade_notes(project)
        # The updated docs' post-update checklist, as written, with the updated requirements.
        new = venvs.for_project(project)
        env = venv_env(new, {**base, "DATABASE_URL": url, "DATABASE_SSL_REQUIRE": "false"})
        checklist = blocks(section(project, "After an update", "migrate --plan"), "bash")[0]
        for step in ("pip install -r requirements-dev.txt", "migrate --plan", "pytest", "check --deploy"):
            assert step in checklist, f"the post-update checklist has no {step!r}"
        sh(checklist.replace(".venv/bin/", ""), project, env)
        sh("python manage.py migrate --check", project, env)
        after = sh(f"python manage.py shell -v 0 -c {shlex.quote(READ_ROWS)}", project, env).stdout
        assert after == before == "[('cake', 1), ('tea', 2)]\n"
    finally:
        drop_database(old, name)


# The CHANGELOG's preparation for projects baked from 2026.11.0 or earlier.
PREPARATION = re.compile(r"^\*\*Before the first update\*\*.*?^```bash\n(.*?)^```", re.M | re.S)
# The last commit of main before `[tool.cruft] skip` and the hook's cruft check (2026-11-23 22:45).
BEFORE_SKIP = "02038fa"


@pytest.mark.parametrize("baked_at, django", [(BEFORE_SKIP, "5.2"), ("previous release", "6.1")],
                         ids=["before-skip", "django-6.1"])
def test_preparation_then_update_from_an_older_project(tmp_path, baked_at, django):
    """A project whose .env entered cruft's copies (no skip yet), or a 6.1 project linked as 5.2:
    after the CHANGELOG's preparation the update merges without a .rej, on Django 6.1 lines."""
    commit = previous_release()[1] if baked_at == "previous release" else baked_at
    python = "python_version=3.13" if django == "6.1" else "python_version=3.12"
    template, project, env = linked_bake(tmp_path, commit, f"django_version={django}", python,
                                         readme_link=baked_at != BEFORE_SKIP)
    make_the_users_edits(project)
    sh('git commit -qam "Paris time, humanize, our README"', project, env)
    preparation = PREPARATION.search((TEMPLATE_DIR / "CHANGELOG.md").read_text())
    assert preparation, "CHANGELOG.md has no preparation block"
    sh(preparation.group(1), project, env)

    update_cleanly(template, project, env)
    assert_the_users_edits_kept(project)
    assert json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]["django_version"] == django
    assert f"\nDjango=={django}." in (project / "requirements.txt").read_text()
