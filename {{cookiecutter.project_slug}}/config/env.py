"""Read settings from the environment; a local .env file fills in what is not set.

Shared by config/settings.py and server.py so both agree on every value.
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv
from environ import Env

BASE_DIR = Path(__file__).resolve().parent.parent

# Real environment variables win over .env (override=False); on Railway there is no .env.
load_dotenv(BASE_DIR / ".env", override=False)

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


def env(name, default=""):
    """The variable's value, stripped; unset and empty both give the default."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name, default=False):
    value = env(name).lower()
    if not value:
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name, default):
    value = env(name)
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_float(name, default):
    value = env(name)
    try:
        return float(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None


def env_list(name, default=""):
    """A comma-separated list; blanks are dropped."""
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


SMTP_PORTS = {"smtp": 25, "smtp+tls": 587, "smtps": 587, "smtp+ssl": 465}


def env_smtp(name):
    """An SMTP URL as the SMTP backend's options, or None when unset. smtp://user:pass@host:port;
    smtp+tls:// for STARTTLS (port 587), smtp+ssl:// for TLS from the start (port 465).
    Parsed by django-environ; user and password are percent-decoded."""
    url = env(name)
    if not url:
        return None
    scheme = urlsplit(url).scheme
    if scheme not in SMTP_PORTS:
        raise ImproperlyConfigured(
            f"{name} must start with smtp://, smtp+tls:// or smtp+ssl://, not {scheme!r}."
        )
    parsed = Env.email_url_config(url)
    if not parsed["EMAIL_HOST"]:
        raise ImproperlyConfigured(f"{name} has no host name.")
    return {
        "host": parsed["EMAIL_HOST"],
        "port": parsed["EMAIL_PORT"] or SMTP_PORTS[scheme],
        "username": parsed["EMAIL_HOST_USER"] or "",
        "password": parsed["EMAIL_HOST_PASSWORD"] or "",
        "use_tls": parsed.get("EMAIL_USE_TLS", False),
        "use_ssl": parsed.get("EMAIL_USE_SSL", False),
    }


RATE_RE = re.compile(r"^[0-9]+/[0-9]*[smhd]$")


def env_rate(name, default):
    """A rate limit such as 5/m or 100/h (count/period; period s, m, h or d, optionally 15m)."""
    value = env(name, default)
    if not RATE_RE.match(value):
        raise ImproperlyConfigured(f"{name} must look like 5/m or 100/h, not {value!r}.")
    return value


DURATION_RE = re.compile(r"^([0-9]+)([smhd]?)$")
DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def env_duration(name, default):
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


def env_cron(name, default):
    """A cron schedule (minute hour day month weekday, UTC), or None for "off"."""
    value = env(name, default)
    return None if value.lower() == "off" else value


BUCKET_REQUIRED = ("BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY")
BUCKET_OPTIONAL = ("REGION", "ENDPOINT")


def env_bucket():
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
