"""Page-number pagination whose `page` parameter means what the OpenAPI schema says: a number.

DRF's PageNumberPagination also answers an empty `page` (as page 1) and `page=last`, which the
schema (an integer) does not allow: a generated client would not know them, and schemathesis
reports them as invalid input accepted. Here anything but digits is 404 "Invalid page.", like a
page past the last one (documented by plumbing/schema.py for every paginated list).
"""

import re

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination as DRFPageNumberPagination

DIGITS = re.compile(r"[0-9]+")


class PageNumberPagination(DRFPageNumberPagination):
    last_page_strings = ()

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param)
        if number is not None and not DIGITS.fullmatch(number):
            raise NotFound(self.invalid_page_message)
        return super().get_page_number(request, paginator)
