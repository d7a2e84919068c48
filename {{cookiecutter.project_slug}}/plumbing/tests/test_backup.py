"""Backups (plumbing/backup.py): the pg_dump checks that stop one with a one-line error before a
dump starts (where backups go and when: tests/test_operations_settings.py). The round trip
through a bucket on PostgreSQL is the template's drill (its tests/test_backups.py)."""

from types import SimpleNamespace

import pytest
from django.core.management.base import CommandError

from plumbing import backup


@pytest.fixture
def postgres(monkeypatch):
    """A PostgreSQL server of the given major version, and pg_dump of another."""

    def set_versions(server, client):
        fake = SimpleNamespace(
            vendor="postgresql", pg_version=server * 10000 + 2, ensure_connection=lambda: None
        )
        monkeypatch.setattr(backup, "connection", fake)
        monkeypatch.setattr(backup.shutil, "which", lambda name: client and f"/usr/bin/{name}")
        output = f"pg_dump (PostgreSQL) {client}.1 (Debian {client}.1-1.pgdg13+1)\n"
        monkeypatch.setattr(
            backup.subprocess, "run", lambda *args, **kwargs: SimpleNamespace(stdout=output)
        )

    return set_versions


def test_pg_dump_older_than_the_server_is_refused_with_both_versions(postgres):
    postgres(server=18, client=17)
    with pytest.raises(CommandError, match="pg_dump 17 cannot dump a PostgreSQL 18 server"):
        backup.check_pg_dump()
    postgres(server=16, client=17)
    backup.check_pg_dump()  # newer than the server: fine


def test_a_missing_pg_dump_names_the_railpack_variable(postgres):
    postgres(server=17, client=None)
    with pytest.raises(CommandError, match="RAILPACK_DEPLOY_APT_PACKAGES=postgresql-client"):
        backup.check_pg_dump()
