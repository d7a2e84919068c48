"""Install the baked project and run its own commands, as its users and its CI would."""

import re

from baked_venvs import venv_env
from processes import run
from railway import production_env


def own_checks(project, venv):
    """What the baked project's own CI runs (.github/workflows/ci.yml), on SQLite."""
    env = venv_env(venv, production_env())
    run(["ruff", "check", "--no-cache", "."], project, env)
    run(["ruff", "format", "--check", "--no-cache", "."], project, env)
    run(["python", "manage.py", "makemigrations", "--check", "--dry-run"], project, env)
    schema = run(["python", "manage.py", "spectacular", "--fail-on-warn", "--validate"], project, env)
    assert "/api/auth/login/" in schema.stdout
    tests = run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env)
    passed = int(re.search(r"(\d+) passed", tests.stdout).group(1))
    assert passed >= 10 and " failed" not in tests.stdout and " skipped" not in tests.stdout


def test_own_checks_pass(default_project, default_venv):
    own_checks(default_project, default_venv)


# As the baked README's Railway table says: a hard-to-guess admin path.
ADMIN_URL = {"DJANGO_ADMIN_URL": "admin-0f3e5c7a9b1d2e4f/"}


def test_deploy_checks_pass_with_production_variables(deployed):
    project, venv = deployed
    result = run(["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"], project,
                 venv_env(venv, production_env(**ADMIN_URL)))
    # django-ratelimit's "backend not in my list" warning, for the atomic database store, and
    # the HSTS includeSubDomains/preload warnings while those later rollout stages are off.
    assert "no issues (3 silenced)" in result.stdout
    final_stage = production_env(
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true", SECURE_HSTS_PRELOAD="true", **ADMIN_URL
    )
    result = run(["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"], project,
                 venv_env(venv, final_stage))
    assert "no issues (1 silenced)" in result.stdout


def test_deploy_checks_warn_about_the_default_admin_url(deployed):
    project, venv = deployed
    result = run(["python", "manage.py", "check", "--deploy"], project, venv_env(venv, production_env()))
    assert "(plumbing.W001) The admin is served at the guessable /admin/." in result.stderr
    # Silenced: django-ratelimit's backend warning and the two later HSTS stages (docs/security.md).
    assert "System check identified 1 issue (3 silenced)" in result.stderr


def test_missing_secret_key_stops_startup_with_its_name(deployed):
    project, venv = deployed
    env = venv_env(venv, production_env())
    del env["DJANGO_SECRET_KEY"]
    result = run(["python", "manage.py", "check"], project, env, check=False)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
