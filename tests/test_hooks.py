import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from baking import TEMPLATE_DIR, bake_template

FORBIDDEN_IN_KEY = set("$'\"\\#` \t\n!")


def bake_cli(output, *answers, env=None):
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(output), str(bake_template()), *answers],
        capture_output=True, text=True, timeout=60, env=env,
    )


def isolated_env(tmp_path, **extra):
    """The caller's environment with its own TMPDIR and HOME (no global git config) to inspect."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    (tmp_path / "home").mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "HOME": str(tmp_path / "home"),
           "GIT_CONFIG_NOSYSTEM": "1", "XDG_CONFIG_HOME": str(tmp_path / "home")}
    env.pop("GIT_CONFIG_GLOBAL", None)
    return {**env, **extra}


def env_values(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def test_env_file_for_local_development(cookies):
    result = cookies.bake()
    assert result.exit_code == 0, result.exception
    env_file = Path(result.project_path) / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = env_values(env_file)
    assert values["DEBUG"] == "True"
    assert values["DATABASE_URL"] == "sqlite:///db.sqlite3"
    key = values["DJANGO_SECRET_KEY"]
    assert len(key) >= 50 and len(set(key)) >= 20
    assert not FORBIDDEN_IN_KEY & set(key)
    assert not key.startswith("django-insecure")
    # Everything else in .env.example is carried over, commented.
    example = (Path(result.project_path) / ".env.example").read_text()
    for name in re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M):
        assert re.search(rf"^#?\s*{name}=", env_file.read_text(), re.M), name


def test_two_bakes_never_share_a_key_or_an_admin_url(tmp_path):
    keys, admin_urls = set(), set()
    for index in range(2):
        bake_cli(tmp_path / str(index)).check_returncode()
        values = env_values(tmp_path / str(index) / "my_api" / ".env")
        keys.add(values["DJANGO_SECRET_KEY"])
        admin_urls.add(values["DJANGO_ADMIN_URL"])
    assert len(keys) == 2
    assert len(admin_urls) == 2 and "admin/" not in admin_urls
    assert all(re.fullmatch(r"admin-[0-9a-f]{16}/", url) for url in admin_urls), admin_urls


def test_env_is_git_ignored(cookies):
    result = cookies.bake()
    project = Path(result.project_path)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    ignored = subprocess.run(["git", "check-ignore", ".env", "db.sqlite3", "staticfiles/x", "logs/app.log"],
                             cwd=project, capture_output=True, text=True)
    assert ignored.stdout.split() == [".env", "db.sqlite3", "staticfiles/x", "logs/app.log"]
    tracked = subprocess.run(["git", "check-ignore", ".env.example"], cwd=project)
    assert tracked.returncode == 1


def git_out(project, *args):
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True).stdout.strip()


def test_bake_is_a_git_repository_with_a_first_commit(tmp_path):
    """No git identity anywhere: the answers become the repository's author, globals untouched."""
    env = isolated_env(tmp_path)
    result = bake_cli(tmp_path / "out", "author_name=Zoë Dev", "author_email=zoe@example.org", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a git repository on main with a first commit" in result.stdout
    project = tmp_path / "out" / "my_api"
    assert git_out(project, "branch", "--show-current") == "main"
    assert git_out(project, "log", "--format=%an <%ae>") == "Zoë Dev <zoe@example.org>"
    assert git_out(project, "config", "--local", "user.email") == "zoe@example.org"
    assert git_out(project, "status", "--porcelain", "--ignored=no") == ""
    tracked = git_out(project, "ls-files").split()
    assert ".env.example" in tracked and "manage.py" in tracked and ".env" not in tracked
    home = tmp_path / "home"
    assert not (home / ".gitconfig").exists() and not (home / "git").exists()  # globals untouched


def test_an_existing_git_identity_is_kept(tmp_path):
    env = isolated_env(tmp_path, GIT_AUTHOR_NAME="Kept Name", GIT_AUTHOR_EMAIL="kept@example.com",
                       GIT_COMMITTER_NAME="Kept Name", GIT_COMMITTER_EMAIL="kept@example.com")
    (tmp_path / "home" / ".gitconfig").write_text("[user]\n\tname = Kept Name\n\temail = kept@example.com\n")
    result = bake_cli(tmp_path / "out", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    project = tmp_path / "out" / "my_api"
    assert git_out(project, "log", "--format=%an <%ae>") == "Kept Name <kept@example.com>"
    local = subprocess.run(["git", "config", "--local", "--get", "user.email"], cwd=project,
                           capture_output=True, text=True)
    assert local.stdout == ""  # nothing added to the repository's config


def test_without_git_the_bake_succeeds_and_says_what_to_do(tmp_path):
    env = isolated_env(tmp_path, PATH=str(tmp_path / "no-bin"))
    result = bake_cli(tmp_path / "out", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "git is not installed: run `git init` here before `pre-commit install`." in result.stdout
    assert not (tmp_path / "out" / "my_api" / ".git").exists()
    assert (tmp_path / "out" / "my_api" / ".env").exists()


# Checked after the prompts by pre_gen_project.py: one line naming the field and the fix, then
# the command to bake again. (cookiecutter then logs that the hook failed, with its own traceback.)
BAD_ANSWERS = [
    ("project_slug=My-App", "project_slug 'My-App' must be a lower-case Python identifier"),
    ("project_slug=2fast", "project_slug '2fast' must be a lower-case Python identifier"),
    ("project_slug=class", "project_slug 'class' is a Python keyword"),
    ("project_slug=django", "project_slug 'django' would shadow a module"),
    ("project_slug=config", "project_slug 'config' would shadow a module"),
    ("project_slug=tests", "project_slug 'tests' would shadow a module"),
    ("project_slug=json", "project_slug 'json' would shadow a module"),
    ("project_slug=rest_framework", "project_slug 'rest_framework' would shadow a module"),
    ("author_email=not-an-email", "author_email 'not-an-email' must be an e-mail address"),
    ("domain_name=https://example.com", "domain_name 'https://example.com' must be a host name only"),
    ("domain_name=exa mple.com", "domain_name 'exa mple.com' must be a lower-case host name"),
    ("domain_name=localhost", "domain_name 'localhost' must be a lower-case host name"),
    ("timezone=Mars/Olympus", "timezone 'Mars/Olympus' must be an IANA time zone name"),
    ('project_name=Say "hi"', "project_name 'Say \"hi\"' must not contain quotes"),
]
# Yes/no and choice answers given on the command line are read by cookiecutter itself, before any
# template code runs: a value it cannot use stops it, its last line naming the variable.
BAD_TYPED_ANSWERS = [
    ("use_sentry=maybe", "ValueError: maybe provided for variable use_sentry could not be converted to a boolean."),
    ("use_cors=", "ValueError:  provided for variable use_cors could not be converted to a boolean."),
    ("python_version=3.9",
     "ValueError: 3.9 provided for choice variable python_version, but the choices are ['3.13', '3.12', '3.11']."),
]


def assert_nothing_written(tmp_path):
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []
    # Nor a copy of the template left in TMPDIR: the template uses no pre-prompt hook, so
    # cookiecutter bakes from the template itself. (Its rendered hook scripts, tmpXXXX.py, are files.)
    assert [path.name for path in (tmp_path / "tmp").iterdir() if path.is_dir()] == []


@pytest.mark.parametrize("answer, message", BAD_ANSWERS)
def test_bad_answers_get_one_line_first_and_nothing_is_written(tmp_path, answer, message):
    result = bake_cli(tmp_path / "out", answer, env=isolated_env(tmp_path))
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert lines[0].startswith("ERROR: " + message), result.stderr
    assert lines[1].startswith("Nothing was written. To bake again without the prompts"), result.stderr
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("answer, message", BAD_TYPED_ANSWERS)
def test_bad_typed_answers_are_named_by_cookiecutter_and_nothing_is_written(tmp_path, answer, message):
    result = bake_cli(tmp_path / "out", answer, env=isolated_env(tmp_path))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == message, result.stderr
    assert_nothing_written(tmp_path)


def test_hooks_rely_on_documented_cookiecutter_behaviour_only():
    """A pre-gen hook that validates and a post-gen hook that finishes: no pre-prompt hook (it
    could only see the answers by reading its parent's command line), no Jinja extension
    filtering cookiecutter's log records, no helper deleting cookiecutter's temporary files."""
    assert sorted(path.name for path in (TEMPLATE_DIR / "hooks").iterdir() if path.suffix == ".py") == [
        "post_gen_project.py", "pre_gen_project.py"]
    assert "_extensions" not in json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())


def test_choices_and_booleans_are_cookiecutter_prompts():
    """Interactive answers are re-asked by cookiecutter until valid: a choice list and booleans."""
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    assert context["python_version"] == ["3.13", "3.12", "3.11"]
    assert context["use_sentry"] is True and context["use_cors"] is True


def test_a_rejected_bake_prints_the_command_to_bake_again(tmp_path):
    """After a typo at the last of ten prompts the user edits one command, not ten answers."""
    result = bake_cli(tmp_path / "out", "author_email=bob", "project_name=O'Reilly Shop",
                      env=isolated_env(tmp_path))
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert lines[1].startswith("Nothing was written. To bake again without the prompts")
    command = lines[2].strip().replace("author_email=bob", "author_email=bob@example.com")
    assert command.startswith(f"cookiecutter --no-input -o {tmp_path / 'out'} ")
    command = command.replace("cookiecutter", f"{sys.executable} -m cookiecutter", 1)
    again = subprocess.run(["bash", "-c", command], env=isolated_env(tmp_path),
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    answers = json.loads((tmp_path / "out" / "oreilly_shop" / ".cookiecutter.json").read_text())
    assert answers["author_email"] == "bob@example.com" and answers["project_name"] == "O'Reilly Shop"


def test_django_6_needs_python_3_12(tmp_path):
    result = bake_cli(tmp_path / "out", "python_version=3.11", "django_version=6.1", env=isolated_env(tmp_path))
    assert result.returncode != 0
    first = result.stderr.splitlines()[0]
    assert first.startswith("ERROR: django_version '6.1' needs python_version 3.12 or newer"), result.stderr
    assert_nothing_written(tmp_path)
