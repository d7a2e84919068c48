from django.apps import AppConfig
from django.contrib.staticfiles.apps import StaticFilesConfig


class PlumbingConfig(AppConfig):
    # Picked for INSTALLED_APPS "plumbing": this module has three AppConfig classes.
    default = True
    name = "plumbing"
    verbose_name = "Plumbing (template-owned)"

    def ready(self):
        from . import tasks

        tasks.connect()  # retry failed background tasks


class ProjectStaticFilesConfig(StaticFilesConfig):
    """collectstatic without Redoc: drf-spectacular-sidecar ships it, /api/docs/ uses Swagger UI,
    and compressing its 5 MB on every start would slow each deploy by seconds."""

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "redoc"]
