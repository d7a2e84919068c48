from django.db import models


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
