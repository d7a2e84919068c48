"""Finish the baked project: a local .env with a fresh secret key and admin path, a git repository with a first
commit, and the next commands to type (standard library only, no network).

Cookiecutter runs this with the generated project as the working directory. cruft runs it for
`cruft create` (a project: the same as cookiecutter's) and for the two renders `cruft update` and
`cruft diff` compare with the project (throwaway copies: then only the files are made).
"""

import os
import re
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
from pathlib import Path

# Who is rendering. cookiecutter's command and Python API put `_output_dir` in the context (since
# cookiecutter 2.0.1); cruft puts `_commit` there instead (since cruft 2.16.0), for `cruft create`
# and for its update and diff renders alike.
COOKIECUTTER_OUTPUT_DIR = {{ cookiecutter.get("_output_dir", "")|tojson }}
CRUFT_COMMIT = {{ cookiecutter.get("_commit", "")|tojson }}
AUTHOR_NAME = {{ cookiecutter.author_name|tojson }}
AUTHOR_EMAIL = {{ cookiecutter.author_email|tojson }}
# The branch the CI workflow runs on for pushes (.github/workflows/ci.yml).
BRANCH = "main"
GIT_LOCATION_VARIABLES = {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"}

# Letters, digits and punctuation that survive dotenv files and unquoted shell use:
# no $ ' " \\ # ` ! whitespace, and nothing a shell treats as an operator.
KEY_ALPHABET = string.ascii_letters + string.digits + "-_%+,.:=@^~/"
KEY_LENGTH = 64

# Values that differ in .env (local development) from the commented defaults in .env.example.
LOCAL_VALUES = {
    "DEBUG": "True",
    "DATABASE_URL": "sqlite:///db.sqlite3",
}


def generate_secret_key(length=KEY_LENGTH):
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(length))


def generate_admin_url():
    """A path for the admin that scanners will not guess (settings: DJANGO_ADMIN_URL)."""
    return f"admin-{secrets.token_hex(8)}/"


def render_env(example, values):
    """Return .env text: .env.example with each KEY line (commented or not) set to values[KEY]."""
    remaining = dict(values)
    lines = []
    for line in example.splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match and match.group(1) in remaining:
            key = match.group(1)
            line = f"{key}={remaining.pop(key)}"
        lines.append(line)
    lines.extend(f"{key}={value}" for key, value in remaining.items())
    return "\n".join(lines) + "\n"


def write_private(path, text):
    """Write text to path readable by the owner only (0600), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def ensure_ignored(gitignore, entry=".env"):
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    if entry not in (line.strip() for line in lines):
        lines.append(entry)
        gitignore.write_text("\n".join(lines) + "\n", encoding="utf-8")


# Files that exist only with an option: path -> whether to keep it.
OPTIONAL_FILES = {
    "plumbing/sentry.py": {{ cookiecutter.use_sentry }},
}


def git(project, *args):
    """Run git in the project, isolated from a GIT_DIR or GIT_WORK_TREE the caller may have set."""
    env = {key: value for key, value in os.environ.items() if key not in GIT_LOCATION_VARIABLES}
    return subprocess.run(
        ["git", *args], cwd=project, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120,
    )


def init_git(project):
    """A repository with everything committed on `main`, so `pre-commit install` works.

    Returns a one-line note for the next-steps message, or "" when the commit was made. Global
    git configuration is never changed: a missing author is set in this repository only.
    """
    if not shutil.which("git"):
        return "git is not installed: run `git init` here before `pre-commit install`."
    if git(project, "rev-parse", "--is-inside-work-tree").returncode == 0:
        return "The project is inside an existing git repository: it was not made a repository of its own."
    if git(project, "init", "-q").returncode != 0:
        return "`git init` failed here: create the repository yourself before `pre-commit install`."
    git(project, "symbolic-ref", "HEAD", f"refs/heads/{BRANCH}")
    for key, value in (("user.name", AUTHOR_NAME), ("user.email", AUTHOR_EMAIL)):
        if not git(project, "config", key).stdout.strip():
            git(project, "config", "--local", key, value)
    git(project, "add", "-A")
    message = "Initial commit from the Django + DRF Railway template"
    commit = git(project, "commit", "-q", "--no-verify", "-m", message)
    if commit.returncode != 0:
        reason = (commit.stderr.strip().splitlines() or ["unknown error"])[-1]
        return f"git init done, but the first commit failed ({reason}): commit the files yourself."
    return ""


def shown_path(project):
    """The project's path as the user's shell sees it: relative when below their directory."""
    shell_dir = os.environ.get("PWD")
    if shell_dir and project.is_relative_to(Path(shell_dir).resolve()):
        return os.path.relpath(project, Path(shell_dir).resolve())
    return str(project)


def next_steps(project, git_note, admin_url):
    """The commands of the baked README's "Run locally" section, for this project's path."""
    location = shown_path(project)
    repository = git_note or f"It is a git repository on {BRANCH} with a first commit."
    lines = [f"{{ cookiecutter.project_name }} is ready in {location}", repository]
    if CRUFT_COMMIT and not git_note:
        # `cruft create` writes .cruft.json once this hook is done: the first commit cannot hold it.
        lines.append('Commit the .cruft.json cruft writes next, in the project: git add .cruft.json'
                     ' && git commit -m "Link the project to its template with cruft"')
    lines += [
        "",
        "Run it locally (.env already has DEBUG=True, a fresh secret key and SQLite):",
        f"    cd {location}",
        "    python3 -m venv .venv",
        "    .venv/bin/pip install -r requirements-dev.txt",
        "    .venv/bin/pre-commit install",
        "    .venv/bin/python manage.py migrate",
        "    .venv/bin/python manage.py runserver",
        "",
        "",
        f"The admin is at http://127.0.0.1:8000/{admin_url} (DJANGO_ADMIN_URL in .env; set it on",
        "Railway too, or the admin is at the guessable /admin/).",
        'Then try the API with the curl examples in README.md ("Try the API"), and deploy with',
        '"Deploy to Railway" in the same README.',
    ]
    return "\n".join(lines)


def is_throwaway_render(project):
    """True for the copies `cruft update` and `cruft diff` render to compare with a project.

    cruft gives no sign of which command runs (its issue 143), so this goes by where it renders:
    those copies are temporary (a tempfile.TemporaryDirectory() in the system's temporary
    directory, which this hook shares through TMPDIR), `cruft create` writes where the user says.
    So a cruft render in a directory below the temporary one gets the files only, as before; so
    does `cruft create -o /tmp/somewhere`, the one case this cannot tell apart. Never under
    cookiecutter.
    """
    if COOKIECUTTER_OUTPUT_DIR or not CRUFT_COMMIT:
        return False
    temporary = Path(tempfile.gettempdir()).resolve()
    return project.parent != temporary and project.parent.is_relative_to(temporary)


def main():
    project = Path.cwd().resolve()
    for relative, keep in OPTIONAL_FILES.items():
        if not keep:
            (project / relative).unlink()
    if is_throwaway_render(project):
        return 0
    example = (project / ".env.example").read_text(encoding="utf-8")
    admin_url = generate_admin_url()
    values = {"DJANGO_SECRET_KEY": generate_secret_key(), "DJANGO_ADMIN_URL": admin_url, **LOCAL_VALUES}
    write_private(project / ".env", render_env(example, values))
    ensure_ignored(project / ".gitignore")
    print("\n" + next_steps(project, init_git(project), admin_url) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
