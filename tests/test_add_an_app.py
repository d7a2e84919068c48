"""The baked "Add an app" walkthrough (docs/add-an-app.md, linked from the README's section of
that name), followed to the letter on a fresh bake: a second app with a public image, a signed
webhook and a task, then the project's own tests, Schemathesis over the new endpoints included,
on SQLite and on PostgreSQL."""

import json
import re
import shutil
import textwrap

import pytest

from baked_venvs import venv_env
from processes import run
from railway import production_env

APPEND = re.compile(r"^(?:# |<!-- )at the end of (\S+?)(?: -->)?$")


def walkthrough(section):
    """The page's code blocks: ({path: source} of whole files, each a ```python block opening
    with `# path`; [(path, text)] to append, each a block opening with `at the end of path`)."""
    files, appends = {}, []
    for block in re.findall(r"```(?:python|ini|markdown)\n(.*?)```", section, re.S):
        source = textwrap.dedent(block)
        first, _, rest = source.partition("\n")
        if match := APPEND.match(first):
            appends.append((match.group(1), rest))
        else:
            files[first.removeprefix("# ").strip()] = source
    return files, appends


def append_to_list(text, opening, line):
    """Add `line` as the last item of the list that starts at `opening`."""
    start = text.index(opening)
    end = text.index("\n]", start)
    return text[:end] + "\n" + line + text[end:]


def fuzzed_paths(project, env):
    """The paths the project's Schemathesis test sent requests to (its JSON request log)."""
    result = run(["python", "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/test_schemathesis.py"],
                 project, env, timeout=600)
    paths = set()
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            paths.add(json.loads(line).get("path"))
    return paths


@pytest.fixture(scope="module")
def walked(default_project, default_venv, tmp_path_factory):
    """A copy of the default bake with the walkthrough followed to the letter, up to its last
    commands (the migrations, the formatter, the linter and the whole suite, on SQLite: the
    linter passes on the generated migration, which imports plumbing's upload_to and validator);
    returns (project, env, the suite's output)."""
    project = tmp_path_factory.mktemp("walkthrough") / "project"
    shutil.copytree(default_project, project, ignore=shutil.ignore_patterns("db.sqlite3*", "staticfiles"))
    env = venv_env(default_venv, production_env())
    readme_section = (project / "README.md").read_text().split("## Add an app\n")[1].split("\n## ")[0]
    assert "(docs/add-an-app.md)" in readme_section
    section = (project / "docs" / "add-an-app.md").read_text()
    files, appends = walkthrough(section)
    assert sorted(files) == ["orders/admin.py", "orders/models.py", "orders/serializers.py", "orders/tasks.py",
                             "orders/tests.py", "orders/urls.py", "orders/views.py"]
    assert [path for path, _ in appends] == ["config/settings.py", ".env.example", "docs/configuration.md"]

    assert "manage.py startapp orders" in section
    run(["python", "manage.py", "startapp", "orders"], project, env)
    settings, urls = project / "config/settings.py", project / "config/urls.py"
    assert 'add `"orders",` at the end of `PROJECT_APPS`' in section
    settings.write_text(append_to_list(settings.read_text(), "PROJECT_APPS = [", '    "orders",'))
    assert 'add `path("api/", include("orders.urls")),` to\n   `urlpatterns`' in section
    urls.write_text(append_to_list(urls.read_text(), "urlpatterns = [", '    path("api/", include("orders.urls")),'))
    for path, source in files.items():
        (project / path).write_text(source)
    for path, text in appends:
        target = project / path
        target.write_text(target.read_text().rstrip("\n") + "\n" + text)
    commands = re.findall(r"```bash\n(.*?)```", section, re.S)[-1]
    suite = run("set -e\n" + textwrap.dedent(commands).replace(".venv/bin/", ""), project, env, timeout=900)
    return project, env, suite.stdout


def test_add_an_app_walkthrough_works_as_written(walked):
    project, env, suite = walked
    assert re.search(r"\d+ passed", suite) and " failed" not in suite, suite[-3000:]
    assert (project / "orders/migrations/0001_initial.py").exists()
    run(["ruff", "format", "--check", "--no-cache", "."], project, env)  # as the baked CI checks
    schema = run(["python", "manage.py", "spectacular", "--fail-on-warn", "--validate"], project, env)
    for path in ("/api/orders/{id}/", "/api/products/", "/api/webhooks/stripe/"):
        assert path in schema.stdout
    assert "Stripe-Signature" in schema.stdout
    tests = run(["python", "-m", "pytest", "-v", "-p", "no:cacheprovider", "orders"], project, env)
    for name in ("test_each_user_sees_only_their_own_orders", "test_a_product_image_has_a_public_cacheable_url",
                 "test_a_paid_checkout_marks_the_order_paid_and_mails_the_receipt"):
        assert f"orders/tests.py::{name} PASSED" in tests.stdout


def test_schemathesis_reaches_the_new_app_without_being_told(walked):
    project, env, _ = walked
    assert {"/api/orders/", "/api/products/", "/api/webhooks/stripe/"} <= fuzzed_paths(project, env)


@pytest.mark.slow
def test_the_suite_with_the_new_app_passes_on_postgresql(walked, postgres_database):
    project, env, _ = walked
    postgres = {**env, "DATABASE_URL": postgres_database, "DATABASE_SSL_REQUIRE": "false"}
    suite = run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, postgres, timeout=900)
    assert re.search(r"\d+ passed", suite.stdout) and " failed" not in suite.stdout, suite.stdout[-3000:]
