"""Public files: a stable, cacheable URL for a file a model marks public, from a private bucket.

Railway's buckets are private and presigned links expire, so a catalog image cannot link to
the bucket for good. A file stored under public/ (upload_to=PublicUploadTo("catalog")) gets a
URL on this site, /public/catalog/<random>.<ext>, that never changes. It answers 302 to a fresh
presigned link, and lets browsers and CDNs cache that redirect for PUBLIC_FILES_MAX_AGE seconds:
the link lives twice as long, so a cached redirect never leads to an expired link. Without a
bucket it serves the file from MEDIA_ROOT. Keys outside public/ are never served here, so the
rest of the bucket stays private. No library does this for django-storages (its
`querystring_auth=False` needs a public bucket, which Railway does not have).
"""

import mimetypes
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.deconstruct import deconstructible
from django.views import static
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

__all__ = ["PREFIX", "PublicFileURLField", "PublicUploadTo", "public_url", "serve"]

PREFIX = "public/"
# Extensions a public key may keep from the client's file name: what a browser shows inline and
# never runs. The type itself is checked from the bytes (plumbing.validators.FileTypeValidator).
EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".pdf"}


@deconstructible
class PublicUploadTo:
    """upload_to for a public file: public/<folder>/<random hex><extension>. The client's name
    gives only the extension, and only one of EXTENSIONS."""

    def __init__(self, folder: str):
        self.folder = folder.strip("/")

    def __call__(self, instance, filename: str) -> str:
        extension = PurePosixPath(filename).suffix.lower()
        extension = extension if extension in EXTENSIONS else ""
        return f"{PREFIX}{self.folder}/{uuid.uuid4().hex}{extension}"

    def __eq__(self, other):
        return isinstance(other, PublicUploadTo) and self.folder == other.folder


def public_url(file, request=None) -> str | None:
    """The stable URL of a public file (a FieldFile or a key under public/), absolute when a
    request is given; None for an empty field."""
    name = getattr(file, "name", file)
    if not name:
        return None
    if not name.startswith(PREFIX):
        raise ValueError(f"{name!r} is not a public file: store it with PublicUploadTo")
    url = reverse("public-file", kwargs={"name": name.removeprefix(PREFIX)})
    return request.build_absolute_uri(url) if request else url


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class PublicFileURLField(serializers.Field):
    """A model's public file as its stable URL: `image_url = PublicFileURLField(source="image")`."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return public_url(value, self.context.get("request"))


@require_safe
def serve(request, name):
    """GET /public/<name>: a redirect to the object in the bucket, or the file from MEDIA_ROOT."""
    key = PREFIX + name
    if ".." in PurePosixPath(name).parts or name.startswith("/"):
        raise Http404
    max_age = settings.PUBLIC_FILES_MAX_AGE
    if settings.MEDIA_BUCKET:
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        cache = f"public, max-age={2 * max_age}"
        parameters = {"ResponseContentType": content_type, "ResponseCacheControl": cache}
        location = default_storage.url(key, parameters=parameters, expire=2 * max_age)
        response = HttpResponseRedirect(location)
    else:
        response = static.serve(request, key, document_root=settings.MEDIA_ROOT)
    patch_cache_control(response, public=True, max_age=max_age)
    return response
