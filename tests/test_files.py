"""The uploads API on a bucket: the Procfile web command against moto's S3 server on loopback.

moto_server (PyPI moto[server], in the template's test group) is a real S3 HTTP endpoint:
objects go over HTTP, presigned URLs are fetched from it, and stopping it is a real outage.
The local-disk backend is covered by the baked project's own tests (files/tests/).
"""

import http.client
import json
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
import zlib
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from baked_venvs import venv_env
from http_clients import signup
from processes import free_port
from railway import HTTPS, PROBE, deploy_copy, production_env, refusal_to_start
from rate_windows import fresh_client_ip
from servers import Server
from services import reachable, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.server]

KEY_ID, SECRET = "railway-key-id", "railway-secret-" + "s" * 24


class MotoServer:
    """moto_server on 127.0.0.1:<free port>; stop() is a bucket outage."""

    def __init__(self, log_path):
        self.port = free_port()
        self.log_path = log_path
        self.process = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        binary = Path(sys.executable).parent / "moto_server"
        if not binary.exists():
            binary = shutil.which("moto_server")
        if not binary:
            unavailable("moto_server is not installed (pip install --group test)")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while not reachable("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"moto_server did not start: {Path(self.log_path).read_text()}")
            time.sleep(0.1)
        return self

    def client(self):
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
            config=Config(s3={"addressing_style": "path"}),
        )

    def create_bucket(self):
        name = f"uploads-{secrets.token_hex(4)}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process:
            self.log.close()


def bucket_env(moto, bucket, **extra):
    """Railway's own variable names, as a bucket's references give them to the web service."""
    return production_env(
        BUCKET=bucket, ACCESS_KEY_ID=KEY_ID, SECRET_ACCESS_KEY=SECRET, REGION="auto",
        ENDPOINT=moto.endpoint, S3_ADDRESSING_STYLE="path", **extra,
    )


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bucket(moto):
    return moto.create_bucket()


@pytest.fixture(scope="module")
def s3web(deployed, moto, bucket, tmp_path_factory):
    project, venv = deployed
    workdir = tmp_path_factory.mktemp("s3web")
    server = Server(deploy_copy(project, workdir / "app"), venv_env(venv, bucket_env(moto, bucket)),
                    workdir / "web.log")
    with server:
        yield server


def png(payload=b""):
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", b"Comment\x00" + payload)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def multipart(content, filename="photo.png", content_type="image/png"):
    boundary = uuid.uuid4().hex
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(server, token, content, **kwargs):
    body, content_type = multipart(content, **kwargs)
    headers = {**HTTPS, "Authorization": f"Token {token}", "Content-Type": content_type,
               "X-Real-IP": fresh_client_ip()}
    status, _, response = server.http.request("POST", "/api/files/", headers, body, timeout=60)
    return status, json.loads(response)


def call(server, method, path, token):
    headers = {**HTTPS, "Authorization": f"Token {token}", "X-Real-IP": fresh_client_ip()}
    status, _, body = server.http.request(method, path, headers)
    return status, json.loads(body) if body else None


def test_health_reports_the_bucket(s3web):
    status, _, body = s3web.http.get("/health/", PROBE)
    assert status == 200
    assert json.loads(body) == {"status": "healthy", "checks": {"database": "ok", "storage": "ok"}}


def test_upload_list_presigned_download_delete(s3web, moto, bucket):
    token = signup(s3web)
    content = png(secrets.token_bytes(1_500_000))  # over FILE_UPLOAD_MAX_MEMORY_SIZE: spooled to disk
    status, created = upload(s3web, token, content, filename="report 2026.png", content_type="text/plain")
    assert status == 201, created
    assert created["content_type"] == "image/png" and created["size"] == len(content)

    status, listed = call(s3web, "GET", "/api/files/", token)
    assert status == 200 and listed["count"] == 1 and listed["results"][0]["id"] == created["id"]

    status, detail = call(s3web, "GET", f"/api/files/{created['id']}/", token)
    assert status == 200
    url = detail["url"]
    assert url.startswith(f"{moto.endpoint}/{bucket}/files/") and "X-Amz-Signature=" in url
    assert "X-Amz-Expires=300" in url  # short-lived by default (S3_URL_EXPIRY)

    # The object is private: only the presigned URL reads it.
    key = url.split(f"/{bucket}/", 1)[1].split("?")[0]
    assert "report" not in key  # generated key, not the client's name
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == content
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Content-Disposition"] == 'attachment; filename="report 2026.png"'
    head = moto.client().head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"]  # a checksum went with the upload, and the server kept it
    assert head["ContentType"] == "image/png"
    acl = moto.client().get_object_acl(Bucket=bucket, Key=key)
    assert not [g for g in acl["Grants"] if "URI" in g["Grantee"]]  # no public grant

    status, _ = call(s3web, "DELETE", f"/api/files/{created['id']}/", token)
    assert status == 204
    with pytest.raises(ClientError) as gone:
        moto.client().head_object(Bucket=bucket, Key=key)
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert call(s3web, "GET", f"/api/files/{created['id']}/", token)[0] == 404


def test_a_public_file_has_a_stable_url_that_redirects_to_a_cacheable_link(s3web, moto, bucket):
    content = png(b"catalog image")
    key = f"public/catalog/{uuid.uuid4().hex}.png"
    moto.client().put_object(Bucket=bucket, Key=key, Body=content, ContentType="image/png")
    path = "/" + key  # the stable URL: /public/<folder>/<name>, no token, no expiry
    status, headers, _ = s3web.http.get(path, {**HTTPS, "X-Real-IP": fresh_client_ip()})
    assert status == 302
    assert headers["Cache-Control"] == "public, max-age=3600"  # PUBLIC_FILES_MAX_AGE
    location = headers["Location"]
    assert location.startswith(f"{moto.endpoint}/{bucket}/{key}?") and "X-Amz-Expires=7200" in location
    with urllib.request.urlopen(location, timeout=10) as response:
        assert response.read() == content
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Cache-Control"] == "public, max-age=7200"
    # The rest of the bucket stays private: only keys under public/ are served.
    private = f"files/{uuid.uuid4().hex}.png"
    moto.client().put_object(Bucket=bucket, Key=private, Body=content)
    for probe in (f"/public/../{private}", f"/public/%2e%2e/{private}", f"/{private}"):
        status, headers, _ = s3web.http.get(probe, {**HTTPS, "X-Real-IP": fresh_client_ip()})
        assert status in (400, 404) and "Location" not in headers, probe


def test_railway_without_a_bucket_refuses_to_start(deployed):
    project, venv = deployed
    env = venv_env(venv, production_env())
    del env["ALLOW_EPHEMERAL_MEDIA"]  # a Railway service with no bucket and no volume
    last_line = refusal_to_start(project, env)
    assert last_line == (
        "django.core.exceptions.ImproperlyConfigured: No bucket on Railway: uploaded files on the"
        " container's disk would be lost at the next deploy. Set BUCKET, ACCESS_KEY_ID,"
        " SECRET_ACCESS_KEY, REGION, ENDPOINT from a Railway bucket (docs/files.md), put MEDIA_ROOT"
        " on a volume, or set ALLOW_EPHEMERAL_MEDIA=true to accept that."
    )


def test_without_a_bucket_the_download_url_works_in_production(web):
    token = signup(web)
    content = png(b"on the disk")
    status, created = upload(web, token, content)
    assert status == 201, created
    assert created["url"].startswith(f"https://{HTTPS['Host']}/media/files/")
    path = created["url"].split(HTTPS["Host"], 1)[1]
    status, headers, body = web.http.get(path, {**HTTPS, "X-Real-IP": fresh_client_ip()})
    assert status == 200 and body == content
    assert headers["Content-Type"] == "image/png"


def test_another_user_gets_404(s3web):
    owner, other = signup(s3web), signup(s3web)
    status, created = upload(s3web, owner, png())
    assert status == 201
    assert call(s3web, "GET", f"/api/files/{created['id']}/", other)[0] == 404
    assert call(s3web, "DELETE", f"/api/files/{created['id']}/", other)[0] == 404
    assert call(s3web, "GET", "/api/files/", other)[1]["count"] == 0
    assert call(s3web, "GET", f"/api/files/{created['id']}/", owner)[0] == 200


def upload_head(token, content_type, length):
    """The request line and headers of an upload, as Railway's edge forwards them."""
    return (f"POST /api/files/ HTTP/1.1\r\nHost: {HTTPS['Host']}\r\nX-Forwarded-Proto: https\r\n"
            f"Authorization: Token {token}\r\nX-Real-IP: {fresh_client_ip()}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n")


def test_oversize_is_413_json_before_the_body_is_sent(s3web):
    """Only the headers go out: the 413 comes from Content-Length alone, nothing is read. The
    limit of a multipart body is MAX_UPLOAD_SIZE plus 64 KiB for the form around the file."""
    token = signup(s3web)
    _, content_type = multipart(b"")
    limit = 10 * 1024 * 1024 + 64 * 1024
    with socket.create_connection(("127.0.0.1", s3web.port), timeout=10) as sock:
        sock.sendall(upload_head(token, content_type, limit + 1).encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 413
        assert response.headers["Content-Type"] == "application/json"
        body = json.loads(response.read())
    assert body == {"detail": f"Request body too large: the limit is {limit} bytes."}


def test_wrong_type_is_415_and_nothing_is_stored(s3web, moto, bucket):
    token = signup(s3web)
    before = moto.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    status, body = upload(s3web, token, b"<svg onload=alert(1)>", filename="x.png")
    assert status == 415 and body["detail"].startswith("Unsupported file type.")
    assert moto.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == before


def test_bucket_outage_is_a_clean_503(deployed, tmp_path):
    """A second web service on its own moto; the moto is stopped: uploads and /health/ say 503,
    and nothing about the endpoint, the bucket or the keys leaks."""
    project, venv = deployed
    moto = MotoServer(tmp_path / "moto.log").start()
    bucket = moto.create_bucket()
    server = Server(deploy_copy(project, tmp_path / "app"), venv_env(venv, bucket_env(moto, bucket)),
                    tmp_path / "web.log")
    with server:
        token = signup(server)
        moto.stop()
        status, body = upload(server, token, png())
        assert status == 503
        assert body == {"detail": "File storage is unavailable, try again later."}
        time.sleep(3.1)  # a health result is shared for 3 s (plumbing/health.py)
        status, _, health = server.http.get("/health/", PROBE)
        assert status == 503
        assert json.loads(health) == {"status": "unhealthy", "checks": {"database": "ok", "storage": "error"}}
        for leak in (str(moto.port), bucket, KEY_ID, SECRET, "Traceback", "botocore"):
            assert leak.encode() not in health
            assert leak not in json.dumps(body)
        assert "file storage unreachable" in server.output().lower()


def test_slow_5mb_upload_completes_while_health_answers(s3web):
    """5 MB at 50 KB/s (~100 s), as from a phone on a poor connection, through the Procfile web
    command with no buffering proxy in front: the upload must complete and /health/ must keep
    answering all along. Needs the serving setup of the slow-clients issue (a sync gunicorn
    worker is killed after its 30 s timeout)."""
    token = signup(s3web)
    content = png(secrets.token_bytes(5 * 1024 * 1024 - 200))
    body, content_type = multipart(content)
    head = upload_head(token, content_type, len(body))
    probes, stop = [], threading.Event()

    def probe():
        while not stop.is_set():
            start = time.monotonic()
            try:
                status, _, _ = s3web.http.get("/health/", PROBE, timeout=5)
            except OSError:
                status = None
            probes.append((status, time.monotonic() - start))
            stop.wait(1)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    chunk, interval = 5 * 1024, 0.1  # 50 KB/s
    with socket.create_connection(("127.0.0.1", s3web.port), timeout=30) as sock:
        sock.sendall(head.encode())
        next_send = time.monotonic()
        try:
            for offset in range(0, len(body), chunk):
                sock.sendall(body[offset : offset + chunk])
                next_send += interval
                time.sleep(max(0, next_send - time.monotonic()))
            response = b""
            while data := sock.recv(65536):
                response += data
        except OSError as error:
            response = f"connection broken after {offset} bytes: {error!r}".encode()
    stop.set()
    prober.join()
    assert response.startswith(b"HTTP/1.1 201"), response[:300]
    failed = [p for p in probes if p[0] != 200]
    assert len(probes) > 60 and not failed, failed
