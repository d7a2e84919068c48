"""Validators for uploaded files, for any model field or serializer field.

A file's type is read from its first bytes (filetype's signatures), never from the client's
Content-Type or file name. Django has no such validator (FileExtensionValidator trusts the
name), so this one follows Django's validator API: a callable that raises ValidationError,
deconstructible so that a model field's migration can record it.
https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/ref/validators/
"""

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

__all__ = ["FileTypeValidator", "sniff"]


def sniff(upload) -> str | None:
    """The MIME type read from the file's first bytes, or None when no signature matches.
    The file is left at its start."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    return kind.mime if kind else None


@deconstructible
class FileTypeValidator:
    """Accept a file whose bytes are one of `allowed` MIME types (default: the setting
    UPLOAD_ALLOWED_TYPES, read at each call). On a model field:
    `models.FileField(validators=[FileTypeValidator(["image/png", "image/jpeg"])])`."""

    message = "Unsupported file type. Allowed: %(allowed)s."
    code = "unsupported_file_type"

    def __init__(self, allowed: list[str] | None = None):
        self.allowed = list(allowed) if allowed is not None else None

    def __call__(self, upload) -> None:
        self.allowed_type(upload)

    def allowed_type(self, upload) -> str:
        """The file's MIME type, read from its bytes; ValidationError when it is not allowed."""
        allowed = self.allowed if self.allowed is not None else settings.UPLOAD_ALLOWED_TYPES
        content_type = sniff(upload)
        if content_type not in allowed:
            raise ValidationError(
                self.message, code=self.code, params={"allowed": ", ".join(allowed)}
            )
        return content_type

    def __eq__(self, other):
        return isinstance(other, FileTypeValidator) and self.allowed == other.allowed
