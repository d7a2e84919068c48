import pytest
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from plumbing.pagination import PageNumberPagination


def page(query):
    request = Request(APIRequestFactory().get("/api/things/", query))
    return PageNumberPagination().paginate_queryset(list(range(50)), request)


def test_a_page_is_a_whole_number():
    assert page({"page": "2"})[0] == 20  # PAGE_SIZE 20
    assert page({})[0] == 0


@pytest.mark.parametrize("value", ["", "last", "abc", "-1", "1.5", "²"])
def test_anything_else_is_404_like_a_page_past_the_end(value):
    with pytest.raises(NotFound):
        page({"page": value})
