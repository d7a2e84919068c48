"""URL routes. Error pages: plumbing/views.py."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from plumbing import diagnostics, media, public_files, views
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
# Public files: a stable URL on this site for each (plumbing/public_files.py).
urlpatterns += [path("public/<path:name>", public_files.serve, name="public-file")]
# Uploads on the local disk (no bucket) are served by the app; a bucket serves them itself,
# through presigned URLs.
if not settings.MEDIA_BUCKET:
    media_prefix = settings.MEDIA_URL.lstrip("/")  # Django adds the leading slash
    urlpatterns += [path(f"{media_prefix}<path:path>", media.serve_local, name="media")]

handler400 = "plumbing.views.bad_request"
handler403 = "plumbing.views.permission_denied"
handler404 = "plumbing.views.page_not_found"
handler500 = "plumbing.views.server_error"
