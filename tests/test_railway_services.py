"""The baked docs/railway-services.md is what a user types into Railway's dashboard, now that
config as code is gone: its service table must match the Procfile line for line, in order, and
every command it gives must exist in the baked project."""

import json
import re

from baked_venvs import venv_env
from processes import run
from railway import procfile_command

DOC = "docs/railway-services.md"
COLUMNS = ["Service", "Procfile", "Start command", "Pre-deploy command", "Health-check path", "Variables"]


def service_table(project):
    """{service: {column: cell}} from the doc's table, in the doc's order."""
    lines = [line for line in (project / DOC).read_text().splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == COLUMNS
    rows = {}
    for line in lines[2:]:
        cells = dict(zip(header, (cell.strip() for cell in line.strip("|").split("|"))))
        rows[cells["Service"].strip("`")] = cells
    return rows


def code(cell):
    """The `code` spans of a cell."""
    return re.findall(r"`([^`]+)`", cell)


def test_the_service_list_matches_the_procfile_and_its_commands_exist(default_project, default_venv):
    project = default_project
    processes = [line.split(":", 1)[0] for line in (project / "Procfile").read_text().splitlines() if line.strip()]
    services = service_table(project)
    assert list(services) == processes == ["web", "worker", "scheduler"]  # the order to create them

    web = services["web"]
    assert web["Start command"].startswith("leave empty") and "`web:`" in web["Start command"]
    assert code(web["Pre-deploy command"]) == ["python manage.py migrate"]
    assert code(web["Health-check path"]) == ["/health/"]
    commands = ["python manage.py migrate"]
    for name in ("worker", "scheduler"):
        row = services[name]
        (start,) = code(row["Start command"])
        assert start == procfile_command(project, name).removeprefix("exec "), name
        assert row["Pre-deploy command"] == row["Health-check path"] == "none"
        commands.append(start)
    for row in services.values():
        needed = {"DJANGO_SECRET_KEY", "DATABASE_URL"} <= set(code(row["Variables"]))
        assert needed or row["Variables"].startswith("the same as `web`"), row

    # Every manage.py command the doc names (the cron variant's included) exists in the bake.
    text = (project / DOC).read_text()
    named = set(re.findall(r"python manage\.py ([a-z_]+)", text)) | {c.split()[2] for c in commands}
    env = venv_env(default_venv, {"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "x" * 50, "HOME": "/tmp"})
    listing = (
        "import django, json; django.setup(); from django.core.management import get_commands;"
        " print(json.dumps(sorted(get_commands())))"
    )
    settings = {**env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    known = json.loads(run(["python", "-c", listing], project, settings).stdout)
    assert named <= set(known), named - set(known)
    assert "--once" in run(["python", "manage.py", "scheduler", "--help"], project, env).stdout
    assert "python manage.py scheduler --once" in text

    # Nothing a deploy needs lives in a config-as-code file.
    assert not any((project / name).exists() for name in ("railway.json", "railway.toml", ".railway"))
