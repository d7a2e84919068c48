import json
from pathlib import Path

from tests.conftest import run_django


def test_production_refuses_to_start_without_secret_key(load_settings):
    result = load_settings({"DEBUG": "False", "DJANGO_SECRET_KEY": ""}, ["SECRET_KEY"])
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in result["error"]


def test_railway_domain_and_probe_host_are_allowed(load_settings):
    env = {"ALLOWED_HOSTS": "api.example.org", "RAILWAY_PUBLIC_DOMAIN": "x.up.railway.app"}
    result = load_settings({"DEBUG": "False", **env}, ["ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"])
    assert result["ALLOWED_HOSTS"] == [
        "api.example.org",
        "x.up.railway.app",
        "healthcheck.railway.app",
    ]
    assert result["CSRF_TRUSTED_ORIGINS"] == ["https://api.example.org", "https://x.up.railway.app"]


def test_empty_database_url_means_sqlite_without_ssl(load_settings):
    result = load_settings({"DEBUG": "False", "DATABASE_URL": ""}, ["DATABASES"])
    database = result["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"].endswith("db.sqlite3")
    assert "sslmode" not in database["OPTIONS"]


def test_postgres_requires_tls_in_production_unless_disabled(load_settings):
    url = "postgresql://u:p@db.internal:5432/app"
    default = {"DEBUG": "False", "DATABASE_URL": url, "DATABASE_SSL_REQUIRE": ""}
    strict = load_settings(default, ["DATABASES"])
    assert strict["DATABASES"]["default"]["OPTIONS"]["sslmode"] == "require"
    assert strict["DATABASES"]["default"]["CONN_MAX_AGE"] == 600
    local = load_settings(
        {"DEBUG": "False", "DATABASE_URL": url, "DATABASE_SSL_REQUIRE": "false"}, ["DATABASES"]
    )
    assert "sslmode" not in local["DATABASES"]["default"]["OPTIONS"]


def test_bad_boolean_is_a_clear_error(load_settings):
    result = load_settings({"DEBUG": "maybe"}, ["DEBUG"])
    assert "DEBUG must be true or false, not 'maybe'" in result["error"]


def test_log_dir_adds_a_rotating_json_file(tmp_path):
    log_dir = tmp_path / "nested" / "logs"
    code = (
        "import json, logging\n"
        "logging.getLogger('app').warning('written to the file')\n"
        "handler = next(h for h in logging.getLogger().handlers if hasattr(h, 'maxBytes'))\n"
        "print(json.dumps([handler.maxBytes, handler.backupCount]))"
    )
    env = {"DEBUG": "False", "LOG_FORMAT": "json", "LOG_DIR": str(log_dir)}
    result = run_django(env, code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [5 * 1024 * 1024, 3]
    lines = (log_dir / "app.log").read_text().splitlines()
    record = json.loads(lines[-1])
    assert record["message"] == "written to the file" and record["level"] == "WARNING"


def test_debug_relaxes_only_the_login_and_signup_limits(load_settings):
    unset = {"RATELIMIT_LOGIN": "", "RATELIMIT_LOGIN_ACCOUNT": "", "RATELIMIT_SIGNUP": ""}

    def rates(**env):
        return load_settings({**unset, **env}, ["RATELIMIT_RATES"])["RATELIMIT_RATES"]

    production, local = rates(DEBUG="False"), rates(DEBUG="True")
    relaxed = ["login", "login_account", "signup"]
    assert [production[scope] for scope in relaxed] == ["5/m", "10/15m", "3/h"]
    assert [local[scope] for scope in relaxed] == ["100/m", "100/15m", "100/h"]
    assert local["password_change"] == production["password_change"]
    assert rates(DEBUG="True", RATELIMIT_SIGNUP="2/h")["signup"] == "2/h"  # a set variable wins


def test_railway_without_a_database_refuses_to_start(load_settings, tmp_path):
    railway = {"DEBUG": "False", "RAILWAY_ENVIRONMENT_NAME": "production"}
    unset = {"DATABASE_URL": "", "ALLOW_EPHEMERAL_SQLITE": "", "RAILWAY_VOLUME_MOUNT_PATH": ""}
    error = load_settings({**railway, **unset}, ["DATABASES"])["error"]
    message = error.strip().splitlines()[-1]
    assert message.startswith("django.core.exceptions.ImproperlyConfigured: DATABASE_URL is unset")
    assert "ALLOW_EPHEMERAL_SQLITE=true" in message

    allowed = load_settings({**railway, **unset, "ALLOW_EPHEMERAL_SQLITE": "true"}, ["DATABASES"])
    assert "error" not in allowed
    on_volume = {
        **unset,
        "RAILWAY_VOLUME_MOUNT_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    assert "error" not in load_settings({**railway, **on_volume}, ["DATABASES"])
    elsewhere = {**on_volume, "DATABASE_URL": "sqlite:///db.sqlite3"}
    assert "error" in load_settings({**railway, **elsewhere}, ["DATABASES"])


def test_hsts_rollout_stages_and_their_deploy_check_silences(load_settings):
    names = [
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SILENCED_SYSTEM_CHECKS",
    ]
    first = load_settings({"DEBUG": "False"}, names)
    assert first["SECURE_HSTS_SECONDS"] == 31_536_000
    assert not first["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and not first["SECURE_HSTS_PRELOAD"]
    assert {"security.W005", "security.W021"} <= set(first["SILENCED_SYSTEM_CHECKS"])
    final = load_settings(
        {
            "DEBUG": "False",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
            "SECURE_HSTS_PRELOAD": "true",
            "SECURE_HSTS_SECONDS": "63072000",
        },
        names,
    )
    assert final["SECURE_HSTS_SECONDS"] == 63_072_000
    assert final["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and final["SECURE_HSTS_PRELOAD"]
    assert not {"security.W005", "security.W021"} & set(final["SILENCED_SYSTEM_CHECKS"])
    assert load_settings({"DEBUG": "True"}, names)["SECURE_HSTS_SECONDS"] == 0


def test_cookie_prefixes_only_where_cookies_are_secure(load_settings):
    names = ["SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "SESSION_COOKIE_SECURE"]
    production = load_settings({"DEBUG": "False"}, names)
    assert production == {
        "SESSION_COOKIE_NAME": "__Host-sessionid",
        "CSRF_COOKIE_NAME": "__Host-csrftoken",
        "SESSION_COOKIE_SECURE": True,
    }
    local = load_settings({"DEBUG": "True"}, names)
    assert local["SESSION_COOKIE_NAME"] == "sessionid"  # plain HTTP: no Secure, no prefix


def test_no_manifest_and_no_unused_html_among_public_static_files(settings):
    """WhiteNoise serves all of STATIC_ROOT: the manifest lives outside it, and collectstatic
    leaves out Swagger UI's OAuth2 page (HTML for a flow this API does not use)."""
    from django.apps import apps
    from django.contrib.staticfiles import finders

    from plumbing.storage import StaticFilesStorage

    manifest = Path(StaticFilesStorage().manifest_storage.path("staticfiles.json"))
    assert Path(settings.STATIC_ROOT) not in manifest.parents
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    collected = [path for finder in finders.get_finders() for path, _ in finder.list(ignore)]
    assert any(path.endswith("swagger-ui-bundle.js") for path in collected)
    assert not [path for path in collected if "oauth2-redirect" in path]


MAILER = (
    "import json\nfrom django.core import mail\n"
    "c = mail.mailers.default if hasattr(mail, 'mailers') else mail.get_connection()\n"
    "keys = ('host', 'port', 'username', 'password', 'use_tls', 'use_ssl', 'timeout')\n"
    "print(json.dumps({'class': type(c).__name__, 'module': type(c).__module__,"
    " **{k: getattr(c, k, None) for k in keys}}))"
)


def mailer(env):
    result = run_django({"DJANGO_SECRET_KEY": "k" * 50, **env}, MAILER)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_email_url_configures_smtp_with_tls_and_decoded_credentials():
    url = "smtp+tls://apikey:p%40ss%2Fword@smtp.example.com"
    smtp = mailer({"DEBUG": "False", "EMAIL_URL": url})
    assert smtp["module"] == "django.core.mail.backends.smtp"
    assert (smtp["host"], smtp["port"], smtp["username"]) == ("smtp.example.com", 587, "apikey")
    assert smtp["password"] == "p@ss/word"
    assert smtp["use_tls"] is True and smtp["use_ssl"] is False and smtp["timeout"] == 10


def test_without_email_url_debug_prints_and_production_says_what_is_missing():
    assert mailer({"DEBUG": "True", "EMAIL_URL": ""})["module"].endswith("backends.console")
    assert mailer({"DEBUG": "False", "EMAIL_URL": ""})["class"] == "NotConfiguredBackend"


def test_bad_email_url_and_tasks_backend_are_clear_errors(load_settings):
    bad_url = load_settings({"EMAIL_URL": "https://mail.example.com"}, ["DEBUG"])
    assert "EMAIL_URL must start with smtp://" in bad_url["error"]
    bad_backend = load_settings({"TASKS_BACKEND": "redis"}, ["DEBUG"])
    assert "TASKS_BACKEND must be immediate or database, not 'redis'" in bad_backend["error"]


def test_tasks_run_immediately_in_debug_and_queue_in_production(load_settings):
    debug = load_settings({"DEBUG": "True", "TASKS_BACKEND": ""}, ["TASKS"])
    production = load_settings(
        {"DEBUG": "False", "TASKS_BACKEND": "", "DJANGO_SECRET_KEY": "k" * 50}, ["TASKS"]
    )
    assert debug["TASKS"]["default"]["BACKEND"].endswith("ImmediateBackend")
    assert production["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
