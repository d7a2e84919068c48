"""The baked project's quality gates: CI workflow, pre-commit, Dependabot, recorded answers."""

import filecmp
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BIN = Path(sys.executable).parent


def requirement_pins(project):
    pins = {}
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (project / name).read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]+\])?==(\S+)$", line)
            if match:
                pins[match.group(1).lower()] = match.group(2)
    return pins


def test_ci_workflow_runs_every_gate_on_postgres(default_project):
    text = (default_project / ".github/workflows/ci.yml").read_text()
    assert "${{ github.ref }}" in text  # GitHub expressions survive Jinja
    workflow = yaml.safe_load(text)
    job = workflow["jobs"]["test"]
    assert job["services"]["postgres"]["image"].startswith("postgres:")
    assert job["env"]["DATABASE_URL"].startswith("postgresql://")
    steps = job["steps"]
    setup_python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python"))
    assert setup_python["with"]["cache"] == "pip"
    commands = "\n".join(step.get("run", "") for step in steps)
    for expected in [
        "pip install -r requirements-dev.txt",
        "ruff check .",
        "ruff format --check .",
        "python manage.py makemigrations --check --dry-run",
        "python manage.py check --deploy --fail-level WARNING",
        "python manage.py spectacular --fail-on-warn",
        "pytest",
        "pip-audit --strict --requirement requirements.txt",
    ]:
        assert expected in commands, expected
    assert "DEBUG=False" in commands and "DJANGO_SECRET_KEY=" in commands
    assert "DJANGO_ADMIN_URL=" in commands  # the admin-path check passes only with one


# Steps the runner below does not run: the install is the shared venv, pytest is proven by
# test_baked_project.py, pip-audit needs the vulnerability service.
NOT_RUN_HERE = ("pip install -r requirements-dev.txt", "pytest", "pip-audit")


@pytest.mark.slow  # PostgreSQL
def test_ci_workflow_steps_pass_as_baked(deployed, postgres_database, tmp_path):
    """The workflow's own `run:` steps, in order, as GitHub's runner runs them: bash -e, the
    job's env (with this machine's PostgreSQL), GITHUB_ENV carried from step to step, a clean
    checkout (no .env). The README's "CI runs spectacular --fail-on-warn" is one of them."""
    project, venv = deployed
    job = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())["jobs"]["test"]
    github_env = tmp_path / "github_env"
    github_env.touch()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           **job["env"], "DATABASE_URL": postgres_database,
           "GITHUB_ENV": str(github_env), "RUNNER_TEMP": str(tmp_path)}
    ran = []
    for step in job["steps"]:
        command = step.get("run")
        if not command or command.strip() in NOT_RUN_HERE or command.startswith("pip-audit"):
            continue
        exported = dict(line.split("=", 1) for line in github_env.read_text().splitlines() if "=" in line)
        result = subprocess.run(["bash", "-e", "-c", command], cwd=project, env={**env, **exported},
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (step["name"], result.stdout, result.stderr)
        ran.append(step["name"])
    assert "OpenAPI schema without warnings" in ran and "Migrations are up to date" in ran
    assert (tmp_path / "schema.yml").stat().st_size > 1000


def test_dependabot_covers_pip_and_actions(default_project):
    config = yaml.safe_load((default_project / ".github/dependabot.yml").read_text())
    assert {update["package-ecosystem"] for update in config["updates"]} == {"pip", "github-actions"}


def test_pre_commit_hooks_match_the_pinned_tools_and_pass(default_project, tmp_path):
    config = yaml.safe_load((default_project / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: repo for repo in config["repos"] for hook in repo["hooks"]}
    for hook in ["ruff", "ruff-format", "detect-private-key", "check-added-large-files", "django-upgrade"]:
        assert hook in hooks, hook
    pins = requirement_pins(default_project)
    assert hooks["ruff"]["rev"] == "v" + pins["ruff"]
    upgrade = next(h for h in hooks["django-upgrade"]["hooks"] if h["id"] == "django-upgrade")
    assert upgrade["args"] == ["--target-version", "5.2"]
    assert pins["django"].startswith("5.2.")

    # As on the first commit: a git repository with everything added (.env is ignored).
    repo = tmp_path / "repo"
    shutil.copytree(default_project, repo)
    for git in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", *git], cwd=repo, check=True)
    tracked = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.split()
    assert ".env" not in tracked and ".env.example" in tracked
    python_files = [path for path in tracked if path.endswith(".py")]
    for command in (
        [BIN / "django-upgrade", "--target-version", "5.2", *python_files],
        [BIN / "detect-private-key", *tracked],
        [BIN / "check-added-large-files", "--enforce-all", *tracked],
        [BIN / "check-yaml", *[path for path in tracked if path.endswith((".yml", ".yaml"))]],
        [BIN / "check-toml", "pyproject.toml"],
    ):
        result = subprocess.run([str(part) for part in command], cwd=repo, capture_output=True, text=True)
        assert result.returncode == 0, (command[0], result.stdout, result.stderr)


def test_answers_are_recorded_and_reproduce_the_project(cookies, tmp_path):
    answers = {"project_name": "Billing API", "domain_name": "billing.example.org", "use_cors": False}
    first = cookies.bake(extra_context=answers)
    assert first.exit_code == 0, first.exception
    recorded = json.loads((Path(first.project_path) / ".cookiecutter.json").read_text())
    assert recorded["project_name"] == "Billing API" and recorded["use_cors"] is False
    assert recorded["_template"]
    replay = {key: value for key, value in recorded.items() if not key.startswith("_")}
    second = cookies.bake(extra_context=replay)
    assert second.exit_code == 0, second.exception
    # .env holds a fresh key and .git a fresh commit on every bake: the files must match.
    comparison = filecmp.dircmp(first.project_path, second.project_path, ignore=[".env", ".git"])

    def differences(cmp):
        found = cmp.left_only + cmp.right_only + cmp.diff_files
        for sub in cmp.subdirs.values():
            found += differences(sub)
        return found

    assert differences(comparison) == []
