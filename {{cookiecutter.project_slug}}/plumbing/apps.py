from django.apps import AppConfig
from django.contrib.staticfiles.apps import StaticFilesConfig


class PlumbingConfig(AppConfig):
    default = True  # "plumbing" in INSTALLED_APPS means this one, not the staticfiles config
    name = "plumbing"
    verbose_name = "Plumbing (template-owned)"

    def ready(self):
        from django.contrib.auth.signals import user_login_failed

        from . import checks, tasks  # noqa: F401 - importing checks registers them
        from .lockout import count_failed_login

        user_login_failed.connect(count_failed_login, dispatch_uid="plumbing.count_failed_login")
        tasks.connect()  # retry failed background tasks


class ProjectStaticFilesConfig(StaticFilesConfig):
    """collectstatic without Redoc: drf-spectacular-sidecar ships it, /api/docs/ uses Swagger UI,
    and compressing its 5 MB would slow each build for nothing. Nor Swagger UI's oauth2-redirect
    page: an HTML page for OAuth2 flows this API does not use, which would be public."""

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "redoc", "oauth2-redirect.*"]
