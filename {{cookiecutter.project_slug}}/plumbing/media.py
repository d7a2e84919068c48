"""The default storage (user uploads) as the rest of the project sees it.

config/settings.py picks it: a bucket (django-storages' S3 backend) when the bucket variables
are set, else the local disk (MEDIA_ROOT). What differs between the two lives here: the errors
an unreachable store raises, download URLs (and, on the disk, the view that answers them), and
the bucket check behind /health/.
"""

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.http import content_disposition_header
from django.views import static

# What a failing store raises: the disk, OSError; a bucket, botocore's errors (connection,
# timeout, HTTP status) and boto3's upload wrapper (S3UploadFailedError). boto3 is imported
# only when a bucket is used: it adds about half a second to every process start.
if settings.MEDIA_BUCKET:
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    STORAGE_ERRORS = (OSError, BotoCoreError, ClientError, Boto3Error)
else:
    STORAGE_ERRORS = (OSError,)


def download_url(name, filename):
    """A URL for the object `name`. From a bucket: presigned, valid for S3_URL_EXPIRY seconds,
    downloaded as an attachment called `filename`. No network call: signing is local."""
    if settings.MEDIA_BUCKET:
        disposition = content_disposition_header(as_attachment=True, filename=filename)
        return default_storage.url(name, parameters={"ResponseContentDisposition": disposition})
    return default_storage.url(name)


def serve_local(request, path):
    """GET /media/<path> without a bucket: the file from MEDIA_ROOT, so every URL download_url()
    gives works with DEBUG off too. Downloaded as an attachment, as from a bucket."""
    response = static.serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Content-Disposition"] = "attachment"
    return response


def check_bucket():
    """A HEAD request on the bucket: cheap, lists nothing, fails if unreachable or forbidden."""
    client = default_storage.connection.meta.client
    client.head_bucket(Bucket=settings.MEDIA_BUCKET)
