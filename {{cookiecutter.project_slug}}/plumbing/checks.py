"""The project's own system checks; `manage.py check --deploy` runs the deploy ones.

https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/topics/checks/
"""

from django.conf import settings
from django.core.checks import Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security, deploy=True)
def check_admin_url(app_configs, **kwargs):
    """Scanners try /admin/ on every site: a production admin belongs at a path of its own."""
    if settings.ADMIN_URL != "admin/":
        return []
    return [
        CheckWarning(
            "The admin is served at the guessable /admin/.",
            hint="Set DJANGO_ADMIN_URL to a path only you know, e.g. the one in your local .env.",
            id="plumbing.W001",
        )
    ]
