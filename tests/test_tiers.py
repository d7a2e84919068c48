"""The fast tier's contract (CONTRIBUTING.md): `-m "not slow"` starts nothing (no server,
service, worker, browser or fuzzer) and still bakes every option, runs the hooks and the render
checks, and runs each bake's own suite and linters. The command CONTRIBUTING.md gives is
collected here, as written, in a pytest of its own, with a small plugin that reports what each
collected test is marked with, which fixtures it uses and what its module imports."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from test_baked_variants import VARIANTS

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
FAST_TIER = '.venv/bin/pytest -m "not slow"'

# What starts something: the Procfile server, the local services and their stand-ins, the
# slow-client and TLS-edge machinery, a browser, a fuzzer. A module that imports one of these
# (or a name from them) must mark every test slow; a test that uses one of the fixtures must be
# slow itself.
STARTER_MODULES = {"servers", "fakes", "stalling", "edge", "slow_clients", "playwright", "schemathesis", "moto", "aiosmtpd"}
STARTER_NAMES = {"services.RedisProcess", "services.require_service", "services.create_database"}
STARTER_FIXTURES = {"web", "server_factory", "postgres_database"}
STARTER_MARKERS = {"server", "worker"}

# What the fast tier must hold: {module: tests that must all be in it (None: every test)}.
PROMISED = {
    "test_bake.py": ["test_every_option_combination_renders"],  # every option, rendered
    "test_hooks.py": None,  # the hooks
    "test_baked_docs.py": None,  # render checks of the baked docs
    "test_settings_layout.py": None,
    "test_baked_project.py": ["test_own_checks_pass", "test_deploy_checks_pass_with_production_variables"],
    "test_baked_variants.py": None,  # each other bake's own suite, ruff and checks
    "test_baked_tooling.py": ["test_pre_commit_hooks_match_the_pinned_tools_and_pass"],  # linters
}

REPORTER = '''
import json, os, types

DESELECTED = []


def pytest_deselected(items):
    DESELECTED.extend(items)


def describe(items, modules):
    described = []
    for item in items:
        module = item.module
        if module.__name__ not in modules:
            origins = set()
            for name, value in vars(module).items():
                origin = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
                if origin and origin != module.__name__:
                    origins.add(origin.split(".")[0])
                    origins.add(f"{origin}.{name}")
            modules[module.__name__] = sorted(origins)
        described.append({"id": item.nodeid, "module": module.__name__,
                          "markers": sorted({mark.name for mark in item.iter_markers()}),
                          "fixtures": sorted(item.fixturenames)})
    return described


def pytest_collection_finish(session):
    modules = {}
    report = {"selected": describe(session.items, modules), "deselected": describe(DESELECTED, modules)}
    with open(os.environ["TIER_REPORT"], "w") as out:
        json.dump({**report, "modules": modules}, out)
'''


def collect(command, tmp_path):
    """The tests `command` (a pytest command line) selects and deselects, with what the reporter
    says of each and of the modules' imports."""
    (tmp_path / "tier_reporter.py").write_text(REPORTER)
    args = shlex.split(command)
    assert Path(args[0]).name == "pytest", command
    env = {**os.environ, "TIER_REPORT": str(tmp_path / "report.json"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args[1:], "--collect-only", "-q", "-n", "0", "-p", "tier_reporter",
         "-p", "no:cacheprovider"],
        cwd=TEMPLATE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((tmp_path / "report.json").read_text())


def fast_tier_command():
    """The command CONTRIBUTING.md gives for every change: one fenced line with `not slow`."""
    lines = (TEMPLATE_DIR / "CONTRIBUTING.md").read_text().splitlines()
    commands = [line for line in lines if "not slow" in line and line.startswith(".venv/bin/pytest")]
    assert commands == [FAST_TIER], commands
    return commands[0]


@pytest.fixture(scope="module")
def fast_tier(tmp_path_factory):
    return collect(fast_tier_command(), tmp_path_factory.mktemp("tiers"))


def test_the_fast_tier_starts_nothing(fast_tier):
    assert fast_tier["selected"], "the fast tier collected nothing"
    wrong = []
    for item in fast_tier["selected"]:
        imported = set(fast_tier["modules"][item["module"]])
        reasons = sorted(
            (STARTER_MARKERS & set(item["markers"]))
            | (STARTER_FIXTURES & set(item["fixtures"]))
            | (imported & (STARTER_MODULES | STARTER_NAMES))
        )
        if reasons:
            wrong.append(f"{item['id']}: {', '.join(reasons)}")
    assert not wrong, "in the fast tier but starts something (mark it slow):\n" + "\n".join(wrong)


def test_the_fast_tier_holds_what_it_promises(fast_tier):
    """Bakes of every option, the hooks, the render checks, each bake's own suite and linters:
    their tests exist and none of them is left out of the fast tier."""
    fast = {item["id"] for item in fast_tier["selected"]}
    everything = fast | {item["id"] for item in fast_tier["deselected"]}
    for module, tests in PROMISED.items():
        ids = [nodeid for nodeid in everything if nodeid.startswith(f"tests/{module}::")]
        if tests is not None:
            ids = [nodeid for nodeid in ids if nodeid.split("::")[1].split("[")[0] in tests]
            assert {nodeid.split("::")[1].split("[")[0] for nodeid in ids} == set(tests), module
        assert ids, module
        assert not [nodeid for nodeid in ids if nodeid not in fast], f"{module}: not in the fast tier"


def test_every_option_value_passes_its_own_checks_in_the_fast_tier():
    """The default bake (test_baked_project.py) and the variants (test_baked_variants.py)
    together give every choice and yes/no option each of its values."""
    choices = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    options = {key: value if isinstance(value, list) else [True, False]
               for key, value in choices.items() if not key.startswith("_") and isinstance(value, (list, bool))}
    for key, values in options.items():
        default = choices[key][0] if isinstance(choices[key], list) else choices[key]
        covered = {default} | {variant[key] for variant in VARIANTS if key in variant}
        assert covered == set(values), (key, covered)


def test_ci_runs_the_full_suite():
    """.ci/run's last line (the README's command, tests/test_readme.py) selects no tier."""
    command = (TEMPLATE_DIR / ".ci" / "run").read_text().splitlines()[-1]
    assert command.endswith(".venv/bin/pytest"), command
