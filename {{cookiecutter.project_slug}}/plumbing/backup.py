"""Database backups to the bucket, and restoring them, with django-dbbackup.

`python manage.py backup` (and the BACKUP_SCHEDULE periodic task) dumps the database (pg_dump's
custom format on PostgreSQL, SQLite's backup API on SQLite), gzips it and writes it under
backups/ in the bucket (a local backups/ folder without one), named by time, keeping the last
BACKUP_KEEP. `python manage.py restore` loads the latest one, or a named one, back.
django-dbbackup's commands do the work; this adds what they lack: a one-line error before a
dump starts (no destination that outlives a deploy, no pg_dump or one older than the server),
a log line saying the backup succeeded, and revoking every login a restore brings back.
Uploaded files are not copied: they are in the bucket already (docs/backups.md).
"""

import logging
import re
import shutil
import subprocess
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

logger = logging.getLogger(__name__)


def check_destination():
    if settings.BACKUP_NEEDS_BUCKET:
        raise CommandError(
            "No bucket to back up to: the container's disk is replaced at every deploy. Add a "
            "Railway bucket and reference its variables in this service (docs/backups.md)."
        )


def check_pg_dump():
    """pg_dump must exist and be at least the server's major version (it refuses older ones)."""
    if connection.vendor != "postgresql":
        return
    if not shutil.which("pg_dump"):
        raise CommandError(
            "pg_dump is not installed. On Railway set the variable RAILPACK_DEPLOY_APT_PACKAGES="
            "postgresql-client on this service and redeploy; locally, install PostgreSQL's client."
        )
    output = subprocess.run(  # noqa: S603 - a fixed command, found on PATH as dbbackup runs it
        ["pg_dump", "--version"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    client = int(re.search(r"\)\s*(\d+)", output)[1])  # pg_dump (PostgreSQL) 17.2 ...
    connection.ensure_connection()
    server = connection.pg_version // 10000
    if client < server:
        raise CommandError(
            f"pg_dump {client} cannot dump a PostgreSQL {server} server: it needs pg_dump "
            f"{server} or newer (docs/backups.md, 'pg_dump on Railway')."
        )


def latest_backup():
    """The newest backup's name, or None."""
    from dbbackup.storage import StorageError, get_storage

    try:
        return get_storage().get_latest_backup(compressed=True, content_type="db")
    except StorageError:
        return None


def backup():
    """Dump the database to the backup storage; returns the backup's name."""
    from dbbackup.signals import post_backup

    check_destination()
    check_pg_dump()
    written = {}

    def remember(sender, filename, storage, **kwargs):
        written.update(name=filename, size=storage.storage.size(filename))

    started = time.monotonic()
    post_backup.connect(remember, dispatch_uid="plumbing.backup.remember")
    try:
        call_command("dbbackup", compress=True, clean=True, interactive=False, verbosity=0)
    finally:
        post_backup.disconnect(dispatch_uid="plumbing.backup.remember")
    seconds = round(time.monotonic() - started, 1)
    logger.info(
        "Backup succeeded: %s (%d bytes) in %gs; the last %d are kept",
        written["name"],
        written["size"],
        seconds,
        settings.BACKUP_KEEP,
        extra={"backup": written["name"], "bytes": written["size"], "seconds": seconds},
    )
    return written["name"]


def restore(name, keep_logins=False):
    """Replace the database's contents with backup `name`. Unless keep_logins, every API token
    and session is then deleted: one revoked since the backup would otherwise work again."""
    call_command(
        "dbrestore",
        uncompress=name.endswith(".gz"),
        input_filename=name,
        interactive=False,
        verbosity=0,
    )
    if not keep_logins:
        from django.contrib.sessions.models import Session
        from rest_framework.authtoken.models import Token

        Token.objects.all().delete()
        Session.objects.all().delete()
    logger.info("Restored backup %s", name, extra={"backup": name})
