"""Settings for {{ cookiecutter.project_name }}.

Every value that differs between machines comes from the environment (see .env.example);
a local .env is read by config/env.py. Production is the default: DEBUG is off unless set.
"""

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from whitenoise.compress import Compressor

from config.env import BASE_DIR, env, env_bool, env_int, env_list, env_rate
from plumbing.logging import logging_config
{%- if cookiecutter.use_sentry %}
from plumbing.sentry import init_sentry
{%- endif %}

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production needs a long random key: generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))' and set it as a variable."
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
{%- if cookiecutter.use_cors %}
    "corsheaders",
{%- endif %}
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "plumbing",
    "accounts",
]

MIDDLEWARE = [
    # Outermost: request id, timing and one log line per request, whatever happens inside.
    "plumbing.middleware.RequestLogMiddleware",
    "plumbing.middleware.HeadRequestMiddleware",
    "plumbing.middleware.RequestSizeLimitMiddleware",
    # The security headers, above WhiteNoise: it answers static files itself and returns early,
    # so only the middleware above it sees those responses.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
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
# DATABASE_URL unset or empty: SQLite in the project folder. On Railway reference the plugin's
# URL ({% raw %}${{Postgres.DATABASE_URL}}{% endraw %}). https://github.com/jazzband/dj-database-url
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] != ":memory:":
        # A relative sqlite:///file is relative to the project, not the current directory.
        DATABASES["default"]["NAME"] = str(BASE_DIR / DATABASES["default"]["NAME"])
    # Several gunicorn workers share the file: WAL readers do not block the writer, IMMEDIATE
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Passwords, i18n ---------------------------------------------------------------------------
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

# --- Static files (WhiteNoise) -----------------------------------------------------------------
# collectstatic runs in the Procfile: Railpack does not run it. https://whitenoise.readthedocs.io
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
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
# HSTS, rolled out in stages (README "HSTS rollout"): by default a year for this host only,
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
# Larger request bodies get 413 (RequestSizeLimitMiddleware); Django's default, made explicit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# JSON bodies have a lower limit (413 above it): parsing 2.5 MB of `[]` grew a worker by 76 MB,
# 256 KB by 12 MB (plumbing/parsers.py). Raise it if your API takes bulk JSON.
API_JSON_MAX_SIZE = env_int("API_JSON_MAX_SIZE", 262_144)
# Read by CrossOriginResourcePolicyMiddleware: other sites may not embed our responses.
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"

# Content-Security-Policy (django-csp 4): nothing inline, nothing from other origins.
# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
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
    },
}

# --- Django REST Framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
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
    # A backstop for every API view, on the same atomic store as the per-view limits below.
    "DEFAULT_THROTTLE_CLASSES": [
        "plumbing.ratelimit.AnonThrottle",
        "plumbing.ratelimit.UserThrottle",
    ],
}

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
        "rest_framework.authentication.TokenAuthentication",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Separate request and response components, so request fields that may not be blank say
    # minLength: 1 (what validation enforces).
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Rate limiting (django-ratelimit) ----------------------------------------------------------
# "count/period", period s, m, h or d (e.g. 5/m, 100/h). Each can be set by its variable.
RATELIMIT_RATES = {
    "login": env_rate("RATELIMIT_LOGIN", "5/m"),  # per client address, API and admin login
    "signup": env_rate("RATELIMIT_SIGNUP", "3/h"),  # per client address
    "password_change": env_rate("RATELIMIT_PASSWORD_CHANGE", "10/h"),  # per user
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

# --- Admin -------------------------------------------------------------------------------------
ADMIN_URL = env("DJANGO_ADMIN_URL", "admin/").strip("/") + "/"

# --- Logging -----------------------------------------------------------------------------------
LOGGING = logging_config()
{%- if cookiecutter.use_sentry %}

# --- Sentry ------------------------------------------------------------------------------------
init_sentry()  # plumbing/sentry.py: starts only when SENTRY_DSN is set
{%- endif %}
