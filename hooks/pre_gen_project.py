"""Validate the answers before cookiecutter writes anything (standard library only).

A non-zero exit makes cookiecutter abort and remove what it started, so a bad answer
leaves nothing on disk.
"""

import json
import keyword
import os
import re
import shlex
import sys

# Every answer and cookiecutter's own keys (_template, _output_dir...), for the re-run hint.
CONTEXT = json.loads({{ cookiecutter|tojson|tojson }})

# Modules the baked project imports or creates at its top level: a package with one of
# these names would shadow it.
RESERVED = {
    "boto3",
    "botocore",
    "brotli",
    "concurrent_log_handler",
    "config",
    "corsheaders",
    "csp",
    "dateutil",
    "dj_database_url",
    "django",
    "django_ratelimit",
    "django_redis",
    "django_tasks",
    "django_tasks_db",
    "dotenv",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "environ",
    "files",
    "filetype",
    "granian",
    "jmespath",
    "manage",
    "psycopg",
    "pytest",
    "pythonjsonlogger",
    "ratelimit",
    "redis",
    "rest_framework",
    "s3transfer",
    "sentry_sdk",
    "six",
    "static",
    "staticfiles",
    "storages",
    "templates",
    "test",
    "tests",
    "urllib3",
    "whitenoise",
}

SLUG_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
# Free text lands in Python strings, HTML, TOML and Markdown: these characters would break one of them.
UNSAFE_TEXT_RE = re.compile(r'["\\{}<>\r\n]')


def slug_error(slug):
    if not SLUG_RE.match(slug):
        return "must be a lower-case Python identifier (a-z, 0-9, _; not starting with a digit)"
    if keyword.iskeyword(slug) or keyword.issoftkeyword(slug):
        return "is a Python keyword"
    if slug in RESERVED or slug in sys.stdlib_module_names:
        return "would shadow a module the project imports; choose another name"
    return None


def domain_error(domain):
    if "://" in domain or "/" in domain or ":" in domain:
        return "must be a host name only, without scheme, port or path (e.g. api.example.com)"
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(LABEL_RE.match(label) for label in labels):
        return "must be a lower-case host name such as api.example.com"
    if labels[-1].isdigit():
        return "must be a host name, not an IP address"
    return None


# Django 6.x needs Python 3.12 or newer.
DJANGO_MIN_PYTHON = {"5.2": (3, 11), "6.1": (3, 12)}


def django_version_error(django, python):
    if django not in DJANGO_MIN_PYTHON:
        return "must be one of " + ", ".join(DJANGO_MIN_PYTHON)
    needed = DJANGO_MIN_PYTHON[django]
    if tuple(int(part) for part in python.split(".")[:2] if part.isdigit()) < needed:
        return "needs python_version {}.{} or newer (Django {} does not run on {})".format(
            *needed, django, python
        )
    return None


def timezone_error(name):
    try:
        import zoneinfo

        known = zoneinfo.available_timezones()
    except ImportError:  # pragma: no cover - Python < 3.9
        return None
    if known and name not in known:
        return "must be an IANA time zone name such as UTC or Europe/Paris"
    return None


def rerun_command(context):
    """The command that bakes again with these answers and no prompts, ready to edit."""
    parts = ["cookiecutter", "--no-input"]
    output_dir = context.get("_output_dir")
    if output_dir and output_dir != os.environ.get("PWD"):
        parts += ["-o", output_dir]
    parts.append(context.get("_template") or "TEMPLATE")
    for key, value in context.items():
        if not key.startswith("_"):
            if isinstance(value, bool):
                value = "yes" if value else "no"
            parts.append(f"{key}={value}")
    return " ".join(shlex.quote(part) for part in parts)


def main():
    # tojson renders each answer as a valid string literal whatever characters it holds.
    answers = {
        "project_name": {{ cookiecutter.project_name|tojson }},
        "project_slug": {{ cookiecutter.project_slug|tojson }},
        "description": {{ cookiecutter.description|tojson }},
        "author_name": {{ cookiecutter.author_name|tojson }},
        "author_email": {{ cookiecutter.author_email|tojson }},
        "domain_name": {{ cookiecutter.domain_name|tojson }},
        "python_version": {{ cookiecutter.python_version|tojson }},
        "timezone": {{ cookiecutter.timezone|tojson }},
        "django_version": {{ cookiecutter.django_version|tojson }},
    }
    errors = [
        (field, "must not contain quotes, backslashes, braces, angle brackets or line breaks")
        for field in ("project_name", "description", "author_name")
        if UNSAFE_TEXT_RE.search(answers[field])
    ]
    if not answers["project_name"].strip():
        errors.append(("project_name", "must not be empty"))
    problem = slug_error(answers["project_slug"])
    if problem:
        # The user may never have typed the slug: it is derived from project_name.
        hint = " (derived from project_name unless given: set it with project_slug=NAME or at its prompt)"
        errors.append(("project_slug", problem + hint))
    if not EMAIL_RE.match(answers["author_email"]):
        errors.append(("author_email", "must be an e-mail address such as you@example.com"))
    problem = domain_error(answers["domain_name"])
    if problem:
        errors.append(("domain_name", problem))
    if answers["python_version"] not in PYTHON_VERSIONS:
        errors.append(("python_version", "must be one of " + ", ".join(PYTHON_VERSIONS)))
    problem = django_version_error(answers["django_version"], answers["python_version"])
    if problem:
        errors.append(("django_version", problem))
    problem = timezone_error(answers["timezone"])
    if problem:
        errors.append(("timezone", problem))

    for field, problem in errors:
        print(f"ERROR: {field} {answers[field]!r} {problem}.", file=sys.stderr)
    if errors:
        print(f"Nothing was written. To bake again without the prompts, fix the value above in:\n"
              f"    {rerun_command({**{key: CONTEXT[key] for key in answers}, **CONTEXT})}",
              file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
