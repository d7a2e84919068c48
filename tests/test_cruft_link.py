"""`.cookiecutter.json` records every answer and the template version, so `cruft link` (given the
file, as the baked README says) knows the project exactly: for every valid option combination the
link's answers are the bake's, and re-rendering from them (`cruft diff`) finds nothing to change."""

import contextlib
import io
import itertools
import json
from pathlib import Path

import cruft
import pytest

from baking import TEMPLATE_DIR
from template_git import working_tree_repo

CHOICES = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
# Every yes/no and choice option; free-text answers are recorded by the same loop in the file.
OPTIONS = {key: value if isinstance(value, list) else [True, False]
           for key, value in CHOICES.items() if not key.startswith("_") and isinstance(value, (list, bool))}
# Django 6.x does not run on Python 3.11 (pre_gen_project.py refuses the pair).
COMBINATIONS = [
    combination
    for combination in (dict(zip(OPTIONS, values, strict=True)) for values in itertools.product(*OPTIONS.values()))
    if not (combination["django_version"] != "5.2" and combination["python_version"] == "3.11")
]
# Every answer but the defaults: the combination a missing key in .cookiecutter.json would break.
NOT_DEFAULT = {"python_version": "3.12", "use_sentry": False, "use_cors": False, "django_version": "6.1",
               "project_name": "Order Service", "timezone": "Europe/Paris"}


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory):
    return working_tree_repo(tmp_path_factory.mktemp("template") / "repo")


def link(project, template_repo):
    """The baked README's `cruft link --no-input TEMPLATE --extra-context "$(cat .cookiecutter.json)"`."""
    recorded = json.loads((project / ".cookiecutter.json").read_text())
    assert cruft.link(str(template_repo), project_dir=project, no_input=True, extra_context=recorded)
    return recorded, json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]


def test_every_answer_and_the_template_version_are_recorded(cookies):
    result = cookies.bake(extra_context=NOT_DEFAULT)
    assert result.exit_code == 0, result.exception
    recorded = json.loads((Path(result.project_path) / ".cookiecutter.json").read_text())
    answers = [key for key in CHOICES if not key.startswith("_")]
    assert [key for key in recorded if not key.startswith("_")] == answers
    assert recorded["_template_version"] == CHOICES["_template_version"]
    assert {key: recorded[key] for key in NOT_DEFAULT} == NOT_DEFAULT
    # Where a user looks: the README (or the docs it links to) names the release.
    project = Path(result.project_path)
    docs = [project / "README.md", *sorted((project / "docs").glob("*.md"))]
    assert any(f"release `{CHOICES['_template_version']}`" in path.read_text() for path in docs)


@pytest.mark.parametrize("options", COMBINATIONS, ids=lambda options: "-".join(map(str, options.values())))
def test_cruft_link_reads_back_every_combination(cookies, template_repo, options):
    result = cookies.bake(extra_context=options)
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    recorded, linked = link(project, template_repo)
    for key, value in recorded.items():
        if key != "_template":  # cruft records the repository it cloned instead
            assert linked[key] == value, key
    assert {key: linked[key] for key in options} == options


@pytest.mark.parametrize("options", [{}, NOT_DEFAULT], ids=["defaults", "not-defaults"])
def test_cruft_diff_after_the_link_is_empty(cookies, template_repo, options):
    """The recorded answers render the same project: cruft diff shows nothing of its own."""
    result = cookies.bake(extra_context=options, template=str(template_repo))
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    link(project, template_repo)
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        same = cruft.diff(project_dir=project, exit_code=True)
    assert same, shown.getvalue()
