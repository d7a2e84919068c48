"""Static files storage: WhiteNoise's compressed, hashed files, with the manifest kept apart.

`collectstatic` runs once per deploy, in Railway's build (railpack.json), so its Brotli and gzip
files are WhiteNoise's own, at the library's defaults; the web command only starts the server.
The manifest (staticfiles.json, the name of every static file) is written next to STATIC_ROOT
rather than in it: WhiteNoise serves everything in STATIC_ROOT.
"""

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

__all__ = ["StaticFilesStorage", "missing_static_files"]


def manifest_dir() -> Path:
    return Path(settings.STATIC_ROOT).with_name("staticfiles-manifest")


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage with its manifest in manifest_dir() (Django's manifest_storage)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("manifest_storage", FileSystemStorage(location=manifest_dir()))
        super().__init__(*args, **kwargs)


def missing_static_files() -> str | None:
    """Why the server must not start without collected static files, or None when they are
    there (or not needed: with DEBUG, or with another storage)."""
    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    if settings.DEBUG or backend != f"{__name__}.StaticFilesStorage":
        return None
    if (manifest_dir() / "staticfiles.json").exists():
        return None
    return (
        "Static files were not collected (no staticfiles-manifest/staticfiles.json): run"
        " `python manage.py collectstatic --noinput` before the server, as Railway's build does"
        " (railpack.json; a custom Build Command in the service's settings replaces it)."
    )
