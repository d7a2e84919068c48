"""Static files are collected once per deploy, in Railway's build step (the baked railpack.json),
not at every start: the build runs with the service's variables and no reachable database, and
the web command refuses to start, in one line, on an image built without them."""

import shutil

import pytest

from baked_venvs import venv_env
from processes import run
from railway import deploy_copy, production_env, railpack_build_commands

# What Railway gives a build: the service's variables (a reference to the database service
# resolves to its private host, unreachable from the builder), no .env, no database.
RAILWAY_BUILD = {"DATABASE_URL": "postgresql://postgres:secret@postgres.railway.internal:5432/railway",
                 "ALLOW_EPHEMERAL_SQLITE": ""}


@pytest.fixture
def checkout(default_project, tmp_path):
    return deploy_copy(default_project, tmp_path / "app")


def build(checkout, env):
    return run(" && ".join(railpack_build_commands(checkout)), checkout, env, check=False)


@pytest.mark.slow
def test_the_build_collects_compressed_static_files_without_a_database(checkout, default_venv):
    assert railpack_build_commands(checkout) == ["python manage.py collectstatic --noinput"]
    result = build(checkout, venv_env(default_venv, production_env(**RAILWAY_BUILD)))
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = checkout / "staticfiles-manifest" / "staticfiles.json"
    assert manifest.is_file() and not (checkout / "staticfiles" / "staticfiles.json").exists()
    bundles = list((checkout / "staticfiles" / "drf_spectacular_sidecar").rglob("swagger-ui-bundle.*.js"))
    assert bundles and all(bundle.with_name(bundle.name + ".br").is_file() for bundle in bundles)
    assert "collectstatic" not in (checkout / "Procfile").read_text()  # no longer at every start


def test_a_build_without_the_secret_key_stops_in_one_line(checkout, default_venv):
    env = venv_env(default_venv, production_env(**RAILWAY_BUILD))
    del env["DJANGO_SECRET_KEY"]
    result = build(checkout, env)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is not set")


def test_the_web_command_refuses_to_start_without_collected_static_files(checkout, default_venv):
    shutil.rmtree(checkout / "staticfiles", ignore_errors=True)
    web = (checkout / "Procfile").read_text().splitlines()[0].removeprefix("web:").strip()
    result = run(["sh", "-c", web], checkout, venv_env(default_venv, production_env()), check=False, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Static files were not collected (no staticfiles-manifest/staticfiles.json): run `python manage.py"
        " collectstatic --noinput` before the server, as Railway's build does (railpack.json; a custom"
        " Build Command in the service's settings replaces it)."
    ]
