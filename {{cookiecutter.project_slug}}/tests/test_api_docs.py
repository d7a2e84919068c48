import re
import runpy
from types import ModuleType

import pytest
from django.conf import settings
from django.urls import Resolver404, get_resolver

pytestmark = pytest.mark.django_db


def test_schema_and_docs_are_for_staff_only_in_production(client, django_user_model):
    assert client.get("/api/schema/", secure=True).status_code in (401, 403)
    assert client.get("/api/docs/", secure=True).status_code in (401, 403)
    user = django_user_model.objects.create_user("someone", password="x-long-password")
    client.force_login(user)
    assert client.get("/api/schema/", secure=True).status_code == 403
    staff = django_user_model.objects.create_user(
        "staff", password="x-long-password", is_staff=True
    )
    client.force_login(staff)
    schema = client.get("/api/schema/", secure=True)
    assert schema.status_code == 200
    assert b"/api/auth/login/" in schema.content


def test_docs_page_loads_everything_from_this_site(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/api/docs/", secure=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>" not in html and "<style>" not in html  # nothing inline: the CSP forbids it
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources
    script = next(source for source in sources if "script" in source and "static" not in source)
    setup = client.get(script.replace("&amp;", "&"), secure=True)
    assert setup.status_code == 200
    assert setup["Content-Type"].startswith("application/javascript")
    assert "default-src 'none'" in page["Content-Security-Policy"]


def routable(paths):
    """The paths config/urls.py, imported again under the current settings, routes to a view."""
    urlconf = ModuleType("urls_under_test")
    urlconf.__dict__.update(runpy.run_path(str(settings.BASE_DIR / "config" / "urls.py")))
    resolver = get_resolver(urlconf)
    found = []
    for path in paths:
        try:
            resolver.resolve(path)
        except Resolver404:
            continue
        found.append(path)
    return found


def test_docs_can_be_turned_off_or_made_public(settings, load_settings):
    paths = ["/api/schema/", "/api/docs/"]
    settings.API_DOCS = "off"
    assert routable(paths) == []
    settings.API_DOCS = "staff"
    assert routable(paths) == paths
    public = load_settings({"DEBUG": "False", "API_DOCS": "public"})
    permissions = public["SPECTACULAR_SETTINGS"]["SERVE_PERMISSIONS"]
    assert permissions == ["rest_framework.permissions.AllowAny"]


def test_options_on_the_docs_page_is_a_405_not_a_500(client, admin_user):
    client.force_login(admin_user)
    response = client.options("/api/docs/", secure=True)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.fixture
def openapi(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/api/schema/?format=json", secure=True)
    assert response.status_code == 200
    return response.json()


def test_every_operation_documents_its_errors_in_their_json_shape(openapi):
    operations = [
        (path, method, operation)
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
    ]
    assert operations
    for path, method, operation in operations:
        codes = set(operation["responses"])
        assert "429" in codes, (method, path)  # every API view is throttled
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= codes, (method, path)
        if any(operation.get("security", [])):  # a token is accepted, so a bad one is a 401
            assert "401" in codes, (method, path)
        for code in codes - {"200", "201", "204"}:
            content = operation["responses"][code]["content"]["application/json"]
            assert content["schema"], (method, path, code)
    errors = openapi["components"]["schemas"]
    assert errors["Detail"]["required"] == ["detail"]
    assert "Error" not in errors  # one component for {"detail": ...}, however it is reached
    login = openapi["paths"]["/api/auth/login/"]["post"]["responses"]
    assert "503" in login and "Retry-After" in login["429"]["headers"]  # fails closed
    me = openapi["paths"]["/api/auth/me/"]["get"]["responses"]
    assert set(me) == {"200", "401", "429"}


def test_schema_field_constraints_are_what_validation_enforces(openapi, settings):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    schemas = openapi["components"]["schemas"]
    signup = schemas["SignupRequest"]["properties"]
    assert signup["email"]["maxLength"] == User._meta.get_field("email").max_length
    assert signup["email"]["minLength"] == 1 and signup["username"]["minLength"] == 1
    assert signup["password"]["minLength"] == 8  # MinimumLengthValidator's default
    assert signup["password"]["pattern"] == "\\D"  # NumericPasswordValidator: not only digits
    assert set(schemas["SignupRequest"]["required"]) == {"username", "email", "password"}
    change = schemas["PasswordChangeRequest"]["properties"]
    assert change["new_password"]["minLength"] == 8 and change["old_password"]["minLength"] == 1
    login = schemas["LoginRequest"]["properties"]
    assert login["username"]["maxLength"] == User._meta.get_field("username").max_length


def test_schema_is_valid_openapi_3_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    assert (tmp_path / "s.yaml").read_text().startswith("openapi: 3.")
