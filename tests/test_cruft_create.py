"""`cruft create` bakes a project as complete as cookiecutter's (.env, git, next steps), while the
copies cruft renders for `cruft update` and `cruft diff` get the files only: a .env or a .git
there would become part of the update."""

import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cookiecutter.generate import generate_context, generate_files
from cookiecutter.prompt import prompt_for_config

from baking import bake_template
from template_git import git, working_tree_repo


def cruft(*args, cwd, env):
    return subprocess.run([sys.executable, "-m", "cruft", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def isolated(tmp_path):
    """An environment with its own TMPDIR and HOME, apart from the output directory."""
    (tmp_path / "tmp").mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".gitconfig").write_text("[user]\n\tname = Dev\n\temail = dev@example.com\n")
    return {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "HOME": str(tmp_path / "home"),
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(tmp_path / "home" / ".gitconfig")}


def test_cruft_create_gives_a_complete_linked_project(tmp_path, isolated):
    template = working_tree_repo(tmp_path / "template")
    out = tmp_path / "projects"
    out.mkdir()
    created = cruft("create", "--no-input", str(template), cwd=out, env={**isolated, "PWD": str(out)})
    assert created.returncode == 0, created.stdout + created.stderr
    project = out / "my_api"
    env_file = project / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "DJANGO_SECRET_KEY=" in env_file.read_text()
    assert git(project, "log", "--format=%s") == "Initial commit from the Django + DRF Railway template"
    assert "cd my_api" in created.stdout and "manage.py migrate" in created.stdout
    # cruft writes .cruft.json after the hook: the next steps say to commit it, and then the
    # project is linked with every answer and its tree is clean.
    commit = next(line for line in created.stdout.splitlines() if "git add .cruft.json" in line)
    subprocess.run(commit.partition(": ")[2], shell=True, cwd=project, env=isolated, check=True)
    assert git(project, "status", "--porcelain") == ""
    linked = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert linked["django_version"] == "5.2" and linked["_template_version"]
    # cruft diff renders the template again (with the hook): nothing of .git or .env shows up.
    diff = cruft("diff", "--exit-code", cwd=project, env=isolated)
    assert diff.returncode == 0, diff.stdout + diff.stderr


@pytest.mark.parametrize("where, made", [("throwaway", False), ("temporary", True), ("chosen", True)])
def test_only_the_throwaway_copies_of_cruft_get_no_env_or_git(tmp_path, isolated, where, made, monkeypatch):
    """cruft's renders, reproduced with cookiecutter's own generate_files: a context with `_commit`
    rendered into a fresh TemporaryDirectory (update, diff), or by `cruft create` into the
    temporary directory itself (`cd /tmp && cruft create ...`) or a directory the user chose.
    Projects whose pyproject.toml lacks `[tool.cruft] skip` would take a .env from the first; the
    others are projects like any other."""
    monkeypatch.setenv("TMPDIR", isolated["TMPDIR"])
    monkeypatch.setenv("HOME", isolated["HOME"])
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", isolated["GIT_CONFIG_GLOBAL"])
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    template = bake_template()
    context = generate_context(context_file=str(template / "cookiecutter.json"))
    context["cookiecutter"] = prompt_for_config(context, no_input=True)
    context["cookiecutter"].update(_template=str(template), _commit="0" * 40)
    with tempfile.TemporaryDirectory() as temporary:
        output = {"throwaway": temporary, "temporary": tempfile.gettempdir(), "chosen": tmp_path / "chosen"}[where]
        project = Path(generate_files(repo_dir=str(template), context=context, output_dir=str(output)))
        assert (project / "manage.py").exists()
        assert (project / ".env").exists() is made
        assert (project / ".git").exists() is made
