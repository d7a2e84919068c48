"""The baseline: `django-admin startproject bare`, plus the two views we compare against.

Same SELECT 1 health view and a DRF view of the same shape as /api/auth/me/ (token auth,
IsAuthenticated, the user serialized by the same plain Serializer), production-ish settings
(DEBUG off), SQLite, or PostgreSQL when DATABASE_URL is set, with cookiecutter-django's
database settings: connections kept for 60 s (its CONN_MAX_AGE default) and every view in a
transaction (ATOMIC_REQUESTS).
"""

from pathlib import Path

URLS = '''
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from rest_framework import serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "healthy", "checks": {"database": "ok"}})


class UserSerializer(serializers.Serializer):  # as the template's accounts/serializers.py
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
    date_joined = serializers.DateTimeField(read_only=True)


class MeView(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(UserSerializer(request.user).data)


urlpatterns = [path("health/", health), path("api/auth/me/", MeView.as_view())]
'''

SETTINGS_TAIL = '''
import os
DEBUG = False
ALLOWED_HOSTS = ["*"]
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
INSTALLED_APPS += ["rest_framework", "rest_framework.authtoken"]
REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}
if os.environ.get("DATABASE_URL"):  # bench/run.py --database postgres
    from urllib.parse import urlsplit

    url = urlsplit(os.environ["DATABASE_URL"])
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": url.path.lstrip("/"),
        "USER": url.username, "PASSWORD": url.password or "", "HOST": url.hostname,
        "PORT": url.port or 5432,
        # cookiecutter-django's production settings: kept-open connections (Django's default,
        # a connection per request, would make the comparison about connecting, not serving),
        # no health checks, and each request in a transaction.
        "CONN_MAX_AGE": 60,
        "ATOMIC_REQUESTS": True,
    }}
'''


def make_bare_project(django_admin, parent):
    """Create it with django-admin startproject in `parent`/bare; return its path."""
    import subprocess

    subprocess.run([str(django_admin), "startproject", "bare"], cwd=parent, check=True)
    project = Path(parent) / "bare"
    (project / "bare" / "urls.py").write_text(URLS)
    with (project / "bare" / "settings.py").open("a") as settings:
        settings.write(SETTINGS_TAIL)
    return project
