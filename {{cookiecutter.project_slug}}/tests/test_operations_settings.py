"""Settings of the day-two operations: when backups run and where they go, how long API tokens
live (config/settings.py, config/env.py)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

BUCKET = {
    "BUCKET": "uploads",
    "ACCESS_KEY_ID": "key-id",
    "SECRET_ACCESS_KEY": "secret",
    "ENDPOINT": "https://storage.railway.app",
}
NO_BUCKET = {name: "" for name in BUCKET} | {"S3_BUCKET": "", "S3_ACCESS_KEY_ID": ""}


def test_daily_at_three_with_a_bucket_and_off_without(load_settings):
    with_bucket = load_settings({**BUCKET, "BACKUP_SCHEDULE": "", "BACKUP_KEEP": ""})
    assert with_bucket["BACKUP_SCHEDULE"] == "0 3 * * *" and with_bucket["BACKUP_KEEP"] == 14
    storage = with_bucket["STORAGES"]["dbbackup"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["location"] == "backups"  # beside the uploads, in the same bucket
    assert load_settings({**NO_BUCKET, "BACKUP_SCHEDULE": ""})["BACKUP_SCHEDULE"] is None
    assert load_settings({**BUCKET, "BACKUP_SCHEDULE": "off"})["BACKUP_SCHEDULE"] is None


def test_a_backup_on_railway_without_a_bucket_is_refused(load_settings, settings):
    railway = {**NO_BUCKET, "RAILWAY_ENVIRONMENT_NAME": "production"}
    railway.update(ALLOW_EPHEMERAL_SQLITE="true", ALLOW_EPHEMERAL_MEDIA="true")
    settings.BACKUP_NEEDS_BUCKET = load_settings(railway)["BACKUP_NEEDS_BUCKET"]
    with pytest.raises(CommandError, match="^No bucket to back up to"):
        call_command("backup")


def test_the_token_lifetime_is_a_duration_or_never(load_settings):
    def lifetime(value):
        return load_settings({"TOKEN_LIFETIME": value})["TOKEN_LIFETIME"]

    assert lifetime("") == timedelta(days=30)
    assert lifetime("12h") == timedelta(hours=12)
    assert lifetime("never") is None
    with pytest.raises(ImproperlyConfigured) as error:
        lifetime("a month")
    expected = "TOKEN_LIFETIME must look like 3600, 90m, 12h, 30d or never, not 'a month'."
    assert str(error.value) == expected
