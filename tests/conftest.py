import os
import tempfile
from pathlib import Path

import pytest

from baked_venvs import VenvCache, venv_env
from baking import TEMPLATE_DIR, bake_template
from railway import deploy_copy, production_env
from servers import Server
from services import create_database, drop_database, require_service


def pytest_configure(config):
    """pytest-cookies bakes the template without its .venv (see baking.bake_template)."""
    if os.path.abspath(config.option.template) == str(TEMPLATE_DIR):
        config.option.template = str(bake_template())


# The modules that take longest, longest first (each one's seconds on a worker, measured with the
# suite on 3 xdist workers on 2 cores). pytest-xdist (--dist loadfile, --no-loadscope-reorder in
# pyproject.toml) hands whole modules to its workers in collection order, so these start first
# and none is left running alone at the end.
LONGEST_FIRST = [
    "test_baked_variants.py",  # ~150: a venv and the own checks for every other option value
    "test_schemathesis.py",  # ~150: two 60 s fuzz runs
    "test_files.py",  # ~125: a 5 MB upload at 50 KB/s
    "test_slow_clients.py",  # ~105: honest uploads at 20 and 50 KB/s
    "test_production.py",  # ~95: the baked suite on PostgreSQL, twice
    "test_tasks.py",  # ~90: four web + worker stacks
    "test_readme.py",  # ~70: the walkthroughs, pip installs included
    "test_upgrade.py",  # ~65: a release baked, updated, its suite on PostgreSQL
    "test_hostile_http.py",  # ~60: the corpus (one case waits 15 s), 200 stalled bodies
    "test_baked_project.py",  # ~50: the default bake's own checks and deploy checks
    "test_backups.py",  # ~50: the backup drill, on both Django lines
    "test_scheduled_tasks.py",  # ~40: web, schedulers and workers on PostgreSQL
]


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each module's own order is kept


@pytest.fixture(scope="session", autouse=True)
def bake_tmpdir(tmp_path_factory):
    """TMPDIR inside pytest's own temporary tree: cookiecutter leaves its rendered hook scripts
    there for every bake, which pytest's retention of old runs then removes with the rest."""
    path = tmp_path_factory.mktemp("tmpdir")
    old = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = str(path), str(path)
    yield path
    if old[0] is None:
        del os.environ["TMPDIR"]
    else:
        os.environ["TMPDIR"] = old[0]
    tempfile.tempdir = old[1]


@pytest.fixture(scope="session")
def venvs(tmp_path_factory):
    """Baked-project venvs, one per requirements hash, shared by the run's pytest-xdist workers
    if any (in the parent of each worker's own temporary directory). TEMPLATE_VENV_DIR keeps them across runs."""
    run_tmp = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_tmp = run_tmp.parent
    return VenvCache(os.environ.get("TEMPLATE_VENV_DIR") or run_tmp / "venvs")


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
    """The default bake's Procfile web command: production variables, SQLite, 4 workers."""
    project, venv = deployed
    log = tmp_path_factory.mktemp("logs") / "web.log"
    server = Server(project, venv_env(venv, production_env(WEB_CONCURRENCY=4)), log)
    with server:
        yield server


@pytest.fixture(scope="session")
def variant(cookies_session, venvs, tmp_path_factory):
    """variant(django_version="6.1") -> (deployed checkout, venv) of a bake with those answers,
    baked and installed once per session."""
    made = {}

    def make(**options):
        key = tuple(sorted(options.items()))
        if key not in made:
            result = cookies_session.bake(extra_context=options)
            assert result.exit_code == 0, result.exception
            project = Path(result.project_path)
            made[key] = (deploy_copy(project, tmp_path_factory.mktemp("deploy") / "app"), venvs.for_project(project))
        return made[key]

    return make


@pytest.fixture
def postgres_database(default_venv):
    """A fresh PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    url, name = create_database(default_venv)
    yield url
    drop_database(default_venv, name)


@pytest.fixture
def server_factory(deployed, tmp_path):
    """Start more servers of the default bake (each with its own env); all stopped afterwards."""
    project, venv = deployed
    started = []

    def start(name="web", variant=None, **env):
        """Each server gets its own checkout, so SQLite files and static files are its own.
        variant: a (project, venv) pair from the `variant` fixture instead of the default bake."""
        source, python = variant or (project, venv)
        checkout = tmp_path / name
        if not checkout.exists():
            deploy_copy(source, checkout)
        server = Server(checkout, venv_env(python, production_env(**env)), tmp_path / f"{name}.log")
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
