"""Files users upload: one row per object in the default storage (a bucket, or MEDIA_ROOT).

The object's key is generated here, never taken from the client; the client's file name is kept
only as `name`, for display and as the download's file name. Deleting a row (the API, the admin,
or a deleted user's cascade) deletes its object once the transaction commits.
"""

import logging
import uuid

import filetype
from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from plumbing.media import STORAGE_ERRORS

logger = logging.getLogger(__name__)


def object_key(instance, filename):
    """files/<random hex>.<extension of the sniffed type>; `filename` (the client's) is ignored."""
    kind = filetype.get_type(mime=instance.content_type)
    extension = f".{kind.extension}" if kind else ""
    return f"files/{uuid.uuid4().hex}{extension}"


class File(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files"
    )
    file = models.FileField(upload_to=object_key, max_length=255)
    name = models.CharField(max_length=255, help_text="The client's file name (display only).")
    content_type = models.CharField(max_length=100, help_text="Detected from the bytes.")
    size = models.PositiveBigIntegerField(help_text="In bytes.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="files_owner_created")]

    def __str__(self):
        return self.name


@receiver(post_delete, sender=File)
def delete_object(sender, instance, **kwargs):
    """Remove the stored object after the row's deletion commits (a rollback keeps both).

    The API deletes the object itself first (so an unreachable bucket is a 503 and nothing
    changes) and marks the instance; every other deletion path lands here.
    """
    if getattr(instance, "object_deleted", False) or not instance.file.name:
        return
    storage, name = instance.file.storage, instance.file.name

    def delete():
        try:
            storage.delete(name)
        except STORAGE_ERRORS:
            logger.exception("Could not delete stored object %s; delete it by hand", name)

    transaction.on_commit(delete)
