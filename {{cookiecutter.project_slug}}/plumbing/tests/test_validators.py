"""FileTypeValidator reads a file's type from its bytes, on a model field or a serializer."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.migrations.writer import MigrationWriter
from rest_framework import serializers

from plumbing.validators import FileTypeValidator

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.7\n" + b"\0" * 64


def upload(content, name="x.png", content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_the_bytes_decide_not_the_name_or_content_type():
    images = FileTypeValidator(["image/png"])
    images(upload(PNG))
    with pytest.raises(ValidationError) as refused:
        images(upload(PDF))  # named x.png, sent as image/png
    assert refused.value.code == "unsupported_file_type"
    assert refused.value.messages == ["Unsupported file type. Allowed: image/png."]


def test_allowed_type_gives_the_type_read_from_the_bytes():
    # What the upload API stores as the object's type: one read of the file, left at its start.
    pdf = upload(PDF, name="x.png", content_type="image/png")
    assert FileTypeValidator(["application/pdf"]).allowed_type(pdf) == "application/pdf"
    assert pdf.read() == PDF


def test_without_a_list_the_setting_decides(settings):
    settings.UPLOAD_ALLOWED_TYPES = ["application/pdf"]
    FileTypeValidator()(upload(PDF))
    with pytest.raises(ValidationError):
        FileTypeValidator()(upload(PNG))


def test_a_model_field_migration_can_record_it():
    source, imports = MigrationWriter.serialize(FileTypeValidator(["image/png"]))
    assert source == "plumbing.validators.FileTypeValidator(['image/png'])"
    assert imports == {"import plumbing.validators"}


def test_a_serializer_field_refuses_with_a_400_message():
    class Avatar(serializers.Serializer):
        image = serializers.FileField(validators=[FileTypeValidator(["image/png"])])

    refused = Avatar(data={"image": upload(PDF)})
    assert not refused.is_valid()
    assert refused.errors["image"][0].code == "unsupported_file_type"
    assert Avatar(data={"image": upload(PNG)}).is_valid()
