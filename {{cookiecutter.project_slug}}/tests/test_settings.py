import json

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
