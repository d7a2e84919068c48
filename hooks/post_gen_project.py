"""Finish the baked project: a local .env with a fresh secret key and admin path.

Standard library only, no network.

Cookiecutter runs this with the generated project as the working directory.
"""

import os
import re
import secrets
import string
import sys
from pathlib import Path

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


def main():
    project = Path.cwd()
    for relative, keep in OPTIONAL_FILES.items():
        if not keep:
            (project / relative).unlink()
    example = (project / ".env.example").read_text(encoding="utf-8")
    admin_url = generate_admin_url()
    values = {"DJANGO_SECRET_KEY": generate_secret_key(), "DJANGO_ADMIN_URL": admin_url, **LOCAL_VALUES}
    write_private(project / ".env", render_env(example, values))
    ensure_ignored(project / ".gitignore")

    print(
        f"""
{{ cookiecutter.project_name }} is ready in {project}

Run it locally (a .env with DEBUG=True and a fresh secret key is already there):
    cd {project.name}
    python -m venv .venv && .venv/bin/pip install -r requirements-dev.txt
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py runserver

The admin is at http://127.0.0.1:8000/{admin_url} (DJANGO_ADMIN_URL in .env).
Deploy to Railway: see "Deploy to Railway" in {project.name}/README.md
(set DJANGO_ADMIN_URL there too: without it the admin is at the guessable /admin/).
"""
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
