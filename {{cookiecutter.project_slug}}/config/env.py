"""Turn environment variables into setting values; a local .env file fills in what is not set.

config/settings.py reads as assignments: every parsing and validating step lives here, in small
functions tested in tests/test_env.py. Each bad value stops startup with ImproperlyConfigured:
one line that names the variable and says what it must be. server.py shares these readers, so
both agree on every value.
"""

import os
import re
from collections.abc import Iterable, Sequence
{%- if cookiecutter.django_version == "6.1" %}
from dataclasses import asdict, dataclass
{%- else %}
from dataclasses import dataclass
{%- endif %}
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

# Real environment variables win over .env (override=False); on Railway there is no .env.
load_dotenv(BASE_DIR / ".env", override=False)

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


# --- Plain values --------------------------------------------------------------------------
def env(name: str, default: str = "") -> str:
    """The variable's value, stripped; unset and empty both give the default."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name).lower()
    if not value:
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
    """A whole number, within [low, high] when those are given."""
    value = env(name)
    try:
        number = int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ImproperlyConfigured(f"{name} must be {low} to {high}, not {number}.")
    return number


def env_float(name: str, default: float) -> float:
    value = env(name)
    try:
        return float(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None


def env_list(name: str, default: Sequence[str] = ()) -> list[str]:
    """A comma-separated list; blanks are dropped. Unset or empty: a copy of default."""
    value = env(name)
    if not value:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, choices: Iterable[str], default: str) -> str:
    """One of a few words (API_DOCS=staff, TASKS_BACKEND=database...)."""
    value = env(name, default)
    allowed = list(choices)
    if value not in allowed:
        spelled = ", ".join(allowed[:-1]) + " or " + allowed[-1]
        raise ImproperlyConfigured(f"{name} must be {spelled}, not {value!r}.")
    return value


RATE_RE = re.compile(r"^[0-9]+/[0-9]*[smhd]$")


def env_rate(name: str, default: str) -> str:
    """A rate limit such as 5/m or 100/h (count/period; period s, m, h or d, optionally 15m)."""
    value = env(name, default)
    if not RATE_RE.match(value):
        raise ImproperlyConfigured(f"{name} must look like 5/m or 100/h, not {value!r}.")
    return value


DURATION_RE = re.compile(r"^([0-9]+)([smhd]?)$")
DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def env_duration(name: str, default: str) -> timedelta | None:
    """A length of time as a timedelta: seconds, or a number with s, m, h or d (30d, 12h);
    "never" (or 0) gives None."""
    value = env(name, default).lower()
    if value in {"never", "0"}:
        return None
    match = DURATION_RE.match(value)
    if not match:
        raise ImproperlyConfigured(
            f"{name} must look like 3600, 90m, 12h, 30d or never, not {value!r}."
        )
    return timedelta(seconds=int(match[1]) * DURATION_UNITS[match[2]])


def env_cron(name: str, default: str) -> str | None:
    """A cron schedule (minute hour day month weekday, UTC), or None for "off"."""
    value = env(name, default)
    return None if value.lower() == "off" else value


# --- Django's own -------------------------------------------------------------------------
def env_secret_key(name: str, *, debug: bool) -> str:
    """The signing key. Required in production; with DEBUG a new random one each start."""
    key = env(name)
    if key:
        return key
    if debug:
        return get_random_secret_key()
    raise ImproperlyConfigured(
        f"{name} is not set. Production needs a long random key: generate one with"
        " python3 -c 'import secrets; print(secrets.token_urlsafe(50))' and set it as a variable."
    )


def public_hosts(name: str, default: str) -> list[str]:
    """The host names the site answers on: the variable's list, plus the domain Railway
    generated for the service (RAILWAY_PUBLIC_DOMAIN) when it is set."""
    hosts = env_list(name, [default])
    railway_domain = env("RAILWAY_PUBLIC_DOMAIN")
    return [*hosts, railway_domain] if railway_domain else hosts


def https_origins(hosts: Iterable[str]) -> list[str]:
    """CSRF origins for host names: a leading dot (every subdomain) becomes https://*.host."""
    return [
        f"https://*{host}" if host.startswith(".") else f"https://{host}"
        for host in hosts
        if host != "*"
    ]


# --- Database -----------------------------------------------------------------------------
def env_database(
    name: str, *, base_dir: Path, debug: bool, connect_timeout: int = 3
) -> dict[str, Any]:
    """DATABASES["default"] from a database URL (dj-database-url); unset or empty: SQLite in
    the project folder. Connections are kept for 10 minutes and checked before reuse.

    SQLite gets what several server processes need to share one file; PostgreSQL gets TLS
    (unless DATABASE_SSL_REQUIRE=false; default on without DEBUG), a connect timeout, and TCP
    keepalives and a user timeout, so that a connection whose peer vanished (a partition, a
    failover) fails within seconds instead of waiting forever (docs/web-server.md).
    """
    import dj_database_url

    url = env(name, f"sqlite:///{base_dir / 'db.sqlite3'}")
    database = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"] == "django.db.backends.sqlite3":
        if database["NAME"] != ":memory:":
            # A relative sqlite:///file is relative to the project, not the current directory.
            database["NAME"] = str(base_dir / database["NAME"])
        refuse_ephemeral_sqlite(name, database["NAME"])
        # WAL readers do not block the writer, IMMEDIATE transactions take the write lock up
        # front, and a busy writer waits instead of failing.
        options.update(
            init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            transaction_mode="IMMEDIATE",
            timeout=20,
        )
        return database
    if env_bool("DATABASE_SSL_REQUIRE", not debug):
        options["sslmode"] = "require"
    # libpq's options (https://www.postgresql.org/docs/current/libpq-connect.html): give up
    # on a connection attempt after connect_timeout seconds; probe an idle connection after
    # 10 s, every 5 s, 3 times; drop one whose sent bytes go unacknowledged for 10 s.
    options.setdefault("connect_timeout", connect_timeout)
    options.setdefault("keepalives", 1)
    options.setdefault("keepalives_idle", 10)
    options.setdefault("keepalives_interval", 5)
    options.setdefault("keepalives_count", 3)
    options.setdefault("tcp_user_timeout", 10_000)
    return database


# How a Railway service refers to its PostgreSQL service's URL.
RAILWAY_DATABASE_REFERENCE = "{% raw %}${{Postgres.DATABASE_URL}}{% endraw %}"


def refuse_ephemeral_sqlite(name: str, database_file: str) -> None:
    """On Railway the container's disk is replaced at every deploy: SQLite there loses every
    row unless its file is on a mounted volume (or ALLOW_EPHEMERAL_SQLITE=true says so)."""
    if not env("RAILWAY_ENVIRONMENT_NAME") or env_bool("ALLOW_EPHEMERAL_SQLITE", False):
        return
    volume = env("RAILWAY_VOLUME_MOUNT_PATH")
    if volume and Path(database_file).resolve().is_relative_to(Path(volume).resolve()):
        return
    raise ImproperlyConfigured(
        f"{name} is unset or SQLite outside a volume on Railway: every row would be lost at the"
        f" next deploy. Set {name}={RAILWAY_DATABASE_REFERENCE} (or ALLOW_EPHEMERAL_SQLITE=true"
        " to accept that)."
    )


def env_caches(name: str) -> dict[str, dict[str, Any]]:
    """CACHES: with a Redis URL, Redis holds the cache and the rate-limit counters; without
    one, counters live in the database (plumbing/counter_cache.py) and the cache in memory."""
    url = env(name)
    if not url:
        return {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "ratelimit": {"BACKEND": "plumbing.counter_cache.AtomicCounterCache"},
        }
    redis = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        # Give up quickly if Redis is unreachable instead of holding the request.
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }
    return {"default": redis, "ratelimit": redis}


# --- Uploads: a bucket or the local disk --------------------------------------------------
BUCKET_REQUIRED = ("BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY")
BUCKET_OPTIONAL = ("REGION", "ENDPOINT")


def env_bucket() -> dict[str, str] | None:
    """The S3 bucket's variables as {"BUCKET": ..., ..., "ENDPOINT": ...}, or None if unset.

    Railway's names (BUCKET, ACCESS_KEY_ID, SECRET_ACCESS_KEY, REGION, ENDPOINT), or the same
    names prefixed S3_ for any other S3-compatible provider (the S3_ set wins if both are set).
    REGION and ENDPOINT are optional (unset: AWS S3). A half-set group stops startup.
    """
    prefix = "S3_" if any(env(f"S3_{name}") for name in BUCKET_REQUIRED) else ""
    values = {name: env(prefix + name) for name in (*BUCKET_REQUIRED, *BUCKET_OPTIONAL)}
    missing = [prefix + name for name in BUCKET_REQUIRED if not values[name]]
    if len(missing) == len(BUCKET_REQUIRED):
        return None
    if missing:
        required = ", ".join(prefix + name for name in BUCKET_REQUIRED)
        raise ImproperlyConfigured(
            f"Bucket half configured: {', '.join(missing)} not set. Set all of {required} "
            "(on Railway, reference them from the bucket) or none of them."
        )
    return values


def env_media_root(
    name: str, default: str = "media", *, base_dir: Path, bucket: dict[str, str] | None
) -> Path:
    """MEDIA_ROOT (relative to the project). On Railway without a bucket, uploads on the
    container's disk would be lost at the next deploy: refused unless MEDIA_ROOT is on a volume
    (or ALLOW_EPHEMERAL_MEDIA=true says so)."""
    media_root = base_dir / env(name, default)
    if bucket or not env("RAILWAY_ENVIRONMENT_NAME") or env_bool("ALLOW_EPHEMERAL_MEDIA", False):
        return media_root
    volume = env("RAILWAY_VOLUME_MOUNT_PATH")
    if volume and media_root.resolve().is_relative_to(Path(volume).resolve()):
        return media_root
    raise ImproperlyConfigured(
        "No bucket on Railway: uploaded files on the container's disk would be lost at the next"
        f" deploy. Set {', '.join(BUCKET_REQUIRED + BUCKET_OPTIONAL)} from a Railway bucket"
        f" (docs/files.md), put {name} on a volume, or set ALLOW_EPHEMERAL_MEDIA=true to accept"
        " that."
    )


def media_storage(bucket: dict[str, str] | None) -> dict[str, Any]:
    """STORAGES["default"]: django-storages' S3 backend for a bucket, else the local disk.

    Objects are private (no ACL is sent: Railway has no public buckets and many providers
    reject ACLs); downloads are presigned GET URLs that expire after S3_URL_EXPIRY seconds.
    https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
    """
    if bucket is None:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    from botocore.config import Config  # only with a bucket: slow to import

    # CRC32 sent with each upload and checked where the provider supports it; when_required
    # for a provider that rejects checksum headers.
    checksums = env_choice("S3_CHECKSUMS", ["when_supported", "when_required"], "when_supported")
    addressing_style = env_choice("S3_ADDRESSING_STYLE", ["virtual", "path", "auto"], "virtual")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket["BUCKET"],
            "access_key": bucket["ACCESS_KEY_ID"],
            "secret_key": bucket["SECRET_ACCESS_KEY"],
            "region_name": bucket["REGION"] or None,
            "endpoint_url": bucket["ENDPOINT"] or None,
            "default_acl": None,
            "querystring_auth": True,
            # SigV4 presigned URLs live at most 7 days.
            "querystring_expire": env_int("S3_URL_EXPIRY", 300, low=1, high=604_800),
            # Keys are random (files/models.py), so no existence check before each upload.
            "file_overwrite": True,
            "client_config": Config(
                s3={"addressing_style": addressing_style},
                signature_version="s3v4",
                request_checksum_calculation=checksums,
                response_checksum_validation=checksums,
                # An unreachable or stalled bucket fails a request in seconds, not minutes
                # (then 503): two attempts of at most 3 s to connect and 10 s per read.
                connect_timeout=3,
                read_timeout=10,
                retries={"mode": "standard", "max_attempts": 2},
            ),
        },
    }


def backup_storage(bucket: dict[str, str] | None, *, base_dir: Path) -> dict[str, Any]:
    """STORAGES["dbbackup"]: the uploads' storage, under backups/ (in the bucket, or a folder of
    the project without one)."""
    storage = media_storage(bucket)
    location = "backups" if bucket else base_dir / "backups"
    return {**storage, "OPTIONS": {**storage.get("OPTIONS", {}), "location": location}}


def env_upload_types(name: str, default: Sequence[str]) -> list[str]:
    """MIME types accepted for uploads; each must be one python-filetype detects from bytes."""
    import filetype

    types = env_list(name, default)
    for upload_type in types:
        if filetype.get_type(mime=upload_type) is None:
            raise ImproperlyConfigured(
                f"{name}: {upload_type!r} cannot be detected from a file's bytes."
            )
    return types


# --- E-mail -------------------------------------------------------------------------------
SMTP_PORTS = {"smtp": 25, "smtp+tls": 587, "smtps": 587, "smtp+ssl": 465}


@dataclass(frozen=True)
class Smtp:
    """An SMTP server, as the SMTP backend's options. host is "" when none is configured."""

    host: str = ""
    port: int = 25
    username: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False


def env_smtp(name: str) -> Smtp:
    """An SMTP URL: smtp://user:pass@host:port; smtp+tls:// for STARTTLS (port 587),
    smtp+ssl:// for TLS from the start (port 465). Parsed by django-environ; user and password
    are percent-decoded. Unset: Smtp() (no host)."""
    from environ import Env

    url = env(name)
    if not url:
        return Smtp()
    scheme = urlsplit(url).scheme
    if scheme not in SMTP_PORTS:
        raise ImproperlyConfigured(
            f"{name} must start with smtp://, smtp+tls:// or smtp+ssl://, not {scheme!r}."
        )
    parsed = Env.email_url_config(url)
    if not parsed["EMAIL_HOST"]:
        raise ImproperlyConfigured(f"{name} has no host name.")
    return Smtp(
        host=parsed["EMAIL_HOST"],
        port=parsed["EMAIL_PORT"] or SMTP_PORTS[scheme],
        username=parsed["EMAIL_HOST_USER"] or "",
        password=parsed["EMAIL_HOST_PASSWORD"] or "",
        use_tls=parsed.get("EMAIL_USE_TLS", False),
        use_ssl=parsed.get("EMAIL_USE_SSL", False),
    )


def mail_backend(smtp: Smtp, *, debug: bool) -> str:
    """SMTP when a server is set; without one, the console with DEBUG, and in production a
    backend that logs an error for each message instead of sending it (plumbing/mail.py)."""
    if smtp.host:
        return "django.core.mail.backends.smtp.EmailBackend"
    if debug:
        return "django.core.mail.backends.console.EmailBackend"
    return "plumbing.mail.NotConfiguredBackend"

{%- if cookiecutter.django_version == "6.1" %}


def smtp_options(smtp: Smtp, *, timeout: float) -> dict[str, Any]:
    """The SMTP backend's OPTIONS in MAILERS; none for the other backends."""
    return {**asdict(smtp), "timeout": timeout} if smtp.host else {}
{%- endif %}
