"""URL routes. Error pages: {{ cookiecutter.project_slug }}/views.py."""

from django.conf import settings
from django.contrib import admin
from django.urls import path

from {{ cookiecutter.project_slug }} import views

urlpatterns = [
    path("", views.index, name="index"),
    path("health/", views.health, name="health"),
    path(settings.ADMIN_URL, admin.site.urls),
]

handler400 = "{{ cookiecutter.project_slug }}.views.bad_request"
handler403 = "{{ cookiecutter.project_slug }}.views.permission_denied"
handler404 = "{{ cookiecutter.project_slug }}.views.page_not_found"
handler500 = "{{ cookiecutter.project_slug }}.views.server_error"
