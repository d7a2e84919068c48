"""Every option value besides the default bake's passes the baked project's own checks (its suite,
linters, migrations and schema checks) and Django's deploy checks: the fast tier's widest test,
in a module of its own so that pytest-xdist runs it beside test_baked_project.py."""

import pytest

from baked_venvs import venv_env
from processes import run
from railway import production_env
from test_baked_project import ADMIN_URL, own_checks

VARIANTS = [
    {"use_sentry": False, "use_cors": True},
    {"use_sentry": True, "use_cors": False},
    {"use_sentry": False, "use_cors": False},
    {"python_version": "3.11"},
    {"python_version": "3.12"},
    {"django_version": "6.1"},
]


@pytest.mark.parametrize("options", VARIANTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_other_variants_pass_their_own_checks(cookies, venvs, options):
    """The default bake is covered in test_baked_project.py; every other option value gets the same checks."""
    result = cookies.bake(extra_context=options)
    assert result.exit_code == 0, result.exception
    project = result.project_path
    venv = venvs.for_project(project)
    pins = (project / "requirements.txt").read_text()
    assert f"Django=={options.get('django_version', '5.2')}." in pins
    if "python_version" in options:
        version = run(["python", "--version"], project, venv_env(venv, production_env())).stdout
        assert version.startswith(f"Python {options['python_version']}.")
    own_checks(project, venv)
    env = venv_env(venv, production_env(**ADMIN_URL))
    (project / ".env").unlink()  # as deployed: the local .env is git-ignored
    run(["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"], project, env)
