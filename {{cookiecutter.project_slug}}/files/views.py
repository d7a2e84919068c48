"""POST/GET/DELETE /api/files/: each user's own uploads (others' are 404, never 403).

Uploads are limited per user (RATELIMIT_RATES["upload"]) and in size (MAX_UPLOAD_SIZE; larger
bodies are refused before they are read, see plumbing/middleware.py). When the store is
unreachable the API answers 503 and nothing changes.
"""

import logging

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from plumbing.media import STORAGE_ERRORS
from plumbing.parsers import MultiPartParser
from plumbing.ratelimit import ratelimit
from plumbing.schema import DetailSerializer

from .models import File
from .serializers import FileDetailSerializer, FileSerializer, UploadSerializer

logger = logging.getLogger(__name__)


def error(description):
    return OpenApiResponse(DetailSerializer, description=description)


NOT_FOUND = {404: error("No such file among yours.")}
UNAVAILABLE = {503: error("File storage unreachable; nothing was changed. Retry later.")}


def storage_unavailable():
    return Response(
        {"detail": "File storage is unavailable, try again later."},
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "30"},
    )


@extend_schema_view(
    list=extend_schema(summary="Your files, newest first"),
    retrieve=extend_schema(
        summary="One of your files, with a download URL",
        responses={200: FileDetailSerializer, **NOT_FOUND},
    ),
)
class FileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return File.objects.filter(owner_id=self.request.user.pk)

    def get_serializer_class(self):
        return FileSerializer if self.action == "list" else FileDetailSerializer

    @extend_schema(
        summary="Upload a file",
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: FileDetailSerializer,
            413: error("Over MAX_UPLOAD_SIZE bytes."),
            415: error("Type (read from the bytes) not in UPLOAD_ALLOWED_TYPES."),
            429: error("Too many uploads; see Retry-After."),
            **UNAVAILABLE,
        },
    )
    @ratelimit("upload", key="user")
    def create(self, request):
        upload = UploadSerializer(data=request.data, context={"request": request})
        upload.is_valid(raise_exception=True)
        try:
            instance = upload.save()
        except STORAGE_ERRORS:
            logger.exception("Upload failed: file storage unreachable")
            return storage_unavailable()
        data = FileDetailSerializer(instance, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Delete a file and its stored object",
        responses={204: None, **NOT_FOUND, **UNAVAILABLE},
    )
    def destroy(self, request, pk=None):
        instance = self.get_object()
        instance.object_deleted = True  # deleted below, so post_delete's hook has nothing to do
        with transaction.atomic():
            instance.delete()
            try:
                # Inside the transaction: if the store fails, the row comes back too.
                instance.file.delete(save=False)
            except STORAGE_ERRORS:
                logger.exception("Delete failed: file storage unreachable")
                transaction.set_rollback(True)
                return storage_unavailable()
        return Response(status=status.HTTP_204_NO_CONTENT)
