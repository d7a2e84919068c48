"""Settings for {{ cookiecutter.project_name }}.

Every value that differs between machines comes from the environment (see .env.example);
a local .env is read by config/env.py. Production is the default: DEBUG is off unless set.
"""

from pathlib import Path

import dj_database_url
import filetype
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from whitenoise.compress import Compressor

from config.env import (
    BASE_DIR,
    env,
    env_bool,
    env_bucket,
    env_cron,
    env_duration,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_smtp,
)
from plumbing.logging import logging_config
{%- if cookiecutter.use_sentry %}
from plumbing.sentry import init_sentry
{%- endif %}

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production needs a long random key: generate one with"
            " python3 -c 'import secrets; print(secrets.token_urlsafe(50))' and set it as a"
            " variable."
        )
    SECRET_KEY = get_random_secret_key()  # DEBUG only: a new key each start, never stored

# --- Hosts -------------------------------------------------------------------------------------
# Railway injects its generated domain; its health probe uses this Host header during deploys:
# https://docs.railway.com/reference/healthchecks
RAILWAY_HEALTHCHECK_HOST = "healthcheck.railway.app"
PUBLIC_HOSTS = env_list("ALLOWED_HOSTS", "{{ cookiecutter.domain_name }}")
if env("RAILWAY_PUBLIC_DOMAIN"):
    PUBLIC_HOSTS.append(env("RAILWAY_PUBLIC_DOMAIN"))
ALLOWED_HOSTS = [*PUBLIC_HOSTS, RAILWAY_HEALTHCHECK_HOST]
if DEBUG:
    ALLOWED_HOSTS += ["localhost", "127.0.0.1", "[::1]"]
# A leading dot in ALLOWED_HOSTS means "and every subdomain": *.host for CSRF.
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS",
    ",".join(
        f"https://*{host}" if host.startswith(".") else f"https://{host}"
        for host in PUBLIC_HOSTS
        if host != "*"
    ),
)

# --- Applications ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "plumbing.apps.ProjectStaticFilesConfig",  # staticfiles, minus Redoc
    "rest_framework",
    "rest_framework.authtoken",
    "django_ratelimit",
{%- if cookiecutter.django_version == "5.2" %}
    "django_tasks",
{%- endif %}
    "django_tasks_db",
    "dbbackup",
{%- if cookiecutter.use_cors %}
    "corsheaders",
{%- endif %}
{%- if cookiecutter.django_version == "5.2" %}
    "csp",
{%- endif %}
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "plumbing",
    "accounts",
    "files",
]

MIDDLEWARE = [
    # Outermost: request id, timing and one log line per request, whatever happens inside.
    "plumbing.middleware.RequestLogMiddleware",
    "plumbing.middleware.HeadRequestMiddleware",
    "plumbing.middleware.RequestBodyLimitMiddleware",
    # The security headers, above WhiteNoise: it answers static files itself and returns early,
    # so only the middleware above it sees those responses.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
{%- if cookiecutter.django_version == "6.1" %}
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
{%- else %}
    "plumbing.csp_header.CSPMiddleware",  # django-csp's, with the header built once
{%- endif %}
    "plumbing.middleware.CrossOriginResourcePolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
{%- if cookiecutter.use_cors %}
    "corsheaders.middleware.CorsMiddleware",
{%- endif %}
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
# DATABASE_URL unset or empty: SQLite in the project folder. On Railway reference the database
# service's URL ({% raw %}${{Postgres.DATABASE_URL}}{% endraw %}). https://github.com/jazzband/dj-database-url
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
}
# Seconds a kept-open connection may sit unused before it is checked (SELECT 1) at its next
# request; one used more recently skips it unless its socket shows it closed
# (plumbing/connections.py).
DATABASE_HEALTH_CHECK_IDLE = env_float("DATABASE_HEALTH_CHECK_IDLE", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] != ":memory:":
        # A relative sqlite:///file is relative to the project, not the current directory.
        DATABASES["default"]["NAME"] = str(BASE_DIR / DATABASES["default"]["NAME"])
    # Several server processes share the file: WAL readers do not block the writer, IMMEDIATE
    # transactions take the write lock up front, and a busy writer waits instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # PostgreSQL: TLS by default in production (DATABASE_SSL_REQUIRE=false for a local server).
    if env_bool("DATABASE_SSL_REQUIRE", not DEBUG):
        DATABASES["default"].setdefault("OPTIONS", {})["sslmode"] = "require"
    # Fail fast when the database is unreachable, so /health/ can say so within seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# On Railway the container's disk is replaced at every deploy: SQLite there would lose every
# row, unless its file is on a mounted volume. https://docs.railway.com/reference/volumes
if env("RAILWAY_ENVIRONMENT_NAME") and DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    volume = env("RAILWAY_VOLUME_MOUNT_PATH")
    database_file = Path(DATABASES["default"]["NAME"]).resolve()
    on_volume = bool(volume) and database_file.is_relative_to(Path(volume).resolve())
    if not on_volume and not env_bool("ALLOW_EPHEMERAL_SQLITE", False):
        raise ImproperlyConfigured(
            "DATABASE_URL is unset or SQLite outside a volume on Railway: every row would be "
            "lost at the next deploy. Set DATABASE_URL={% raw %}${{Postgres.DATABASE_URL}}{% endraw %} "
            "(or ALLOW_EPHEMERAL_SQLITE=true to accept that)."
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users, passwords, i18n --------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Argon2 first (OWASP's first choice); hashes made by the others are upgraded at the next login.
# https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/topics/auth/passwords/#using-argon2-with-django
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "{{ cookiecutter.timezone }}"
USE_I18N = True
USE_TZ = True

# --- Uploaded files (media) --------------------------------------------------------------------
# In a bucket when its variables are set: a Railway Storage Bucket's BUCKET, ACCESS_KEY_ID,
# SECRET_ACCESS_KEY, REGION and ENDPOINT referenced into this service, or the same names prefixed
# S3_ for another S3-compatible provider (config/env.py). Otherwise on the local disk, MEDIA_ROOT,
# which Railway replaces on every deploy (served only with DEBUG). Objects are private: downloads
# use presigned URLs. https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / env("MEDIA_ROOT", "media")
bucket = env_bucket()
MEDIA_BUCKET = bucket["BUCKET"] if bucket else ""
if bucket:
    from botocore.config import Config as S3Config  # only with a bucket: slow to import

    addressing_style = env("S3_ADDRESSING_STYLE", "virtual")
    if addressing_style not in {"virtual", "path", "auto"}:
        raise ImproperlyConfigured(
            f"S3_ADDRESSING_STYLE must be virtual, path or auto, not {addressing_style!r}."
        )
    checksums = env("S3_CHECKSUMS", "when_supported")
    if checksums not in {"when_supported", "when_required"}:
        raise ImproperlyConfigured(
            f"S3_CHECKSUMS must be when_supported or when_required, not {checksums!r}."
        )
    url_expiry = env_int("S3_URL_EXPIRY", 300)
    if not 1 <= url_expiry <= 604_800:  # SigV4 presigned URLs live at most 7 days
        raise ImproperlyConfigured(f"S3_URL_EXPIRY must be 1 to 604800 seconds, not {url_expiry}.")
    media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket["BUCKET"],
            "access_key": bucket["ACCESS_KEY_ID"],
            "secret_key": bucket["SECRET_ACCESS_KEY"],
            "region_name": bucket["REGION"] or None,
            "endpoint_url": bucket["ENDPOINT"] or None,
            # Private objects: no ACL is sent (Railway has no public buckets; many providers
            # reject ACLs); downloads are presigned GET URLs that expire after S3_URL_EXPIRY s.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": url_expiry,
            # Keys are random (files/models.py), so no existence check before each upload.
            "file_overwrite": True,
            "client_config": S3Config(
                s3={"addressing_style": addressing_style},
                signature_version="s3v4",
                # CRC32 sent with each upload and checked by the server where it supports it;
                # S3_CHECKSUMS=when_required for a provider that rejects checksum headers.
                request_checksum_calculation=checksums,
                response_checksum_validation=checksums,
                # An unreachable bucket fails a request in seconds, not minutes (then 503).
                connect_timeout=5,
                read_timeout=30,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        },
    }
else:
    media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

# Largest accepted upload (multipart/form-data body), in bytes: bigger ones get 413 before they
# are read (RequestSizeLimitMiddleware). Other bodies keep DATA_UPLOAD_MAX_MEMORY_SIZE.
MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE", 10_485_760)
# Uploads over 1 MB are spooled to a temporary file, not held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1_048_576
# Types accepted by POST /api/files/, detected from the bytes (python filetype's names).
UPLOAD_ALLOWED_TYPES = env_list(
    "UPLOAD_ALLOWED_TYPES", "image/jpeg,image/png,image/gif,image/webp,application/pdf"
)
for upload_type in UPLOAD_ALLOWED_TYPES:
    if filetype.get_type(mime=upload_type) is None:
        raise ImproperlyConfigured(
            f"UPLOAD_ALLOWED_TYPES: {upload_type!r} cannot be detected from a file's bytes."
        )

# --- Static files (WhiteNoise) -----------------------------------------------------------------
# collectstatic runs in the Procfile: Railpack does not run it. https://whitenoise.readthedocs.io
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": media_storage,
    # WhiteNoise's CompressedManifestStaticFilesStorage with faster Brotli (see the module).
    "staticfiles": {"BACKEND": "plumbing.storage.StaticFilesStorage"},
}
# Files served at the site root as they are (favicon.ico): browsers ask for it on every page.
WHITENOISE_ROOT = BASE_DIR / "public"
# Source maps are fetched only by open developer tools: not worth compressing at every start.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
# No Access-Control-Allow-Origin: * on static files (WhiteNoise's default). Turn it on only if
# another origin must fetch them with CORS (web fonts loaded from another domain).
WHITENOISE_ALLOW_ALL_ORIGINS = False

# --- Security ----------------------------------------------------------------------------------
# Railway's edge terminates TLS and always sends X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = not DEBUG
# Railway's health probe speaks plain HTTP and fails on a redirect (patterns have no leading /).
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
# HSTS, rolled out in stages (docs/security.md): by default a year for this host only,
# which the HTTPS redirect already commits to. includeSubDomains and preload bind every
# subdomain for a year or more: turn them on once all of them serve HTTPS.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# check --deploy asks for both from the first deploy (W005, W021): silenced while they are off.
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# __Host- cookies are accepted by browsers only when Secure, Path=/ and without Domain, so no
# subdomain can set or overwrite them. Plain HTTP (DEBUG) cannot send Secure cookies.
# https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies#cookie_prefixes
SESSION_COOKIE_NAME = "sessionid" if DEBUG else "__Host-sessionid"
CSRF_COOKIE_NAME = "csrftoken" if DEBUG else "__Host-csrftoken"
X_FRAME_OPTIONS = "DENY"
# Read by CrossOriginResourcePolicyMiddleware: other sites may not embed our responses.
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"

# Content-Security-Policy: nothing inline, nothing from other origins.
CSP_DIRECTIVES = {
    "default-src": ["'none'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "manifest-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
}
{%- if cookiecutter.django_version == "6.1" %}
# Django's own middleware (6.0+). https://docs.djangoproject.com/en/6.1/ref/csp/
SECURE_CSP = CSP_DIRECTIVES
{%- else %}
# django-csp 4 (Django 6.0+ has this built in). https://django-csp.readthedocs.io/
CONTENT_SECURITY_POLICY = {"DIRECTIVES": CSP_DIRECTIVES}
{%- endif %}

# --- Request bodies --------------------------------------------------------------------------
# server.py serves through plumbing/bodies.py: each body is read whole, within these limits,
# before Django runs; over a limit the answer is 413/408 JSON (docs/web-server.md).
# Larger bodies get 413 JSON before they are read; Django's default, made explicit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# JSON bodies: bytes, and values (arrays, objects, keys, items) counted before parsing, since
# parsing costs memory per value: 2.5 MB of `[]` grew a worker by 76 MB (plumbing/parsers.py).
API_JSON_MAX_SIZE = env_int("API_JSON_MAX_SIZE", DATA_UPLOAD_MAX_MEMORY_SIZE)
API_JSON_MAX_VALUES = env_int("API_JSON_MAX_VALUES", 200_000)
# Largest file upload: multipart/form-data bodies may be this big (plus 64 KiB of form overhead).
MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE", 10_485_760)
# Seconds a whole body may take to arrive (then 408): 2 MB at 20 KB/s, a phone on 3G, fits.
REQUEST_BODY_TIMEOUT = env_int("REQUEST_BODY_TIMEOUT", 120)

# --- Django REST Framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ExpiringTokenAuthentication",  # DRF's, with TOKEN_LIFETIME
        # Session login for the browsable API while developing.
        *(["rest_framework.authentication.SessionAuthentication"] if DEBUG else []),
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's parsers with limits: too deep or too large JSON, too many form fields are 4xx.
    "DEFAULT_PARSER_CLASSES": [
        "plumbing.parsers.JSONParser",
        "plumbing.parsers.FormParser",
        "plumbing.parsers.MultiPartParser",
    ],
    # drf-spectacular's, documenting each operation's error responses too.
    "DEFAULT_SCHEMA_CLASS": "plumbing.schema.AutoSchema",
    # DRF's, except that requests refused for missing or bad credentials count against the
    # client address's limit: DRF checks credentials before throttles, so they never would.
    "EXCEPTION_HANDLER": "plumbing.ratelimit.exception_handler",
    # List endpoints answer {count, next, previous, results}, PAGE_SIZE items a page.
    "DEFAULT_PAGINATION_CLASS": "plumbing.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # A backstop for every API view, on the same atomic store as the per-view limits below.
    "DEFAULT_THROTTLE_CLASSES": [
        "plumbing.ratelimit.AnonThrottle",
        "plumbing.ratelimit.UserThrottle",
    ],
}

# --- API tokens ----------------------------------------------------------------------------------
# A token stops working this long after login (then 401: log in again); logout and password
# changes revoke it at once, and an hourly task deletes expired ones (accounts/authentication.py).
TOKEN_LIFETIME = env_duration("TOKEN_LIFETIME", "30d")

# --- OpenAPI (drf-spectacular): /api/schema/ and Swagger UI at /api/docs/ ---------------------
# API_DOCS: "public", "staff" (signed-in staff only) or "off". Swagger UI's files are served
# from this site (drf-spectacular-sidecar), and its setup script is a separate file: the CSP
# stays free of 'unsafe-inline'. https://drf-spectacular.readthedocs.io
API_DOCS = env("API_DOCS", "public" if DEBUG else "staff")
if API_DOCS not in {"public", "staff", "off"}:
    raise ImproperlyConfigured(f"API_DOCS must be public, staff or off, not {API_DOCS!r}.")
SPECTACULAR_SETTINGS = {
    "TITLE": "{{ cookiecutter.project_name }}",
    "DESCRIPTION": "{{ cookiecutter.description }}",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny"
        if API_DOCS == "public"
        else "rest_framework.permissions.IsAdminUser"
    ],
    # Staff sign in through the admin, so the docs accept its session as well as tokens.
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.SessionAuthentication",
        "accounts.authentication.ExpiringTokenAuthentication",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Separate request and response components, so request fields that may not be blank say
    # minLength: 1 (what validation enforces).
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Rate limiting (django-ratelimit) ----------------------------------------------------------
# "count/period", period s, m, h or d, optionally with a number (5/m, 100/h, 10/15m). Each can
# be set by its variable. With DEBUG the login and signup defaults are relaxed, so trying the
# API by hand is not blocked; production keeps the strict ones.
RATELIMIT_RATES = {
    # Per client address, API and admin login.
    "login": env_rate("RATELIMIT_LOGIN", "100/m" if DEBUG else "5/m"),
    # Failed logins per username from any address; then 429, even with the right password.
    "login_account": env_rate("RATELIMIT_LOGIN_ACCOUNT", "100/15m" if DEBUG else "10/15m"),
    "signup": env_rate("RATELIMIT_SIGNUP", "100/h" if DEBUG else "3/h"),  # per client address
    "password_change": env_rate("RATELIMIT_PASSWORD_CHANGE", "10/h"),  # per user
    "upload": env_rate("RATELIMIT_UPLOAD", "60/h"),  # POST /api/files/, per user
    "password_reset": env_rate("RATELIMIT_PASSWORD_RESET", "10/h"),  # per client address
    "password_reset_email": env_rate("RATELIMIT_PASSWORD_RESET_EMAIL", "3/h"),  # per address asked
    "password_reset_confirm": env_rate("RATELIMIT_PASSWORD_RESET_CONFIRM", "10/h"),  # per client
    "anon": env_rate("THROTTLE_ANON", "120/m"),  # any other API call, per client address
    "user": env_rate("THROTTLE_USER", "600/m"),  # any other API call, per signed-in user
}
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_IP_META_KEY = "plumbing.ratelimit.client_ip"
# Header holding the client address, set by a proxy you trust. Railway's edge sets X-Real-IP;
# elsewhere the TCP peer is used, so a client cannot pick its own address.
CLIENT_IP_HEADER = env("CLIENT_IP_HEADER", "X-Real-IP" if env("RAILWAY_ENVIRONMENT_NAME") else "")

# Counters must be shared by every worker and replica and incremented atomically. Without
# Redis they live in the database (a table created by migrate); with REDIS_URL, in Redis.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    REDIS_CACHE = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        # Give up quickly if Redis is unreachable instead of holding the request.
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }
    CACHES = {"default": REDIS_CACHE, "ratelimit": REDIS_CACHE}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "plumbing.counter_cache.AtomicCounterCache"},
    }
    # django-ratelimit warns (W001) about any backend it does not list; this one is shared and
    # atomic, which is what its checks look for (tests/test_ratelimit.py shows it).
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.W001"]
{%- if cookiecutter.use_cors %}

# --- CORS (django-cors-headers) ----------------------------------------------------------------
# Browser origins allowed to call the API, e.g. https://app.example.com. None by default.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
{%- endif %}

# --- Background tasks --------------------------------------------------------------------------
# TASKS_BACKEND=immediate runs a task inside the request that enqueues it (local work, tests);
# database queues it for the worker (Procfile `worker:` line, a second Railway service).
{%- if cookiecutter.django_version == "6.1" %}
# https://docs.djangoproject.com/en/6.1/topics/tasks/ and https://github.com/RealOrangeOne/django-tasks-db
{%- else %}
# The django-tasks backport of Django 6's tasks API: https://github.com/RealOrangeOne/django-tasks
{%- endif %}
TASKS_BACKEND = env("TASKS_BACKEND", "immediate" if DEBUG else "database")
TASKS_BACKENDS = {
{%- if cookiecutter.django_version == "6.1" %}
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
{%- else %}
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
{%- endif %}
    "database": "django_tasks_db.DatabaseBackend",
}
if TASKS_BACKEND not in TASKS_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be immediate or database, not {TASKS_BACKEND!r}."
    )
TASKS = {"default": {"BACKEND": TASKS_BACKENDS[TASKS_BACKEND]}}
# A failed task runs again, up to TASKS_MAX_ATTEMPTS runs in all, after TASKS_RETRY_DELAY
# seconds, doubled after each failure (plumbing/tasks.py). Tasks must be safe to run twice.
TASKS_MAX_ATTEMPTS = env_int("TASKS_MAX_ATTEMPTS", 3)
TASKS_RETRY_DELAY = env_float("TASKS_RETRY_DELAY", 30)
# Finished task results are kept this long, then deleted when the worker starts (and by
# `python manage.py prune_db_task_results --min-age-days N`, e.g. from a Railway cron service).
TASKS_RESULTS_DAYS = env_int("TASKS_RESULTS_DAYS", 14)

# --- Backups (django-dbbackup) ----------------------------------------------------------------
# `python manage.py backup` writes a gzipped dump under backups/ in the bucket, keeping the last
# BACKUP_KEEP (without a bucket: a local backups/ folder, refused on Railway, whose disk does not
# outlive a deploy). BACKUP_SCHEDULE (cron, UTC, or off) runs it as a periodic task: daily at
# 03:00 when there is a bucket. `restore` brings one back (plumbing/backup.py, docs/backups.md).
BACKUP_KEEP = env_int("BACKUP_KEEP", 14)
BACKUP_SCHEDULE = env_cron("BACKUP_SCHEDULE", "0 3 * * *" if bucket else "off")
BACKUP_NEEDS_BUCKET = not bucket and bool(env("RAILWAY_ENVIRONMENT_NAME"))
backup_location = "backups" if bucket else BASE_DIR / "backups"
STORAGES["dbbackup"] = {
    **media_storage,
    "OPTIONS": {**media_storage.get("OPTIONS", {}), "location": backup_location},
}
DBBACKUP_CLEANUP_KEEP = BACKUP_KEEP
DBBACKUP_FILENAME_TEMPLATE = "{databasename}-{datetime}.{extension}"  # default-2026-12-06-030000
DBBACKUP_SEND_EMAIL = False  # a failure is logged at ERROR (and so reaches Sentry) instead

# --- E-mail ------------------------------------------------------------------------------------
# EMAIL_URL: smtp://user:password@host:port, smtp+tls:// for STARTTLS, smtp+ssl:// for TLS
# (config/env.py). Without it, DEBUG prints mail to the console and production logs an error
# for each message instead of sending it (plumbing/mail.py).
SMTP = env_smtp("EMAIL_URL")
EMAIL_TIMEOUT_SECONDS = env_int("EMAIL_TIMEOUT", 10)  # Django's default waits forever
{%- if cookiecutter.django_version == "6.1" %}
if SMTP:
    MAILER = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {**SMTP, "timeout": EMAIL_TIMEOUT_SECONDS},
    }
elif DEBUG:
    MAILER = {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
else:
    MAILER = {"BACKEND": "plumbing.mail.NotConfiguredBackend"}
# Django 6.1's mail configuration (the EMAIL_* settings are deprecated).
# https://docs.djangoproject.com/en/6.1/topics/email/
MAILERS = {"default": MAILER}
{%- else %}
if SMTP:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT = SMTP["host"], SMTP["port"]
    EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = SMTP["username"], SMTP["password"]
    EMAIL_USE_TLS, EMAIL_USE_SSL = SMTP["use_tls"], SMTP["use_ssl"]
    EMAIL_TIMEOUT = EMAIL_TIMEOUT_SECONDS
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "plumbing.mail.NotConfiguredBackend"
{%- endif %}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@{{ cookiecutter.domain_name }}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Password-reset links expire after this many seconds (Django's default is 3 days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
# Where the reset e-mail points: your front end's page, with {uid} and {token} filled in.
# Unset: the e-mail gives the uid and token to post to /api/auth/password-reset/confirm/.
PASSWORD_RESET_URL = env("PASSWORD_RESET_URL")

# --- Admin -------------------------------------------------------------------------------------
ADMIN_URL = env("DJANGO_ADMIN_URL", "admin/").strip("/") + "/"

# --- Logging -----------------------------------------------------------------------------------
LOGGING = logging_config()
{%- if cookiecutter.use_sentry %}

# --- Sentry ------------------------------------------------------------------------------------
init_sentry()  # plumbing/sentry.py: starts only when SENTRY_DSN is set
{%- endif %}
