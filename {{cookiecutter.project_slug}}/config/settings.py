"""Settings for {{ cookiecutter.project_name }}.

Every value that differs between machines comes from the environment (see .env.example);
a local .env is read by config/env.py, which also parses and checks each variable.
Production is the default: DEBUG is off unless set.

Your apps go in PROJECT_APPS, your own settings at the end of the file: template updates
(`cruft update`) change the lines around them, never those (docs/settings.md).
"""

from whitenoise.compress import Compressor

from config.env import (
    BASE_DIR,
    backup_storage,
    env,
    env_bool,
    env_bucket,
    env_caches,
    env_choice,
    env_cron,
    env_database,
    env_duration,
    env_float,
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
{%- if cookiecutter.django_version == "6.1" %}
    smtp_options,
{%- endif %}
)
from plumbing.logging import logging_config
{%- if cookiecutter.use_sentry %}
from plumbing.sentry import init_sentry
{%- endif %}

DEBUG = env_bool("DEBUG", False)

# Django's signing key: required in production; with DEBUG a new one each start, never stored.
SECRET_KEY = env_secret_key("DJANGO_SECRET_KEY", debug=DEBUG)

# --- Hosts -------------------------------------------------------------------------------------
# Railway's health probe uses this Host header during deploys (the domain Railway generated,
# RAILWAY_PUBLIC_DOMAIN, is in PUBLIC_HOSTS): https://docs.railway.com/reference/healthchecks
RAILWAY_HEALTHCHECK_HOST = "healthcheck.railway.app"
PUBLIC_HOSTS = public_hosts("ALLOWED_HOSTS", "{{ cookiecutter.domain_name }}")
LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
ALLOWED_HOSTS = [*PUBLIC_HOSTS, RAILWAY_HEALTHCHECK_HOST, *(LOCAL_HOSTS if DEBUG else [])]
# A leading dot in ALLOWED_HOSTS means "and every subdomain": *.host for CSRF.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", https_origins(PUBLIC_HOSTS))

# --- Applications ------------------------------------------------------------------------------
# The template's apps; yours are PROJECT_APPS, below.
TEMPLATE_APPS = [
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
]
# Your apps: add each one you create at the end (`python manage.py startapp orders`, then
# "orders"). accounts/ and files/ are yours too: examples to keep, change or remove.
PROJECT_APPS = [
    "accounts",
    "files",
]
INSTALLED_APPS = [*TEMPLATE_APPS, *PROJECT_APPS]

MIDDLEWARE = [
    # Outermost: request id, timing and one log line per request, whatever happens inside.
    "plumbing.middleware.RequestLogMiddleware",
    # A WARNING line for a slow request or a slow query (SLOW_REQUEST_MS, SLOW_QUERY_MS).
    "plumbing.queries.SlowRequestMiddleware",
    "plumbing.middleware.HeadRequestMiddleware",
    # The security headers, above WhiteNoise: it answers static files itself and returns early,
    # so only the middleware above it sees those responses. SecurityMiddleware last of them, so
    # its HTTPS redirect carries the others' headers too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
{%- if cookiecutter.django_version == "6.1" %}
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
{%- else %}
    "csp.middleware.CSPMiddleware",
{%- endif %}
    "plumbing.middleware.CrossOriginResourcePolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Requests the server refused before Django (plumbing/bodies.py) are answered here, below
    # the security headers and before any view.
    "plumbing.middleware.RequestBodyLimitMiddleware",
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
# service's URL ({% raw %}${{Postgres.DATABASE_URL}}{% endraw %}); SQLite there stops startup unless it is on a
# volume, since every deploy replaces the disk. https://github.com/jazzband/dj-database-url
# Connections are kept open, and each is checked (SELECT 1) before the first query of a request
# that reuses it, so a connection the database or the network dropped is replaced, not a 500.
# https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/ref/databases/#persistent-connections
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 3, low=2, high=60)  # seconds
DATABASES = {
    "default": env_database(
        "DATABASE_URL", base_dir=BASE_DIR, debug=DEBUG, connect_timeout=DATABASE_CONNECT_TIMEOUT
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Waiting on the database, slow requests ------------------------------------------------------
# Seconds a query of the web server may run (PostgreSQL's statement_timeout) or wait for a reply
# that does not come (then its connection is cut): either way the request answers 503 JSON
# (plumbing/queries.py, docs/web-server.md). Migrations, backups and tasks are not limited.
DATABASE_TIMEOUT = env_int("DATABASE_TIMEOUT", 5, low=1, high=3600)
# A WARNING log line for each request slower than this (route, time, queries and their time),
# and for each query slower than SLOW_QUERY_MS (docs/logs.md).
SLOW_REQUEST_MS = env_int("SLOW_REQUEST_MS", 1000, low=0, high=3_600_000)
SLOW_QUERY_MS = env_int("SLOW_QUERY_MS", 200, low=0, high=3_600_000)

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
# which Railway replaces on every deploy (so there only on a volume). Objects are private: downloads
# use presigned URLs. https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
MEDIA_URL = "media/"
BUCKET = env_bucket()  # None: no bucket variables
MEDIA_BUCKET = BUCKET["BUCKET"] if BUCKET else ""
# Without a bucket the app serves MEDIA_ROOT itself; on Railway it must then be on a volume.
MEDIA_ROOT = env_media_root("MEDIA_ROOT", base_dir=BASE_DIR, bucket=BUCKET)
# Public files' stable URLs may be cached this long (their presigned links live twice as long):
# plumbing/public_files.py, docs/files.md.
PUBLIC_FILES_MAX_AGE = env_int("PUBLIC_FILES_MAX_AGE", 3600, low=1, high=302_400)
# Uploads over 1 MB are spooled to a temporary file, not held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1_048_576
# Types accepted by POST /api/files/, detected from the bytes (python filetype's names).
UPLOAD_ALLOWED_TYPES = env_upload_types(
    "UPLOAD_ALLOWED_TYPES",
    ["image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"],
)

# --- Static files (WhiteNoise) -----------------------------------------------------------------
# collectstatic runs once per deploy, in Railway's build (railpack.json), not at each start.
# https://whitenoise.readthedocs.io
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": media_storage(BUCKET),
    # WhiteNoise's CompressedManifestStaticFilesStorage, its manifest outside STATIC_ROOT.
    "staticfiles": {"BACKEND": "plumbing.storage.StaticFilesStorage"},
}
# Files served at the site root as they are (favicon.ico): browsers ask for it on every page.
WHITENOISE_ROOT = BASE_DIR / "public"
# Source maps are fetched only by open developer tools: not worth compressing.
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
# parsing costs memory per value, not per byte (plumbing/parsers.py).
API_JSON_MAX_SIZE = env_int("API_JSON_MAX_SIZE", DATA_UPLOAD_MAX_MEMORY_SIZE)
API_JSON_MAX_VALUES = env_int("API_JSON_MAX_VALUES", 200_000)
# Largest file upload: multipart/form-data bodies may be this big (plus 64 KiB of form overhead).
MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE", 10_485_760)
# Seconds a whole body may take to arrive (then 408): 2 MB at 20 KB/s, a phone on 3G, fits.
REQUEST_BODY_TIMEOUT = env_int("REQUEST_BODY_TIMEOUT", 120)
# Seconds a body may stop arriving between two pieces (then 408), as nginx's client_body_timeout.
REQUEST_BODY_IDLE_TIMEOUT = env_int("REQUEST_BODY_IDLE_TIMEOUT", 15)

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
    # django-filter for a view's `filterset_fields`, strict about booleans (plumbing/filters.py).
    "DEFAULT_FILTER_BACKENDS": ["plumbing.filters.FilterBackend"],
    # DRF's, except that requests refused for missing or bad credentials count against the
    # client address's limit: DRF checks credentials before throttles, so they never would.
    "EXCEPTION_HANDLER": "plumbing.ratelimit.exception_handler",
    # List endpoints answer {count, next, previous, results}, PAGE_SIZE items a page.
    "DEFAULT_PAGINATION_CLASS": "plumbing.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # A backstop for every API view, per user or client address: counted in each process and
    # sent to the store of the limits below in batches, so approximate (plumbing/ratelimit.py).
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
API_DOCS = env_choice("API_DOCS", ["public", "staff", "off"], "public" if DEBUG else "staff")
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
CACHES = env_caches("REDIS_URL")
# django-ratelimit warns (W001) about any backend it does not list; the database store is shared
# and atomic, which is what its checks look for (plumbing/tests/test_ratelimit.py shows it).
SILENCED_SYSTEM_CHECKS += [] if REDIS_URL else ["django_ratelimit.W001"]
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
TASKS_BACKENDS = {
{%- if cookiecutter.django_version == "6.1" %}
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
{%- else %}
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
{%- endif %}
    "database": "django_tasks_db.DatabaseBackend",
}
TASKS_BACKEND = env_choice("TASKS_BACKEND", TASKS_BACKENDS, "immediate" if DEBUG else "database")
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
BACKUP_SCHEDULE = env_cron("BACKUP_SCHEDULE", "0 3 * * *" if BUCKET else "off")
BACKUP_NEEDS_BUCKET = not BUCKET and bool(env("RAILWAY_ENVIRONMENT_NAME"))
STORAGES["dbbackup"] = backup_storage(BUCKET, base_dir=BASE_DIR)
DBBACKUP_CLEANUP_KEEP = BACKUP_KEEP
DBBACKUP_FILENAME_TEMPLATE = "{databasename}-{datetime}.{extension}"  # default-2026-12-06-030000
DBBACKUP_SEND_EMAIL = False  # a failure is logged at ERROR (and so reaches Sentry) instead

# --- E-mail ------------------------------------------------------------------------------------
# EMAIL_URL: smtp://user:password@host:port, smtp+tls:// for STARTTLS, smtp+ssl:// for TLS
# (config/env.py). Without it, DEBUG prints mail to the console and production logs an error
# for each message instead of sending it (plumbing/mail.py).
SMTP = env_smtp("EMAIL_URL")
{%- if cookiecutter.django_version == "6.1" %}
# Django 6.1's mail configuration (the EMAIL_* settings are deprecated).
# https://docs.djangoproject.com/en/6.1/topics/email/
MAILERS = {
    "default": {
        "BACKEND": mail_backend(SMTP, debug=DEBUG),
        # Django's default timeout waits forever.
        "OPTIONS": smtp_options(SMTP, timeout=env_int("EMAIL_TIMEOUT", 10)),
    }
}
{%- else %}
EMAIL_BACKEND = mail_backend(SMTP, debug=DEBUG)
EMAIL_HOST = SMTP.host or "localhost"
EMAIL_PORT = SMTP.port
EMAIL_HOST_USER = SMTP.username
EMAIL_HOST_PASSWORD = SMTP.password
EMAIL_USE_TLS = SMTP.use_tls
EMAIL_USE_SSL = SMTP.use_ssl
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # Django's default waits forever
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

# ==============================================================================================
# The template's settings end with Logging{% if cookiecutter.use_sentry %} and Sentry{% endif %}, just below. Put your project's own settings
# after them, at the end of the file, with their variables at the end of .env.example: template
# updates add their settings above this comment, so `cruft update` never meets your lines.
# Change a template value there too, e.g. REST_FRAMEWORK["PAGE_SIZE"] = 50, or
# RATELIMIT_RATES["invite"] = env_rate("RATELIMIT_INVITE", "20/h") (docs/settings.md).
# ==============================================================================================

# --- Logging -----------------------------------------------------------------------------------
LOGGING = logging_config()
{%- if cookiecutter.use_sentry %}

# --- Sentry ------------------------------------------------------------------------------------
init_sentry()  # plumbing/sentry.py: starts only when SENTRY_DSN is set
{%- endif %}
