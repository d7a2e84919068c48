import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from baking import bake_template

OPTION_COMBINATIONS = [
    {"use_sentry": sentry, "use_cors": cors}
    for sentry, cors in itertools.product([True, False], repeat=2)
]
# A cookiecutter variable or raw block left in the text (Django templates keep their own
# {% if %} tags; ".cookiecutter.json" is a file name).
JINJA_LEFTOVER = re.compile(r"\{\{\s*cookiecutter|\{%-?\s*(raw|endraw)\b|(?<![\w.])cookiecutter\.")


def files_in(project):
    return [path for path in Path(project).rglob("*") if path.is_file()]


def assert_fully_rendered(project):
    for path in files_in(project):
        assert "{{" not in str(path.relative_to(project)), path
        text = path.read_text(encoding="utf-8", errors="replace")
        match = JINJA_LEFTOVER.search(text)
        assert match is None, f"unrendered Jinja in {path}: {match.group(0)!r}"


def test_default_bake(cookies):
    result = cookies.bake()
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert project.name == "my_api"
    for name in ["manage.py", "Procfile", "server.py", ".python-version", ".env.example",
                 ".gitignore", "README.md", "requirements.txt", "requirements-dev.txt",
                 "config/settings.py", "config/urls.py", "config/wsgi.py", "config/asgi.py",
                 "plumbing/views.py", "templates/400.html", "templates/403.html",
                 "templates/404.html", "templates/500.html", "tests/conftest.py"]:
        assert (project / name).is_file(), name
    assert (project / ".python-version").read_text().strip() == "3.13"
    assert_fully_rendered(project)


@pytest.mark.parametrize("options", OPTION_COMBINATIONS, ids=lambda o: json.dumps(o))
def test_every_option_combination_renders(cookies, options):
    result = cookies.bake(extra_context=options)
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert_fully_rendered(project)
    requirements = (project / "requirements.txt").read_text()
    settings = (project / "config/settings.py").read_text()
    assert ("sentry-sdk==" in requirements) is options["use_sentry"]
    assert (project / "plumbing/sentry.py").exists() is options["use_sentry"]
    assert ("SENTRY_DSN" in (project / ".env.example").read_text()) is options["use_sentry"]
    assert ("django-cors-headers==" in requirements) is options["use_cors"]
    assert ("corsheaders" in settings) is options["use_cors"]
    assert ("CORS_ALLOWED_ORIGINS" in (project / ".env.example").read_text()) is options["use_cors"]
    # Every pin is exact: this is what Railpack installs.
    for line in requirements.splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.match(r"^[A-Za-z0-9_.\-\[\]]+==[0-9][^\s]*$", line), line


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_python_version_is_written_for_railpack(cookies, version):
    result = cookies.bake(extra_context={"python_version": version})
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert (project / ".python-version").read_text().strip() == version
    assert f'target-version = "py{version.replace(".", "")}"' in (project / "pyproject.toml").read_text()


def test_slug_derived_from_name_and_custom_answers(cookies):
    result = cookies.bake(extra_context={
        "project_name": "Acme Order-Service", "domain_name": "api.acme.io", "timezone": "Europe/Paris",
    })
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert project.name == "acme_order_service"
    assert 'name = "acme_order_service"' in (project / "pyproject.toml").read_text()
    settings = (project / "config/settings.py").read_text()
    assert '"api.acme.io"' in settings and 'TIME_ZONE = "Europe/Paris"' in settings


@pytest.mark.parametrize(
    "name, slug",
    [("My-API v2.0", "my_api_v2_0"), ("Café API", "cafe_api"), ("O'Reilly Shop", "oreilly_shop"),
     ("Déjà Vu — Orders", "deja_vu_orders"), ("2fast API", "app_2fast_api")],
)
def test_slug_is_cleaned_from_real_project_names(cookies, name, slug):
    result = cookies.bake(extra_context={"project_name": name})
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert project.name == slug
    assert json.loads((project / ".cookiecutter.json").read_text())["project_slug"] == slug
    assert f'name = "{slug}"' in (project / "pyproject.toml").read_text()
    assert (project / "README.md").read_text().startswith(f"# {name}\n")
    assert_fully_rendered(project)


@pytest.mark.parametrize("answer, expected", [("no", False), ("yes", True), ("false", False), ("true", True)])
def test_command_line_booleans(tmp_path, answer, expected):
    subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), str(bake_template()),
         f"use_sentry={answer}", f"use_cors={answer}"],
        check=True, capture_output=True, text=True,
    )
    requirements = (tmp_path / "my_api" / "requirements.txt").read_text()
    assert ("sentry-sdk" in requirements) is expected
    assert ("django-cors-headers" in requirements) is expected
