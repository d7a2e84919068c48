"""Public files (plumbing/public_files.py): a stable URL that redirects to a presigned link, or
serves the file from MEDIA_ROOT without a bucket; nothing outside public/ is served."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.migrations.writer import MigrationWriter
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from plumbing.public_files import PublicFileURLField, PublicUploadTo, public_url

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
BUCKET = {
    "BACKEND": "storages.backends.s3.S3Storage",
    "OPTIONS": {
        "bucket_name": "pictures",
        "access_key": "key",
        "secret_key": "secret",
        "endpoint_url": "https://storage.example.com",
        "region_name": "auto",
    },
}


def test_keys_are_random_under_public_with_a_safe_extension():
    upload_to = PublicUploadTo("catalog")
    first, second = upload_to(None, "Shoe.PNG"), upload_to(None, "shoe.png")
    assert first.startswith("public/catalog/") and first.endswith(".png") and first != second
    assert "." not in upload_to(None, "page.html").rsplit("/", 1)[1]
    source, _ = MigrationWriter.serialize(upload_to)
    assert source == "plumbing.public_files.PublicUploadTo('catalog')"


def test_without_a_bucket_the_file_is_served_and_cacheable(client, settings):
    settings.PUBLIC_FILES_MAX_AGE = 600
    name = default_storage.save("public/catalog/shoe.png", ContentFile(PNG))
    response = client.get(public_url(name), secure=True)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert "public" in response["Cache-Control"] and "max-age=600" in response["Cache-Control"]


def test_only_files_under_public_are_served(client):
    default_storage.save("files/private.png", ContentFile(PNG))
    assert client.get("/public/../files/private.png", secure=True).status_code == 404
    assert client.get("/public/%2E%2E/files/private.png", secure=True).status_code == 404
    assert client.get("/public/nothing-here.png", secure=True).status_code == 404
    assert client.post("/public/catalog/x.png", secure=True).status_code == 405
    with pytest.raises(ValueError):
        public_url("files/private.png")


def test_with_a_bucket_it_redirects_to_a_link_that_outlives_the_cache(client, settings):
    settings.STORAGES = {**settings.STORAGES, "default": BUCKET}
    settings.MEDIA_BUCKET = "pictures"
    settings.PUBLIC_FILES_MAX_AGE = 600
    response = client.get("/public/catalog/shoe.png", secure=True)
    assert response.status_code == 302
    assert response["Cache-Control"] == "public, max-age=600"
    location = urlsplit(response["Location"])
    assert location.path == "/pictures/public/catalog/shoe.png"
    query = parse_qs(location.query)
    assert query["X-Amz-Expires"] == ["1200"]
    assert query["response-content-type"] == ["image/png"]
    assert query["response-cache-control"] == ["public, max-age=1200"]


def test_a_serializer_gives_the_absolute_stable_url():
    class Product(serializers.Serializer):
        image_url = PublicFileURLField(source="image")

    class Item:
        image = "public/catalog/shoe.png"

    request = APIRequestFactory().get("/", secure=True)
    data = Product(Item(), context={"request": request}).data
    assert data["image_url"] == "https://testserver/public/catalog/shoe.png"
    Item.image = ""
    assert Product(Item(), context={"request": request}).data["image_url"] is None
