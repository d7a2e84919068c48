import logging
import re
import time
import uuid

from django.conf import settings
from django.http import JsonResponse

from plumbing.bodies import BODY_ERROR, BUSY, TIMEOUT, TOO_LARGE, body_limit, declared_length
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


class HeadRequestMiddleware:
    """HEAD gets GET's headers, Content-Length included, and no body.

    Django leaves dropping the body to the server; gunicorn drops it but logs a WARNING for
    each HEAD request. Sits above CommonMiddleware, which sets Content-Length from the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "HEAD" and not response.streaming:
            response.content = b""
        return response


class RequestBodyLimitMiddleware:
    """413 for a body over its limit, before anything reads it; 408 and 503 for bodies that
    plumbing.bodies could not read in time or had no reader for. All JSON, with the request id.

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when request.body is read; DRF's parsers read
    the stream directly, so without this a JSON body of any size would be loaded into memory.
    The limit depends on the Content-Type (plumbing.bodies.body_limit: file uploads may be
    larger). Under the web server, plumbing.bodies has already refused oversized chunked bodies
    and slow ones; this also covers the test client and any other server.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = body_limit(request.content_type or "")
        error = request.META.get(BODY_ERROR)
        if error is None and (declared_length(request.META) or 0) > limit:
            error = TOO_LARGE
        if error == TOO_LARGE:
            detail = f"Request body too large: the limit is {limit} bytes."
            return self.refuse(detail, 413)
        if error == TIMEOUT:
            detail = f"Request body not received within {settings.REQUEST_BODY_TIMEOUT:g} seconds."
            return self.refuse(detail, 408)
        if error == BUSY:
            detail = "Too many uploads in progress; try again shortly."
            return self.refuse(detail, 503, {"Retry-After": "5"})
        return self.get_response(request)

    @staticmethod
    def refuse(detail, status, headers=None):
        # With a length, the client knows the answer is complete while its body is unsent.
        response = JsonResponse({"detail": detail}, status=status, headers=headers)
        response["Content-Length"] = str(len(response.content))
        return response


class CrossOriginResourcePolicyMiddleware:
    """Send Cross-Origin-Resource-Policy (Django has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CROSS_ORIGIN_RESOURCE_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Cross-Origin-Resource-Policy", self.policy)
        return response
