import logging
import re
import time
import uuid

from django.conf import settings
from django.http import JsonResponse

from plumbing.bodies import BODY_ERROR, TOO_LARGE, body_limit, declared_length
from plumbing.environ import BAD_HOST, BAD_REQUEST, HEADERS_TOO_LARGE, NOT_ALLOWED
from plumbing.logging import request_id_var
from plumbing.readers import ADDRESS_BUSY, BUSY, STALLED, TIMEOUT

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
            if status >= 500 and BODY_ERROR not in request.META:  # a refusal is no server error
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
    """Answer the requests plumbing.bodies refused before Django (a body over its limit, too
    slow, or with no reader free; a header, method or host refused by plumbing.environ), and
    413 for a body over its limit before anything reads it. All JSON, with the request id; it
    sits below the security-header middleware, so these answers carry the site's headers.

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when request.body is read; DRF's parsers read
    the stream directly, so without this a JSON body of any size would be loaded into memory.
    The limit depends on the Content-Type (plumbing.bodies.body_limit: file uploads may be
    larger). This also covers the test client and any other server.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = body_limit(request.content_type or "")
        error = request.META.get(BODY_ERROR)
        if error is None and (declared_length(request.META) or 0) > limit:
            error = TOO_LARGE
        if error is None:
            return self.get_response(request)
        status, detail, headers = self.answer(error, limit)
        # With a length, the client knows the answer is complete while its body is unsent.
        response = JsonResponse({"detail": detail}, status=status, headers=headers)
        response["Content-Length"] = str(len(response.content))
        return response

    @staticmethod
    def answer(error, limit):
        """(status, detail, headers) for a refusal's name."""
        seconds = settings.REQUEST_BODY_TIMEOUT
        idle = settings.REQUEST_BODY_IDLE_TIMEOUT
        answers = {
            TOO_LARGE: (413, f"Request body too large: the limit is {limit} bytes.", None),
            TIMEOUT: (408, f"Request body not received within {seconds:g} seconds.", None),
            STALLED: (408, f"Request body stopped arriving for {idle:g} seconds.", None),
            ADDRESS_BUSY: (
                429,
                "Too many uploads in progress from your address.",
                {"Retry-After": "5"},
            ),
            BUSY: (503, "Too many uploads in progress; try again shortly.", {"Retry-After": "5"}),
            BAD_REQUEST: (400, "Bad request.", None),
            NOT_ALLOWED: (405, "Method not allowed.", None),
            BAD_HOST: (400, "Bad request (invalid host).", None),
            HEADERS_TOO_LARGE: (431, "Request headers too large.", None),
        }
        return answers[error]


class CrossOriginResourcePolicyMiddleware:
    """Send Cross-Origin-Resource-Policy (Django has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CROSS_ORIGIN_RESOURCE_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Cross-Origin-Resource-Policy", self.policy)
        return response
