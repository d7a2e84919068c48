import os
import secrets
import shutil
from pathlib import Path

import pytest

from helpers import TEMPLATE_DIR, VenvCache, deploy_copy, production_env, run, venv_env, Server


@pytest.fixture(scope="session")
def venvs(tmp_path_factory):
    """Baked-project venvs, one per requirements hash. TEMPLATE_VENV_DIR keeps them across runs."""
    root = os.environ.get("TEMPLATE_VENV_DIR") or tmp_path_factory.mktemp("venvs")
    return VenvCache(root)


@pytest.fixture(scope="session")
def default_project(cookies_session):
    result = cookies_session.bake()
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


@pytest.fixture(scope="session")
def default_venv(venvs, default_project):
    return venvs.for_project(default_project)


@pytest.fixture(scope="session")
def deployed(default_project, default_venv, tmp_path_factory):
    """A clean checkout of the default bake, as Railway builds it (no .env)."""
    return deploy_copy(default_project, tmp_path_factory.mktemp("deploy") / "app"), default_venv


@pytest.fixture(scope="session")
def web(deployed, tmp_path_factory):
    """The default bake's Procfile web command with production variables on SQLite."""
    project, venv = deployed
    log = tmp_path_factory.mktemp("logs") / "web.log"
    server = Server(project, venv_env(venv, production_env(WEB_CONCURRENCY=2)), log)
    with server:
        yield server
