import logging
import re
import time
import uuid

from django.conf import settings
from django.http import JsonResponse

from plumbing.logging import request_id_var

logger = logging.getLogger("plumbing.requests")

# Railway's edge names each request; elsewhere we make an id. Only ids that look like ids are
# reused, so a client cannot write arbitrary text into logs or response headers.
REQUEST_ID_HEADER = "HTTP_X_RAILWAY_REQUEST_ID"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestLogMiddleware:
    """Give each request an id (X-Request-ID) and log one line: method, path, status, duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(REQUEST_ID_HEADER, "")
        request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.id = request_id
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        try:
            response = self.get_response(request)
            duration_ms = round((time.perf_counter() - start) * 1000, 1)
            response["X-Request-ID"] = request_id
            status = response.status_code
            if status >= 500:
                level = logging.ERROR
            elif status >= 400:
                level = logging.WARNING
            else:
                level = logging.INFO
            logger.log(
                level,
                "%s %s %s %.1fms",
                request.method,
                request.path,
                status,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class RequestSizeLimitMiddleware:
    """413 for a body over its limit, before anything reads it: MAX_UPLOAD_SIZE for file uploads
    (multipart/form-data), DATA_UPLOAD_MAX_MEMORY_SIZE for every other body.

    Django checks that limit only when request.body is read; DRF's parsers read the stream
    directly, so without this a JSON body of any size would be loaded into memory.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        self.upload_limit = settings.MAX_UPLOAD_SIZE

    def __call__(self, request):
        try:
            length = int(request.headers.get("content-length") or 0)
        except ValueError:
            length = 0
        limit = self.upload_limit if request.content_type == "multipart/form-data" else self.limit
        if limit is not None and length > limit:
            return JsonResponse(
                {"detail": f"Request body too large: the limit is {limit} bytes."},
                status=413,
            )
        return self.get_response(request)


class CrossOriginResourcePolicyMiddleware:
    """Send Cross-Origin-Resource-Policy (Django has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CROSS_ORIGIN_RESOURCE_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Cross-Origin-Resource-Policy", self.policy)
        return response
