"""The schema class (plumbing/schema.py) documents what a view of yours can answer."""

from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from plumbing.ratelimit import ratelimit
from plumbing.schema import DetailSerializer


class LimitedViewSet(viewsets.ViewSet):
    @ratelimit("upload", key="user")
    def create(self, request):
        return Response(status=201)

    def list(self, request):
        return Response([])


class OwnTooManyView(APIView):
    @extend_schema(responses={200: None, 429: OpenApiResponse(DetailSerializer, "Slow down.")})
    @ratelimit("login")
    def post(self, request):
        return Response()


def responses(patterns, route, method):
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    return schema["paths"][route][method]["responses"]


def test_a_rate_limited_viewset_action_documents_429_and_503_with_retry_after():
    router = SimpleRouter()
    router.register("things", LimitedViewSet, basename="thing")
    created = responses(router.urls, "/things/", "post")
    assert {"429", "503"} <= set(created)
    assert "Retry-After" in created["503"]["headers"]
    assert "503" not in responses(router.urls, "/things/", "get")  # list is not limited


def test_a_429_a_view_documents_itself_keeps_the_retry_after_header():
    patterns = [path("slow/", OwnTooManyView.as_view())]
    too_many = responses(patterns, "/slow/", "post")["429"]
    assert too_many["description"] == "Slow down."
    assert "Retry-After" in too_many["headers"]
