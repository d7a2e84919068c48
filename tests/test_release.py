"""The template's version lives in one place (cookiecutter.json's `_template_version`) and agrees
with CHANGELOG.md: the newest release, or `<newest>+unreleased` while an "Unreleased" section is
open. Every release named with its commit points into this repository's history (the upgrade
test bakes from it)."""

import json
import re
import subprocess
from datetime import date

from baking import TEMPLATE_DIR
from template_git import releases

CHANGELOG = (TEMPLATE_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
VERSION = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())["_template_version"]
HEADINGS = re.findall(r"^## (.+)$", CHANGELOG, re.M)
RELEASE = re.compile(r"^(\d{4})\.(\d{2})\.(\d+) \((\d{4}-\d{2}-\d{2})\)$")


def test_every_section_is_unreleased_or_a_dated_calendar_version():
    assert HEADINGS, "CHANGELOG.md has no sections"
    assert "Unreleased" not in HEADINGS[1:], "only the newest section may be Unreleased"
    versions = []
    for heading in HEADINGS:
        if heading == "Unreleased":
            continue
        match = RELEASE.match(heading)
        assert match, f"{heading!r} is not 'YYYY.MM.N (YYYY-MM-DD)'"
        year, month, counter, day = match.groups()
        assert 1 <= int(month) <= 12 and date.fromisoformat(day), heading
        versions.append((int(year), int(month), int(counter)))
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions), versions


def test_the_version_baked_is_the_changelogs():
    newest = releases()[0][0]
    if HEADINGS[0] == "Unreleased":
        assert VERSION == f"{newest}+unreleased"
    else:
        assert VERSION == newest


def test_each_recorded_release_commit_is_in_the_history():
    recorded = [(version, commit) for version, commit in releases() if commit]
    assert recorded, "no release names its commit: the upgrade test has nothing to start from"
    for version, commit in recorded:
        found = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=TEMPLATE_DIR,
                               capture_output=True)
        assert found.returncode == 0, f"{version}: commit {commit} is not in this clone's history"
