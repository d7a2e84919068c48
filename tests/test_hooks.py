import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import TEMPLATE_DIR

FORBIDDEN_IN_KEY = set("$'\"\\#` \t\n!")


def bake_cli(output, *answers):
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(output), str(TEMPLATE_DIR), *answers],
        capture_output=True, text=True, timeout=60,
    )


def env_values(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def test_env_file_for_local_development(cookies):
    result = cookies.bake()
    assert result.exit_code == 0, result.exception
    env_file = Path(result.project_path) / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = env_values(env_file)
    assert values["DEBUG"] == "True"
    assert values["DATABASE_URL"] == "sqlite:///db.sqlite3"
    key = values["DJANGO_SECRET_KEY"]
    assert len(key) >= 50 and len(set(key)) >= 20
    assert not FORBIDDEN_IN_KEY & set(key)
    assert not key.startswith("django-insecure")
    # Everything else in .env.example is carried over, commented.
    example = (Path(result.project_path) / ".env.example").read_text()
    for name in re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M):
        assert re.search(rf"^#?\s*{name}=", env_file.read_text(), re.M), name


def test_two_bakes_never_share_a_key_or_an_admin_url(tmp_path):
    keys, admin_urls = set(), set()
    for index in range(2):
        bake_cli(tmp_path / str(index)).check_returncode()
        values = env_values(tmp_path / str(index) / "my_api" / ".env")
        keys.add(values["DJANGO_SECRET_KEY"])
        admin_urls.add(values["DJANGO_ADMIN_URL"])
    assert len(keys) == 2
    assert len(admin_urls) == 2 and "admin/" not in admin_urls
    assert all(re.fullmatch(r"admin-[0-9a-f]{16}/", url) for url in admin_urls), admin_urls


def test_env_is_git_ignored(cookies):
    result = cookies.bake()
    project = Path(result.project_path)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    ignored = subprocess.run(["git", "check-ignore", ".env", "db.sqlite3", "staticfiles/x", "logs/app.log"],
                             cwd=project, capture_output=True, text=True)
    assert ignored.stdout.split() == [".env", "db.sqlite3", "staticfiles/x", "logs/app.log"]
    tracked = subprocess.run(["git", "check-ignore", ".env.example"], cwd=project)
    assert tracked.returncode == 1


def test_next_steps_are_printed(tmp_path):
    result = bake_cli(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pip install -r requirements-dev.txt" in result.stdout
    assert "manage.py runserver" in result.stdout
    assert "Deploy to Railway" in result.stdout


@pytest.mark.parametrize(
    "answer, message",
    [
        ("project_slug=My-App", "project_slug 'My-App' must be a lower-case Python identifier"),
        ("project_slug=2fast", "project_slug '2fast' must be a lower-case Python identifier"),
        ("project_slug=class", "project_slug 'class' is a Python keyword"),
        ("project_slug=django", "project_slug 'django' would shadow a module"),
        ("project_slug=config", "project_slug 'config' would shadow a module"),
        ("project_slug=tests", "project_slug 'tests' would shadow a module"),
        ("project_slug=json", "project_slug 'json' would shadow a module"),
        ("project_slug=rest_framework", "project_slug 'rest_framework' would shadow a module"),
        ("author_email=not-an-email", "author_email 'not-an-email' must be an e-mail address"),
        ("domain_name=https://example.com", "domain_name 'https://example.com' must be a host name only"),
        ("domain_name=exa mple.com", "domain_name 'exa mple.com' must be a lower-case host name"),
        ("domain_name=localhost", "domain_name 'localhost' must be a lower-case host name"),
        ("python_version=3.9", "python_version '3.9' must be one of 3.11, 3.12, 3.13"),
        ("timezone=Mars/Olympus", "timezone 'Mars/Olympus' must be an IANA time zone name"),
        ('project_name=Say "hi"', "project_name 'Say \"hi\"' must not contain quotes"),
    ],
)
def test_bad_answers_are_rejected_and_nothing_is_written(tmp_path, answer, message):
    result = bake_cli(tmp_path, answer)
    assert result.returncode != 0
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_django_6_needs_python_3_12(tmp_path):
    result = bake_cli(tmp_path, "python_version=3.11", "django_version=6.1")
    assert result.returncode != 0
    assert "django_version '6.1' needs python_version 3.12 or newer" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("ERROR")]) == 1
    assert list(tmp_path.iterdir()) == []
