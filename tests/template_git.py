"""The template as a git repository, for the tests that run cruft (it clones a template's repository).

`working_tree_repo` commits this checkout's files as they are on disk, uncommitted changes included,
so a local run tests what is being written. `release_clone` is a clone of this repository at a
release named in CHANGELOG.md; `commit_working_tree` then adds the working tree on top of it, the
commit `cruft update` takes a project baked at the release to.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from baking import TEMPLATE_DIR, bake_template

# A release heading, and the commit line under it (CHANGELOG.md).
RELEASE_HEADING = re.compile(r"^## (\d{4}\.\d{2}\.\d+) ", re.M)
RELEASE_COMMIT = re.compile(r"^Template commit `([0-9a-f]{7,40})`", re.M)
# A fixed identity, and no user or system git configuration (no hooks, no signing).
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Template Tests", "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests", "GIT_COMMITTER_EMAIL": "tests@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
}


def git(cwd, *args, check=True):
    result = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV},
                            capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result.stdout.strip()


def releases(changelog=None):
    """[(version, commit)] of the CHANGELOG's releases, newest first."""
    text = (changelog or TEMPLATE_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
    found = []
    headings = list(RELEASE_HEADING.finditer(text))
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(text)
        commit = RELEASE_COMMIT.search(text, heading.end(), end)
        found.append((heading.group(1), commit.group(1) if commit else None))
    return found


def commit_working_tree(repo, message="The template's working tree"):
    """Replace the repository's files with this checkout's (as a user's clone has them) and commit."""
    for path in Path(repo).iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copytree(bake_template(), repo, dirs_exist_ok=True)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def working_tree_repo(dest):
    """A new repository whose one commit is this checkout's working tree; returns its path."""
    dest = Path(dest)
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "main")
    commit_working_tree(dest)
    return dest


def release_clone(dest, commit):
    """A clone of this repository whose `main` is `commit`, the release a user bakes; then
    `commit_working_tree(dest)` makes the next release. Fails when the commit is not in this
    repository's history (a shallow clone): the upgrade test must never pass by not running."""
    dest = Path(dest)
    known = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=TEMPLATE_DIR,
                           capture_output=True)
    if known.returncode != 0:
        pytest.fail(f"The previous release's commit {commit} is not in this clone of the template "
                    "(shallow?): fetch the full history (git fetch --unshallow) and run again.")
    git(TEMPLATE_DIR, "clone", "-q", "--no-checkout", str(TEMPLATE_DIR), str(dest))
    git(dest, "checkout", "-q", "-B", "main", commit)
    return dest
