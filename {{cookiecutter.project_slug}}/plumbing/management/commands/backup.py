"""`python manage.py backup`: dump the database to the bucket now (plumbing/backup.py).

The same backup the BACKUP_SCHEDULE periodic task makes. `python manage.py listbackups` lists
the backups kept; `python manage.py restore` brings one back.
"""

from django.core.management.base import BaseCommand

from plumbing.backup import backup


class Command(BaseCommand):
    help = "Back up the database to the bucket (gzipped, named by time, the last BACKUP_KEEP kept)."

    def handle(self, *args, **options):
        name = backup()
        self.stdout.write(f"Backup written: {name}")
