from django.apps import AppConfig
from django.contrib.staticfiles.apps import StaticFilesConfig


class PlumbingConfig(AppConfig):
    name = "plumbing"
    verbose_name = "Plumbing (template-owned)"


class ProjectStaticFilesConfig(StaticFilesConfig):
    """collectstatic without Redoc: drf-spectacular-sidecar ships it, /api/docs/ uses Swagger UI,
    and compressing its 5 MB on every start would slow each deploy by seconds. Nor Swagger UI's
    oauth2-redirect page: an HTML page for OAuth2 flows this API does not use, which would be
    public."""

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "redoc", "oauth2-redirect.*"]
