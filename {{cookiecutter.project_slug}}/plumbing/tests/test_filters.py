"""Query-string filters (plumbing/filters.py): booleans are true or false, or a documented 400."""

import pytest
from django.contrib.auth import get_user_model
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIRequestFactory

from accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["username"]


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = get_user_model().objects.order_by("username")
    serializer_class = UserSerializer
    permission_classes = [AllowAny]
    filterset_fields = ["is_active"]


def listed(query):
    request = APIRequestFactory().get("/users/", query, secure=True)
    return UserViewSet.as_view({"get": "list"})(request)


def test_a_boolean_filter_takes_true_or_false_and_refuses_the_rest():
    UserFactory(username="active")
    UserFactory(username="gone", is_active=False)
    names = [user["username"] for user in listed({"is_active": "false"}).data["results"]]
    assert names == ["gone"]
    assert len(listed({"is_active": "true"}).data["results"]) == 1
    assert len(listed({}).data["results"]) == 2
    refused = listed({"is_active": "maybe"})  # django-filter's own would list every user
    assert refused.status_code == 400
    assert refused.data == {"is_active": ["Must be true or false."]}


def test_the_schema_documents_the_parameter_and_the_400():
    router = SimpleRouter()
    router.register("users", UserViewSet, basename="user")
    schema = SchemaGenerator(patterns=router.urls).get_schema(request=None, public=True)
    operation = schema["paths"]["/users/"]["get"]
    parameter = next(p for p in operation["parameters"] if p["name"] == "is_active")
    assert parameter["in"] == "query" and parameter["schema"]["type"] == "boolean"
    assert "400" in operation["responses"]
    assert "400" not in schema["paths"]["/users/{id}/"]["get"]["responses"]
