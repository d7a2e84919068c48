"""The uploads API on the local-disk backend (the bucket backend is tested against a real
S3-compatible server by the template's own tests)."""

import zlib

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.pagination import PageNumberPagination
from rest_framework.test import APIClient

from files.models import File
from files.serializers import FileTooLarge, UploadSerializer

pytestmark = pytest.mark.django_db


def png(payload=b""):
    """A valid 1x1 PNG, with `payload` in a comment chunk to choose its size and content."""

    def chunk(kind, data):
        crc = zlib.crc32(kind + data).to_bytes(4, "big")
        return len(data).to_bytes(4, "big") + kind + data + crc

    ihdr = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"tEXt", b"Comment\x00" + payload)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def make_client(django_user_model):
    def make(username="alice"):
        user = django_user_model.objects.create_user(username, password="x-long-password")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user)}")
        return client

    return make


def upload(client, content, name="picture.png", content_type="image/png"):
    body = {"file": SimpleUploadedFile(name, content, content_type=content_type)}
    return client.post("/api/files/", body, format="multipart", secure=True)


def test_upload_list_download_delete(make_client, media_root):
    client = make_client()
    content = png(b"hello")
    response = upload(client, content, name="holiday photo.png")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "holiday photo.png"
    assert created["content_type"] == "image/png"
    assert created["size"] == len(content)
    assert created["url"].startswith("https://testserver/media/files/")

    stored = File.objects.get(pk=created["id"])
    assert "holiday" not in stored.file.name  # the key is generated, never the client's name
    assert stored.file.name.startswith("files/") and stored.file.name.endswith(".png")
    with default_storage.open(stored.file.name) as handle:
        assert handle.read() == content

    listed = client.get("/api/files/", secure=True).json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == created["id"]
    assert "url" not in listed["results"][0]

    detail = client.get(f"/api/files/{created['id']}/", secure=True).json()
    assert detail["url"] == created["url"]

    path = media_root / stored.file.name
    assert path.exists()
    assert client.delete(f"/api/files/{created['id']}/", secure=True).status_code == 204
    assert not path.exists()
    assert not File.objects.exists()
    assert client.get(f"/api/files/{created['id']}/", secure=True).status_code == 404


def test_the_download_url_works_without_a_bucket_with_debug_off(make_client, settings):
    assert not settings.DEBUG and not settings.MEDIA_BUCKET
    client = make_client()
    content = png(b"served")
    url = upload(client, content).json()["url"]
    download = client.get(url, secure=True)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == "attachment"
    assert client.get("/media/../config/settings.py", secure=True).status_code in (400, 404)


def test_another_users_files_are_404(make_client):
    owner, other = make_client("owner"), make_client("other")
    file_id = upload(owner, png()).json()["id"]
    assert other.get(f"/api/files/{file_id}/", secure=True).status_code == 404
    assert other.delete(f"/api/files/{file_id}/", secure=True).status_code == 404
    assert other.get("/api/files/", secure=True).json()["count"] == 0
    assert File.objects.filter(pk=file_id).exists()


def test_list_is_paginated_newest_first(make_client, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    client = make_client()
    ids = [upload(client, png(bytes([i]))).json()["id"] for i in range(3)]
    first = client.get("/api/files/", secure=True).json()
    assert first["count"] == 3
    assert [item["id"] for item in first["results"]] == ids[::-1][:2]
    second = client.get(first["next"], secure=True).json()
    assert [item["id"] for item in second["results"]] == ids[:1]


def test_type_is_read_from_the_bytes_not_the_name_or_header(make_client):
    client = make_client()
    html = b"<html><script>alert(1)</script></html>"
    response = upload(client, html, name="cat.png", content_type="image/png")
    assert response.status_code == 415
    assert response.json()["detail"].startswith("Unsupported file type. Allowed: ")
    # A real PDF sent as text/html with a .html name is stored as the PDF it is.
    response = upload(client, PDF, name="invoice.html", content_type="text/html")
    assert response.status_code == 201
    assert response.json()["content_type"] == "application/pdf"
    assert File.objects.get().file.name.endswith(".pdf")


def test_allowed_types_come_from_settings(make_client, settings):
    settings.UPLOAD_ALLOWED_TYPES = ["application/pdf"]
    response = upload(make_client(), png())
    assert response.status_code == 415
    assert response.json() == {"detail": "Unsupported file type. Allowed: application/pdf."}


def test_oversize_upload_is_413_json(make_client, settings):
    settings.MAX_UPLOAD_SIZE = 2000
    response = upload(make_client(), png(b"x" * 3000))
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert not File.objects.exists()


def test_the_file_itself_is_checked_against_the_limit(settings):
    """Defence in depth: a body that reached the view (its length undeclared) is checked too."""
    settings.MAX_UPLOAD_SIZE = 100
    serializer = UploadSerializer(data={"file": SimpleUploadedFile("a.png", png(b"y" * 200))})
    with pytest.raises(FileTooLarge):
        serializer.is_valid()


def test_missing_or_empty_file_is_400(make_client):
    client = make_client()
    assert client.post("/api/files/", {}, format="multipart", secure=True).status_code == 400
    response = upload(client, b"", name="empty.png")
    assert response.status_code == 400
    assert "file" in response.json()


def test_client_file_name_is_cleaned_for_display(make_client):
    response = upload(make_client(), png(), name="..\\../etc/pass\x00wd\x1b.png")
    assert response.status_code == 201
    assert response.json()["name"] == "passwd.png"


def test_uploads_need_a_token(client):
    assert client.post("/api/files/", {}, secure=True).status_code == 401
    assert client.get("/api/files/", secure=True).status_code == 401


def test_uploads_are_rate_limited_per_user(make_client, settings):
    # A day's window: three uploads cannot straddle two windows, as they could a minute's.
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "upload": "2/d"}
    alice, bob = make_client("alice"), make_client("bob")
    assert [upload(alice, png()).status_code for _ in range(3)] == [201, 201, 429]
    assert upload(bob, png()).status_code == 201


def test_unwritable_storage_is_503_and_nothing_is_saved(make_client, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.MEDIA_ROOT = blocker
    response = upload(make_client(), png())
    assert response.status_code == 503
    assert response.json() == {"detail": "File storage is unavailable, try again later."}
    assert str(tmp_path) not in response.content.decode()
    assert not File.objects.exists()


def test_failed_object_delete_keeps_the_row(make_client, monkeypatch):
    client = make_client()
    file_id = upload(client, png()).json()["id"]

    def unreachable(name):
        raise OSError("connection refused to 10.1.2.3")

    monkeypatch.setattr(default_storage, "delete", unreachable)
    response = client.delete(f"/api/files/{file_id}/", secure=True)
    assert response.status_code == 503
    assert b"10.1.2.3" not in response.content
    assert File.objects.filter(pk=file_id).exists()


def test_deleting_a_user_deletes_their_objects(
    make_client, media_root, django_user_model, django_capture_on_commit_callbacks
):
    upload(make_client("leaving"), png())
    path = media_root / File.objects.get().file.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        django_user_model.objects.get(username="leaving").delete()
    assert not File.objects.exists()
    assert not path.exists()
