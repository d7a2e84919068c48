"""python manage.py login_locks [--lift USERNAME]: the usernames failed logins have locked now,
or lift a lock (the admin's "Login locks" page does the same)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from plumbing import lockout
from plumbing.models import LoginLock


class Command(BaseCommand):
    help = "List the usernames locked by failed logins, or lift a lock with --lift USERNAME."

    def add_arguments(self, parser):
        parser.add_argument("--lift", metavar="USERNAME", action="append", default=[])

    def handle(self, *args, lift, **options):
        for username in lift:
            if lockout.lift(username):
                self.stdout.write(f"Lifted the lock on {lockout.account_key(username)}.")
            else:
                self.stdout.write(f"{lockout.account_key(username)} was not locked.")
        if lift:
            return
        locks = LoginLock.objects.filter(until__gt=timezone.now())
        for lock in locks:
            self.stdout.write(f"{lock.username}\tlocked until {lock.until:%Y-%m-%d %H:%M:%S %Z}")
        if not locks:
            self.stdout.write("No username is locked.")
