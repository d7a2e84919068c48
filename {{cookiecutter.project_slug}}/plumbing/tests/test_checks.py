from django.apps import apps
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from plumbing.apps import PlumbingConfig
from plumbing.checks import check_admin_url


def test_plumbing_config_is_installed_so_its_checks_are_registered():
    assert isinstance(apps.get_app_config("plumbing"), PlumbingConfig)


def test_admin_at_the_default_path_is_a_deploy_warning(settings):
    settings.ADMIN_URL = "admin/"
    assert [warning.id for warning in check_admin_url(None)] == ["plumbing.W001"]
    settings.ADMIN_URL = "admin-0f3e5c7a9b1d2e4f/"
    assert check_admin_url(None) == []


def test_the_check_runs_under_check_deploy(settings):
    settings.ADMIN_URL = "admin/"
    try:
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "security")
    except SystemCheckError as error:
        assert "plumbing.W001" in str(error)
    else:
        raise AssertionError("check --deploy did not report plumbing.W001")
