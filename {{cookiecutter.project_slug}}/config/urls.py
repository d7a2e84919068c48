"""URL routes. Error pages: plumbing/views.py."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from plumbing import diagnostics, views
from plumbing.lockout import login_lockout
from plumbing.ratelimit import ratelimit

urlpatterns = [
    path("", views.index, name="index"),
    path("health/", views.health, name="health"),
    # The admin's login form shares the API login's limits (per client address, per username).
    path(
        f"{settings.ADMIN_URL}login/",
        ratelimit("login", key="ip")(login_lockout(admin.site.login)),
    ),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/debug/error/", diagnostics.ErrorCheckView.as_view(), name="debug-error"),
    path("api/", include("files.urls")),
]
if settings.API_DOCS != "off":
    urlpatterns += [
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", views.SwaggerView.as_view(url_name="schema"), name="api-docs"),
    ]
# Uploads on the local disk are served by Django only with DEBUG (static() adds nothing
# otherwise); a bucket serves them itself, through presigned URLs.
if not settings.MEDIA_BUCKET:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "plumbing.views.bad_request"
handler403 = "plumbing.views.permission_denied"
handler404 = "plumbing.views.page_not_found"
handler500 = "plumbing.views.server_error"
