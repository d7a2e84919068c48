"""Read settings from the environment; a local .env file fills in what is not set.

Shared by config/settings.py and server.py so both agree on every value.
"""

import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

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


RATE_RE = re.compile(r"^[0-9]+/[0-9]*[smhd]$")


def env_rate(name, default):
    """A rate limit such as 5/m or 100/h (count/period; period s, m, h or d, optionally 15m)."""
    value = env(name, default)
    if not RATE_RE.match(value):
        raise ImproperlyConfigured(f"{name} must look like 5/m or 100/h, not {value!r}.")
    return value


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
