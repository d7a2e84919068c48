"""config/env.py: each variable's parsing, and the one-line error for each bad value."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env as config_env
from config.env import (
    Smtp,
    env_bool,
    env_bucket,
    env_caches,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_media_root,
    env_rate,
    env_secret_key,
    env_smtp,
    env_upload_types,
    https_origins,
    mail_backend,
    media_storage,
    public_hosts,
)

BASE_DIR = Path("/srv/app")
POSTGRES = "postgresql://u:p@db.internal:5432/app"
RAILWAY_BUCKET = {
    "BUCKET": "uploads-a1b2c3",
    "ACCESS_KEY_ID": "tid_key",
    "SECRET_ACCESS_KEY": "tsec_secret",
    "REGION": "auto",
    "ENDPOINT": "https://storage.railway.app",
}


@pytest.fixture
def environ(monkeypatch):
    """environ(NAME="value", ...): set variables for this test; "" counts as unset."""

    def set_variables(**variables):
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return set_variables


def error(function, *args, **kwargs):
    """The message of the ImproperlyConfigured that function(*args, **kwargs) raises."""
    with pytest.raises(ImproperlyConfigured) as raised:
        function(*args, **kwargs)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_unset_and_empty_give_the_default_and_values_are_stripped(environ):
    environ(A_NUMBER="", A_LIST=" a, ,b ", A_FLAG=" Yes ")
    assert env_int("A_NUMBER", 7) == 7
    assert env_list("A_LIST") == ["a", "b"]
    assert env_list("NOT_SET_ANYWHERE", ["x"]) == ["x"]
    assert env_bool("A_FLAG") is True


def test_bad_plain_values_name_the_variable(environ):
    environ(DEBUG="maybe", WORKERS="two", EXPIRY="0", RATE="5 per minute", MODE="dns")
    assert error(env_bool, "DEBUG") == "DEBUG must be true or false, not 'maybe'."
    assert error(env_int, "WORKERS", 2) == "WORKERS must be a whole number, not 'two'."
    assert error(env_int, "EXPIRY", 300, low=1, high=60) == "EXPIRY must be 1 to 60, not 0."
    assert error(env_rate, "RATE", "5/m") == "RATE must look like 5/m or 100/h, not '5 per minute'."
    message = error(env_choice, "MODE", ["virtual", "path", "auto"], "virtual")
    assert message == "MODE must be virtual, path or auto, not 'dns'."


def test_secret_key_is_required_without_debug(environ):
    environ(DJANGO_SECRET_KEY="")
    message = error(env_secret_key, "DJANGO_SECRET_KEY", debug=False)
    assert message.startswith("DJANGO_SECRET_KEY is not set.")
    assert "secrets.token_urlsafe(50)" in message
    first, second = (env_secret_key("DJANGO_SECRET_KEY", debug=True) for _ in range(2))
    assert len(first) >= 50 and first != second  # a new throwaway key each start
    environ(DJANGO_SECRET_KEY="k" * 50)
    assert env_secret_key("DJANGO_SECRET_KEY", debug=False) == "k" * 50


def test_public_hosts_add_the_railway_domain_and_subdomains_get_wildcard_origins(environ):
    environ(ALLOWED_HOSTS="api.example.org,.example.net", RAILWAY_PUBLIC_DOMAIN="x.up.railway.app")
    hosts = public_hosts("ALLOWED_HOSTS", "example.com")
    assert hosts == ["api.example.org", ".example.net", "x.up.railway.app"]
    assert https_origins([*hosts, "*"]) == [
        "https://api.example.org",
        "https://*.example.net",
        "https://x.up.railway.app",
    ]
    environ(ALLOWED_HOSTS="", RAILWAY_PUBLIC_DOMAIN="")
    assert public_hosts("ALLOWED_HOSTS", "example.com") == ["example.com"]


def database_name():
    return env_database("DATABASE_URL", base_dir=BASE_DIR, debug=False)["NAME"]


def test_empty_database_url_means_sqlite_in_the_project_without_tls(environ):
    environ(DATABASE_URL="", RAILWAY_ENVIRONMENT_NAME="", DATABASE_SSL_REQUIRE="")
    database = env_database("DATABASE_URL", base_dir=BASE_DIR, debug=False)
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(BASE_DIR / "db.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "sslmode" not in database["OPTIONS"]
    environ(DATABASE_URL="sqlite:///data/app.sqlite3")  # relative: to the project
    assert database_name() == "/srv/app/data/app.sqlite3"


def test_postgres_requires_tls_in_production_unless_disabled(environ):
    environ(DATABASE_URL=POSTGRES, DATABASE_SSL_REQUIRE="")
    strict = env_database("DATABASE_URL", base_dir=BASE_DIR, debug=False)
    assert strict["OPTIONS"]["sslmode"] == "require"
    assert strict["CONN_MAX_AGE"] == 600 and strict["CONN_HEALTH_CHECKS"] is True
    assert "sslmode" not in env_database("DATABASE_URL", base_dir=BASE_DIR, debug=True)["OPTIONS"]
    environ(DATABASE_SSL_REQUIRE="false")
    assert "sslmode" not in env_database("DATABASE_URL", base_dir=BASE_DIR, debug=False)["OPTIONS"]


def test_postgres_waits_are_bounded(environ):
    """A connection attempt gives up after the timeout; a connection whose peer vanished fails
    within seconds (keepalives on an idle one, a user timeout on unacknowledged bytes)."""
    environ(DATABASE_URL=POSTGRES, DATABASE_SSL_REQUIRE="false")
    database = env_database("DATABASE_URL", base_dir=BASE_DIR, debug=False, connect_timeout=4)
    assert database["OPTIONS"] == {
        "connect_timeout": 4,
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 10_000,
    }


def test_sqlite_on_railway_needs_a_volume_or_a_yes(environ, tmp_path):
    environ(RAILWAY_ENVIRONMENT_NAME="production", DATABASE_URL="", ALLOW_EPHEMERAL_SQLITE="")
    environ(RAILWAY_VOLUME_MOUNT_PATH="")
    message = error(env_database, "DATABASE_URL", base_dir=BASE_DIR, debug=False)
    assert message.startswith("DATABASE_URL is unset or SQLite outside a volume on Railway")
    assert "Set DATABASE_URL=$" in message and "Postgres.DATABASE_URL" in message
    assert "ALLOW_EPHEMERAL_SQLITE=true" in message
    environ(RAILWAY_VOLUME_MOUNT_PATH=str(tmp_path))
    environ(DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    assert database_name() == f"{tmp_path}/db.sqlite3"
    environ(DATABASE_URL="sqlite:///db.sqlite3")  # in the project, not on the volume
    error(env_database, "DATABASE_URL", base_dir=BASE_DIR, debug=False)
    environ(ALLOW_EPHEMERAL_SQLITE="true")
    assert database_name() == str(BASE_DIR / "db.sqlite3")
    environ(DATABASE_URL=POSTGRES)
    environ(ALLOW_EPHEMERAL_SQLITE="")
    assert database_name() == "app"


def test_uploads_on_railway_need_a_bucket_a_volume_or_a_yes(environ, tmp_path):
    environ(RAILWAY_ENVIRONMENT_NAME="production", MEDIA_ROOT="", ALLOW_EPHEMERAL_MEDIA="")
    environ(RAILWAY_VOLUME_MOUNT_PATH="")
    message = error(env_media_root, "MEDIA_ROOT", base_dir=BASE_DIR, bucket=None)
    assert message == (
        "No bucket on Railway: uploaded files on the container's disk would be lost at the next"
        " deploy. Set BUCKET, ACCESS_KEY_ID, SECRET_ACCESS_KEY, REGION, ENDPOINT from a Railway"
        " bucket (docs/files.md), put MEDIA_ROOT on a volume, or set ALLOW_EPHEMERAL_MEDIA=true"
        " to accept that."
    )
    assert env_media_root("MEDIA_ROOT", base_dir=BASE_DIR, bucket=RAILWAY_BUCKET)
    environ(RAILWAY_VOLUME_MOUNT_PATH=str(tmp_path), MEDIA_ROOT=str(tmp_path / "media"))
    assert env_media_root("MEDIA_ROOT", base_dir=BASE_DIR, bucket=None) == tmp_path / "media"
    environ(MEDIA_ROOT="media")  # in the project, not on the volume
    error(env_media_root, "MEDIA_ROOT", base_dir=BASE_DIR, bucket=None)
    environ(ALLOW_EPHEMERAL_MEDIA="true")
    assert env_media_root("MEDIA_ROOT", base_dir=BASE_DIR, bucket=None) == BASE_DIR / "media"
    environ(ALLOW_EPHEMERAL_MEDIA="", RAILWAY_ENVIRONMENT_NAME="")  # off Railway the disk stays
    assert env_media_root("MEDIA_ROOT", base_dir=BASE_DIR, bucket=None) == BASE_DIR / "media"


def test_counters_live_in_the_database_unless_redis_is_set(environ):
    environ(REDIS_URL="")
    counters = env_caches("REDIS_URL")["ratelimit"]
    assert counters["BACKEND"] == "plumbing.counter_cache.AtomicCounterCache"
    environ(REDIS_URL="redis://127.0.0.1:6379/0")
    caches = env_caches("REDIS_URL")
    assert caches["default"] == caches["ratelimit"]
    assert caches["ratelimit"]["LOCATION"] == "redis://127.0.0.1:6379/0"
    assert caches["ratelimit"]["OPTIONS"]["SOCKET_TIMEOUT"] == 2


def no_bucket(environ):
    environ(**{name: "" for name in RAILWAY_BUCKET})
    environ(**{f"S3_{name}": "" for name in RAILWAY_BUCKET})


def test_no_bucket_variables_mean_the_local_disk(environ):
    no_bucket(environ)
    assert env_bucket() is None
    assert media_storage(None) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_railway_bucket_variables_select_private_s3(environ):
    no_bucket(environ)
    environ(**RAILWAY_BUCKET, S3_URL_EXPIRY="", S3_ADDRESSING_STYLE="", S3_CHECKSUMS="")
    storage = media_storage(env_bucket())
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "uploads-a1b2c3"
    assert options["endpoint_url"] == "https://storage.railway.app"
    assert options["region_name"] == "auto"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["querystring_expire"] == 300
    assert options["client_config"].s3 == {"addressing_style": "virtual"}


def presigned_url(environ, **variables):
    """The download URL the storage signs (signing is local: no network)."""
    from storages.backends.s3 import S3Storage

    no_bucket(environ)
    environ(**RAILWAY_BUCKET, **variables)
    return S3Storage(**media_storage(env_bucket())["OPTIONS"]).url("files/a.png")


def test_presigned_urls_are_virtual_hosted_by_default_and_path_style_on_request(environ):
    url = presigned_url(environ, S3_ADDRESSING_STYLE="", S3_URL_EXPIRY="")
    assert url.startswith("https://uploads-a1b2c3.storage.railway.app/files/a.png?")
    assert "X-Amz-Expires=300" in url and "X-Amz-Signature=" in url
    url = presigned_url(environ, S3_ADDRESSING_STYLE="path", S3_URL_EXPIRY="60")
    assert url.startswith("https://storage.railway.app/uploads-a1b2c3/files/a.png?")
    assert "X-Amz-Expires=60" in url


def test_s3_prefixed_variables_win_for_other_providers(environ):
    no_bucket(environ)
    environ(
        **RAILWAY_BUCKET,
        S3_BUCKET="my-r2-bucket",
        S3_ACCESS_KEY_ID="r2key",
        S3_SECRET_ACCESS_KEY="r2secret",
        S3_ENDPOINT="https://acc.r2.cloudflarestorage.com",
    )
    options = media_storage(env_bucket())["OPTIONS"]
    assert options["bucket_name"] == "my-r2-bucket"
    assert options["endpoint_url"] == "https://acc.r2.cloudflarestorage.com"
    assert options["region_name"] is None


def test_half_set_bucket_and_bad_storage_values_are_one_line_errors(environ):
    no_bucket(environ)
    environ(BUCKET="uploads", ACCESS_KEY_ID="k")
    assert error(env_bucket).startswith("Bucket half configured: SECRET_ACCESS_KEY not set.")
    no_bucket(environ)
    environ(S3_SECRET_ACCESS_KEY="s")
    assert "S3_BUCKET, S3_ACCESS_KEY_ID not set" in error(env_bucket)
    no_bucket(environ)
    environ(**RAILWAY_BUCKET, S3_ADDRESSING_STYLE="dns", S3_URL_EXPIRY="", S3_CHECKSUMS="")
    message = error(media_storage, env_bucket())
    assert message == "S3_ADDRESSING_STYLE must be virtual, path or auto, not 'dns'."
    environ(S3_ADDRESSING_STYLE="", S3_URL_EXPIRY="604801")
    assert error(media_storage, env_bucket()) == "S3_URL_EXPIRY must be 1 to 604800, not 604801."
    environ(S3_URL_EXPIRY="", S3_CHECKSUMS="always")
    message = error(media_storage, env_bucket())
    assert message == "S3_CHECKSUMS must be when_supported or when_required, not 'always'."


def test_upload_types_must_be_detectable_from_bytes(environ):
    environ(UPLOAD_ALLOWED_TYPES="image/png, application/pdf")
    assert env_upload_types("UPLOAD_ALLOWED_TYPES", []) == ["image/png", "application/pdf"]
    environ(UPLOAD_ALLOWED_TYPES="image/png,text/plain")
    message = error(env_upload_types, "UPLOAD_ALLOWED_TYPES", [])
    assert message == "UPLOAD_ALLOWED_TYPES: 'text/plain' cannot be detected from a file's bytes."


def test_email_url_gives_the_server_with_tls_and_decoded_credentials(environ):
    environ(EMAIL_URL="smtp+tls://apikey:p%40ss%2Fword@smtp.example.com")
    smtp = env_smtp("EMAIL_URL")
    assert smtp == Smtp("smtp.example.com", 587, "apikey", "p@ss/word", use_tls=True, use_ssl=False)
    assert mail_backend(smtp, debug=False) == "django.core.mail.backends.smtp.EmailBackend"
    environ(EMAIL_URL="smtp+ssl://mail.example.com")
    assert env_smtp("EMAIL_URL") == Smtp("mail.example.com", 465, use_ssl=True)


def test_without_email_url_debug_prints_and_production_says_what_is_missing(environ):
    environ(EMAIL_URL="")
    assert env_smtp("EMAIL_URL") == Smtp()
    assert mail_backend(Smtp(), debug=True) == "django.core.mail.backends.console.EmailBackend"
    assert mail_backend(Smtp(), debug=False) == "plumbing.mail.NotConfiguredBackend"


def test_bad_email_urls_are_one_line_errors(environ):
    environ(EMAIL_URL="https://mail.example.com")
    message = error(env_smtp, "EMAIL_URL")
    assert message == "EMAIL_URL must start with smtp://, smtp+tls:// or smtp+ssl://, not 'https'."
    environ(EMAIL_URL="smtp://")
    assert error(env_smtp, "EMAIL_URL") == "EMAIL_URL has no host name."


def test_every_reader_is_typed():
    """Apps and server.py import these: each public function says what it takes and gives."""
    functions = [
        value
        for name, value in vars(config_env).items()
        if callable(value)
        and getattr(value, "__module__", "") == "config.env"
        and not name[0].isupper()
    ]
    assert functions
    for function in functions:
        assert "return" in function.__annotations__, function.__name__
