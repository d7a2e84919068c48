from django.db import models
from django.utils import timezone


class RateLimitCounter(models.Model):
    """A row of the rate-limit counter store (see counter_cache.py). Created by migrate."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.BigIntegerField()
    # Unix time after which the row is dead; indexed for the periodic clean-up.
    expires = models.FloatField(db_index=True)

    class Meta:
        db_table = "ratelimit_counter"

    def __str__(self):
        return f"{self.cache_key}={self.value}"


class ScheduledTask(models.Model):
    """A periodic task's last due time enqueued by the scheduler (plumbing/schedule.py)."""

    task = models.CharField(max_length=255, primary_key=True)
    due = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.task} (last due {self.due:%Y-%m-%d %H:%M:%S} UTC)"


class LoginLock(models.Model):
    """A username locked by failed logins (plumbing/lockout.py): what the admin lists and lifts."""

    username = models.CharField(max_length=150, unique=True, help_text="As counted: lower case.")
    locked_at = models.DateTimeField(auto_now=True)
    until = models.DateTimeField(help_text="The lock ends by itself then.")

    class Meta:
        ordering = ["-locked_at"]

    def __str__(self):
        return self.username

    @property
    def active(self):
        return self.until > timezone.now()
