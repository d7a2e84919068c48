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


class WebhookEvent(models.Model):
    """A signed webhook delivery already handled (plumbing/webhooks.py): a replay of the same
    event finds its row and does nothing."""

    endpoint = models.CharField(max_length=100, help_text="The receiving view's name.")
    event_id = models.CharField(max_length=255, help_text="The provider's id, or the body's hash.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_event_once")
        ]

    def __str__(self):
        return f"{self.endpoint}: {self.event_id}"
