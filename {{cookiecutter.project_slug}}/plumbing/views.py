import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularSwaggerSplitView

from .health import run_checks


# csrf_exempt: these views only read, and refuse other methods with 405; without it the CSRF
# check would answer a PUT or DELETE with a 403 page before require_safe could.
@csrf_exempt
@require_safe
def index(request):
    return render(request, "index.html")


@csrf_exempt
@require_safe
def health(request):
    """Railway's health check and the uptime monitor's: 200 when every check passes, else 503,
    within 3 s (plumbing/health.py). No details leak."""
    results = run_checks()
    healthy = all(result == "ok" for result in results.values())
    return JsonResponse(
        {"status": "healthy" if healthy else "unhealthy", "checks": results},
        status=200 if healthy else 503,
        # Never cached anywhere (no-store alone says it; never_cache's extras cost per request).
        headers={"Cache-Control": "no-store"},
    )


# Error pages: JSON under /api/, the self-contained templates/NNN.html pages elsewhere.
# Rendered without a request context, so nothing (sessions, the user, the database) can fail.
def _error(request, status, detail):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=status)
    return HttpResponse(loader.render_to_string(f"{status}.html"), status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "Bad request.")


def permission_denied(request, exception=None):
    return _error(request, 403, "You do not have permission to perform this action.")


def page_not_found(request, exception=None):
    return _error(request, 404, "Not found.")


def server_error(request):
    # Django calls this while handling the exception. A database that cannot be reached, or
    # did not answer in time (plumbing/queries.py), is an outage to retry after, not a bug.
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        response = _error(request, 503, "Service temporarily unavailable, try again later.")
        response["Retry-After"] = "30"
        return response
    return _error(request, 500, "Server error.")


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI (/api/docs/): a page to GET. drf-spectacular's view also answered OPTIONS
    through its HTML renderer, with no template for it: a 500."""

    http_method_names = ["get", "head"]
