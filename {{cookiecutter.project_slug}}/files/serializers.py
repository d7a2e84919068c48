import unicodedata
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException

from plumbing.media import download_url
from plumbing.validators import FileTypeValidator

from .models import File


class FileTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "file_too_large"

    def __init__(self):
        super().__init__(f"File too large: the limit is {settings.MAX_UPLOAD_SIZE} bytes.")


class UnsupportedFileType(APIException):
    """FileTypeValidator's refusal as 415 rather than a field's 400: the request is well formed,
    its file is of a type this API does not take."""

    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_code = "unsupported_file_type"


def display_name(name):
    """The client's file name without directories or control characters, at most 255 long."""
    name = PurePath(name.replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[-255:] or "file"


class FileSerializer(serializers.ModelSerializer):
    class Meta:
        model = File
        fields = ["id", "name", "content_type", "size", "created_at"]
        read_only_fields = fields


class FileDetailSerializer(FileSerializer):
    url = serializers.SerializerMethodField(
        help_text="Download URL. From a bucket: presigned, valid for S3_URL_EXPIRY seconds."
    )

    class Meta(FileSerializer.Meta):
        fields = [*FileSerializer.Meta.fields, "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj):
        url = download_url(obj.file.name, obj.name)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


@extend_schema_field({"type": "string", "format": "binary", "minLength": 1})
class NonEmptyFileField(serializers.FileField):
    """DRF's FileField, which refuses an empty file, with a schema that says so."""


class UploadSerializer(serializers.Serializer):
    file = NonEmptyFileField(
        help_text="The file (multipart/form-data). Size and type limits: MAX_UPLOAD_SIZE, "
        "UPLOAD_ALLOWED_TYPES; the type is read from the bytes."
    )

    def validate_file(self, upload):
        if upload.size > settings.MAX_UPLOAD_SIZE:
            raise FileTooLarge()
        try:
            # Checked against UPLOAD_ALLOWED_TYPES; the storage sends it as the object's type.
            upload.content_type = FileTypeValidator().allowed_type(upload)
        except ValidationError as error:
            raise UnsupportedFileType(error.messages[0]) from None
        return upload

    def create(self, validated_data):
        upload = validated_data["file"]
        instance = File(
            owner=self.context["request"].user,
            name=display_name(upload.name),
            content_type=upload.content_type,
            size=upload.size,
        )
        instance.file.save(upload.name, upload, save=False)  # the key comes from object_key
        try:
            instance.save()
        except Exception:
            instance.file.delete(save=False)  # no object without its row
            raise
        return instance
