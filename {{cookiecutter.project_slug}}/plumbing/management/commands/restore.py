"""`python manage.py restore [NAME]`: replace the database's contents with a backup (the latest
one unless named; `python manage.py listbackups` lists them), then delete every API token and
session, so that none revoked since the backup works again (--keep-logins to keep them).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from plumbing.backup import latest_backup, restore


class Command(BaseCommand):
    help = "Restore the database from a backup (the latest unless NAME is given)."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="The backup to restore (default: the latest).")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )
        parser.add_argument(
            "--keep-logins",
            action="store_true",
            help="Keep the API tokens and sessions the backup holds.",
        )

    def handle(self, *args, name, interactive, keep_logins, **options):
        name = name or latest_backup()
        if not name:
            raise CommandError("No backup to restore: `python manage.py backup` makes one.")
        database = connection.settings_dict["NAME"]
        if interactive:
            answer = input(
                f"Replace every row of the database {database!r} with the backup {name}? "
                "Type yes to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")
        restore(name, keep_logins=keep_logins)
        self.stdout.write(f"Restored {name} into {database!r}.")
