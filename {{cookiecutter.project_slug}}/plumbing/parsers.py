"""Request-body parsers: DRF's own, hardened against hostile bodies (settings.REST_FRAMEWORK).

DRF's parsers turned three bodies into trouble: JSON nested 10,000 deep (a 20 KB body) raised
RecursionError, a 500; a form with more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields raised
Django's TooManyFieldsSent, logged as an ERROR with a traceback; and JSON was parsed whatever
its shape, so a small body of empty lists could grow a worker by tens of MB for good.
Here each is a 4xx in DRF's shape. A JSON body may be API_JSON_MAX_SIZE bytes (2.5 MB, so a
phone can still send a 2 MB document) but at most API_JSON_MAX_VALUES values: what it costs to
parse is the number of Python objects it becomes, not its bytes. The values are counted from
the body's `[ { : ,` before parsing, an upper bound (a bracket or comma inside a string counts
too) that costs a few milliseconds for 2.5 MB.
"""

import codecs

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils import json  # DRF's: rejects NaN and Infinity like its parser


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


def too_large(limit):
    return RequestTooLarge(f"Request body too large: the limit is {limit} bytes.")


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser with a size limit, a limit on the number of values, and a depth limit
    (Python's recursion limit)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_JSON_MAX_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise too_large(limit)
        values = sum(body.count(token) for token in (b"[", b"{", b":", b","))
        if values > settings.API_JSON_MAX_VALUES:
            raise RequestTooLarge(
                f"Request body too large: more than {settings.API_JSON_MAX_VALUES} JSON values."
            )
        encoding = parsers.get_encoding(parser_context or {})
        parse_constant = json.strict_constant if self.strict else None
        try:
            return json.loads(codecs.decode(body, encoding), parse_constant=parse_constant)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class _FormErrors:
    """Django's limits on form fields, files and size, answered as DRF answers a bad body."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except (TooManyFieldsSent, TooManyFilesSent) as exc:
            raise ParseError(str(exc)) from None
        except RequestDataTooBig:
            raise too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) from None


class FormParser(_FormErrors, parsers.FormParser):
    pass


class MultiPartParser(_FormErrors, parsers.MultiPartParser):
    pass
