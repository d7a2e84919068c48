"""Which storage the bucket variables select, and the one-line errors for bad ones."""

from tests.conftest import run_django

RAILWAY = {
    "BUCKET": "uploads-a1b2c3",
    "ACCESS_KEY_ID": "tid_key",
    "SECRET_ACCESS_KEY": "tsec_secret",
    "REGION": "auto",
    "ENDPOINT": "https://storage.railway.app",
}
NO_BUCKET = {name: "" for name in RAILWAY} | {f"S3_{name}": "" for name in RAILWAY}


def presigned_url(env):
    """The download URL the storage signs under `env` (signing is local: no network)."""
    code = "from django.core.files.storage import default_storage as s; print(s.url('files/a.png'))"
    result = run_django(env, code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_no_bucket_variables_means_the_local_disk(load_settings):
    loaded = load_settings(NO_BUCKET, ["STORAGES", "MEDIA_BUCKET"])
    assert loaded["MEDIA_BUCKET"] == ""
    assert loaded["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")


def test_railway_bucket_variables_select_private_s3(load_settings):
    loaded = load_settings({**NO_BUCKET, **RAILWAY}, ["STORAGES", "MEDIA_BUCKET"])
    storage = loaded["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == loaded["MEDIA_BUCKET"] == "uploads-a1b2c3"
    assert options["endpoint_url"] == "https://storage.railway.app"
    assert options["region_name"] == "auto"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert options["querystring_expire"] == 300


def test_presigned_urls_are_virtual_hosted_by_default_and_path_style_on_request():
    url = presigned_url({**NO_BUCKET, **RAILWAY})
    assert url.startswith("https://uploads-a1b2c3.storage.railway.app/files/a.png?")
    assert "X-Amz-Expires=300" in url and "X-Amz-Signature=" in url
    url = presigned_url(
        {**NO_BUCKET, **RAILWAY, "S3_ADDRESSING_STYLE": "path", "S3_URL_EXPIRY": "60"}
    )
    assert url.startswith("https://storage.railway.app/uploads-a1b2c3/files/a.png?")
    assert "X-Amz-Expires=60" in url


def test_s3_prefixed_variables_win_for_other_providers(load_settings):
    other = {
        "S3_BUCKET": "my-r2-bucket",
        "S3_ACCESS_KEY_ID": "r2key",
        "S3_SECRET_ACCESS_KEY": "r2secret",
        "S3_ENDPOINT": "https://acc.r2.cloudflarestorage.com",
    }
    loaded = load_settings({**NO_BUCKET, **RAILWAY, **other}, ["STORAGES"])
    options = loaded["STORAGES"]["default"]["OPTIONS"]
    assert options["bucket_name"] == "my-r2-bucket"
    assert options["endpoint_url"] == "https://acc.r2.cloudflarestorage.com"
    assert options["region_name"] is None


def test_half_set_bucket_stops_startup_with_one_line(load_settings):
    loaded = load_settings({**NO_BUCKET, "BUCKET": "uploads", "ACCESS_KEY_ID": "k"}, ["DEBUG"])
    last_line = loaded["error"].strip().splitlines()[-1]
    assert "Bucket half configured: SECRET_ACCESS_KEY not set." in last_line
    loaded = load_settings({**NO_BUCKET, "S3_SECRET_ACCESS_KEY": "s"}, ["DEBUG"])
    assert "S3_BUCKET, S3_ACCESS_KEY_ID not set" in loaded["error"]


def test_bad_storage_values_are_refused(load_settings):
    loaded = load_settings({**NO_BUCKET, **RAILWAY, "S3_ADDRESSING_STYLE": "dns"}, ["DEBUG"])
    assert "S3_ADDRESSING_STYLE must be virtual, path or auto, not 'dns'." in loaded["error"]
    loaded = load_settings({**NO_BUCKET, "UPLOAD_ALLOWED_TYPES": "text/plain"}, ["DEBUG"])
    assert "'text/plain' cannot be detected from a file's bytes" in loaded["error"]
