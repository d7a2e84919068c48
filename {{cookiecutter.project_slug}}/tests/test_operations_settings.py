"""Settings of the day-two operations: when backups run and where they go, how long API tokens
live (config/settings.py, config/env.py)."""

from .conftest import run_django

BUCKET = {
    "BUCKET": "uploads",
    "ACCESS_KEY_ID": "key-id",
    "SECRET_ACCESS_KEY": "secret",
    "ENDPOINT": "https://storage.railway.app",
}
NO_BUCKET = {name: "" for name in BUCKET} | {"S3_BUCKET": "", "S3_ACCESS_KEY_ID": ""}


def test_daily_at_three_with_a_bucket_and_off_without(load_settings):
    names = ["BACKUP_SCHEDULE", "BACKUP_KEEP", "STORAGES"]
    with_bucket = load_settings({**BUCKET, "BACKUP_SCHEDULE": ""}, names)
    assert with_bucket["BACKUP_SCHEDULE"] == "0 3 * * *" and with_bucket["BACKUP_KEEP"] == 14
    storage = with_bucket["STORAGES"]["dbbackup"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["location"] == "backups"  # beside the uploads, in the same bucket
    assert load_settings({**NO_BUCKET, "BACKUP_SCHEDULE": ""}, names)["BACKUP_SCHEDULE"] is None
    off = load_settings({**BUCKET, "BACKUP_SCHEDULE": "off"}, names)
    assert off["BACKUP_SCHEDULE"] is None


def test_a_backup_on_railway_without_a_bucket_is_refused():
    env = {**NO_BUCKET, "RAILWAY_ENVIRONMENT_NAME": "production", "ALLOW_EPHEMERAL_SQLITE": "true"}
    code = "from django.core.management import call_command\ncall_command('backup')"
    result = run_django(env, code)
    assert result.returncode != 0
    assert "No bucket to back up to" in result.stderr.strip().splitlines()[-1]


def test_the_token_lifetime_is_a_duration_or_never(load_settings):
    def lifetime(value):
        return load_settings({"TOKEN_LIFETIME": value}, ["TOKEN_LIFETIME"])

    assert lifetime("")["TOKEN_LIFETIME"] == "30 days, 0:00:00"
    assert lifetime("12h")["TOKEN_LIFETIME"] == "12:00:00"
    assert lifetime("never")["TOKEN_LIFETIME"] is None
    error = lifetime("a month")["error"].strip().splitlines()[-1]
    assert "TOKEN_LIFETIME must look like 3600, 90m, 12h, 30d or never, not 'a month'" in error
