"""The baked "Add an app" walkthrough (docs/add-an-app.md, linked from the README's section of
that name), followed to the letter on a fresh bake."""

import re
import shutil
import textwrap

from baked_venvs import venv_env
from processes import run
from railway import production_env


def walkthrough(section):
    """The page's Python files ({path: source}), each a code block opening with `# path`."""
    files = {}
    for block in re.findall(r"```python\n(.*?)```", section, re.S):
        source = textwrap.dedent(block)
        path, _, _ = source.partition("\n")
        files[path.removeprefix("# ").strip()] = source
    return section, files


def append_to_list(text, opening, line):
    """Add `line` as the last item of the list that starts at `opening`."""
    start = text.index(opening)
    end = text.index("\n]", start)
    return text[:end] + "\n" + line + text[end:]


def test_add_an_app_walkthrough_works_as_written(default_project, default_venv, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(default_project, project, ignore=shutil.ignore_patterns("db.sqlite3*", "staticfiles"))
    env = venv_env(default_venv, production_env())
    readme_section = (project / "README.md").read_text().split("## Add an app\n")[1].split("\n## ")[0]
    assert "(docs/add-an-app.md)" in readme_section
    section, files = walkthrough((project / "docs" / "add-an-app.md").read_text())
    assert sorted(files) == ["orders/admin.py", "orders/models.py", "orders/serializers.py",
                             "orders/tests.py", "orders/urls.py", "orders/views.py"]

    assert "manage.py startapp orders" in section
    run(["python", "manage.py", "startapp", "orders"], project, env)
    settings, urls = project / "config/settings.py", project / "config/urls.py"
    assert 'add `"orders",` at the end of `PROJECT_APPS`' in section
    settings.write_text(append_to_list(settings.read_text(), "PROJECT_APPS = [", '    "orders",'))
    assert 'add `path("api/", include("orders.urls")),` to\n   `urlpatterns`' in section
    urls.write_text(append_to_list(urls.read_text(), "urlpatterns = [", '    path("api/", include("orders.urls")),'))
    for path, source in files.items():
        (project / path).write_text(source)

    commands = re.findall(r"```bash\n(.*?)```", section, re.S)[-1]
    run("set -e\n" + textwrap.dedent(commands).replace(".venv/bin/", ""), project, env)  # venv on PATH
    assert (project / "orders/migrations/0001_initial.py").exists()
    run(["ruff", "format", "--check", "--no-cache", "."], project, env)  # as the baked CI checks
    schema = run(["python", "manage.py", "spectacular", "--fail-on-warn", "--validate"], project, env)
    assert "/api/orders/{id}/" in schema.stdout
    tests = run(["python", "-m", "pytest", "-v", "-p", "no:cacheprovider", "orders"], project, env)
    assert "orders/tests.py::test_each_user_sees_only_their_own_orders PASSED" in tests.stdout
