"""config/settings.py under different variables, run again in this process (tests/conftest.py
load_settings); only the refusal to start needs a process of its own."""

import json
import logging
import logging.config
import re
from pathlib import Path

from django.core import mail
from django.test import override_settings

from plumbing.logging import logging_config
from tests.conftest import run_django


def test_production_refuses_to_start_without_secret_key():
    result = run_django({"DEBUG": "False", "DJANGO_SECRET_KEY": ""}, "")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY")
    assert "is not set" in last_line


def test_railway_domain_and_probe_host_are_allowed(load_settings):
    env = {"ALLOWED_HOSTS": "api.example.org", "RAILWAY_PUBLIC_DOMAIN": "x.up.railway.app"}
    loaded = load_settings({"DEBUG": "False", "CSRF_TRUSTED_ORIGINS": "", **env})
    assert loaded["ALLOWED_HOSTS"] == [
        "api.example.org",
        "x.up.railway.app",
        "healthcheck.railway.app",
    ]
    assert loaded["CSRF_TRUSTED_ORIGINS"] == ["https://api.example.org", "https://x.up.railway.app"]
    assert "localhost" in load_settings({"DEBUG": "True"})["ALLOWED_HOSTS"]


def test_apps_are_the_templates_then_the_projects(load_settings):
    loaded = load_settings({})
    assert loaded["INSTALLED_APPS"] == [*loaded["TEMPLATE_APPS"], *loaded["PROJECT_APPS"]]
    assert "plumbing" in loaded["TEMPLATE_APPS"]  # the project's own apps may be any


def test_each_variable_is_listed_once_in_env_example(settings):
    lines = (Path(settings.BASE_DIR) / ".env.example").read_text().splitlines()
    names = [
        line.lstrip("# ").split("=")[0]
        for line in lines
        if re.match(r"^#? ?[A-Z][A-Z0-9_]+=", line)
    ]
    twice = sorted({name for name in names if names.count(name) > 1})
    assert names and not twice, twice


def test_log_dir_adds_a_rotating_json_file(monkeypatch, tmp_path, settings):
    log_dir = tmp_path / "nested" / "logs"
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_DIR", str(log_dir))
    config = logging_config()
    try:
        logging.config.dictConfig(config)
        handler = next(h for h in logging.getLogger().handlers if hasattr(h, "maxBytes"))
        assert (handler.maxBytes, handler.backupCount) == (5 * 1024 * 1024, 3)
        logging.getLogger("app").warning("written to the file")
        handler.flush()
    finally:
        logging.config.dictConfig(settings.LOGGING)  # what every other test runs with
    record = json.loads((log_dir / "app.log").read_text().splitlines()[-1])
    assert record["message"] == "written to the file" and record["level"] == "WARNING"


def test_debug_relaxes_only_the_login_and_signup_limits(load_settings):
    unset = {"RATELIMIT_LOGIN": "", "RATELIMIT_LOGIN_ACCOUNT": "", "RATELIMIT_SIGNUP": ""}

    def rates(**env):
        return load_settings({**unset, **env})["RATELIMIT_RATES"]

    production, local = rates(DEBUG="False"), rates(DEBUG="True")
    relaxed = ["login", "login_account", "signup"]
    assert [production[scope] for scope in relaxed] == ["5/m", "10/15m", "3/h"]
    assert [local[scope] for scope in relaxed] == ["100/m", "100/15m", "100/h"]
    assert local["password_change"] == production["password_change"]
    assert rates(DEBUG="True", RATELIMIT_SIGNUP="2/h")["signup"] == "2/h"  # a set variable wins


def test_hsts_rollout_stages_and_their_deploy_check_silences(load_settings):
    names = ("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD")
    unset = dict.fromkeys(names, "")
    first = load_settings({"DEBUG": "False", "REDIS_URL": "", **unset})
    assert first["SECURE_HSTS_SECONDS"] == 31_536_000
    assert not first["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and not first["SECURE_HSTS_PRELOAD"]
    silenced = {"security.W005", "security.W021", "django_ratelimit.W001"}
    assert set(first["SILENCED_SYSTEM_CHECKS"]) == silenced
    final = load_settings(
        {
            "DEBUG": "False",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
            "SECURE_HSTS_PRELOAD": "true",
            "SECURE_HSTS_SECONDS": "63072000",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert final["SECURE_HSTS_SECONDS"] == 63_072_000
    assert final["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and final["SECURE_HSTS_PRELOAD"]
    assert final["SILENCED_SYSTEM_CHECKS"] == []  # and Redis is a backend django-ratelimit lists
    assert load_settings({"DEBUG": "True", **unset})["SECURE_HSTS_SECONDS"] == 0


def test_cookie_prefixes_only_where_cookies_are_secure(load_settings):
    production = load_settings({"DEBUG": "False"})
    assert production["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert production["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert production["SESSION_COOKIE_SECURE"] is True
    local = load_settings({"DEBUG": "True"})
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


def mail_connection(loaded):
    """The default mail connection Django builds from the loaded settings."""
    names = [name for name in loaded if name.startswith("EMAIL_") or name == "MAILERS"]
    with override_settings(**{name: loaded[name] for name in names}):
        return mail.mailers.default if hasattr(mail, "mailers") else mail.get_connection()


def test_email_url_configures_smtp_with_tls_and_decoded_credentials(load_settings):
    url = "smtp+tls://apikey:p%40ss%2Fword@smtp.example.com"
    smtp = mail_connection(load_settings({"DEBUG": "False", "EMAIL_URL": url, "EMAIL_TIMEOUT": ""}))
    assert type(smtp).__module__ == "django.core.mail.backends.smtp"
    assert (smtp.host, smtp.port, smtp.username) == ("smtp.example.com", 587, "apikey")
    assert smtp.password == "p@ss/word"
    assert smtp.use_tls is True and smtp.use_ssl is False and smtp.timeout == 10


def test_without_email_url_debug_prints_and_production_says_what_is_missing(load_settings):
    local = mail_connection(load_settings({"DEBUG": "True", "EMAIL_URL": ""}))
    assert type(local).__module__.endswith("backends.console")
    production = mail_connection(load_settings({"DEBUG": "False", "EMAIL_URL": ""}))
    assert type(production).__name__ == "NotConfiguredBackend"


def test_tasks_run_immediately_in_debug_and_queue_in_production(load_settings):
    debug = load_settings({"DEBUG": "True", "TASKS_BACKEND": ""})
    production = load_settings({"DEBUG": "False", "TASKS_BACKEND": ""})
    assert debug["TASKS"]["default"]["BACKEND"].endswith("ImmediateBackend")
    assert production["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


def test_bucket_variables_select_s3_for_uploads(load_settings):
    railway = {"BUCKET": "uploads-a1b2c3", "ACCESS_KEY_ID": "k", "SECRET_ACCESS_KEY": "s"}
    none = {name: "" for name in railway} | {f"S3_{name}": "" for name in railway}
    local = load_settings(none)
    assert local["MEDIA_BUCKET"] == ""
    assert local["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")
    bucket = load_settings({**none, **railway})
    assert bucket["MEDIA_BUCKET"] == "uploads-a1b2c3"
    assert bucket["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
