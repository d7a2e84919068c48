import re

import pytest

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


def test_docs_can_be_turned_off_or_made_public(routes, load_settings):
    paths = ["/api/schema/", "/api/docs/"]
    assert routes({"DEBUG": "False", "API_DOCS": "off"}, paths) == []
    assert routes({"DEBUG": "False", "API_DOCS": "staff"}, paths) == paths
    public = load_settings({"DEBUG": "False", "API_DOCS": "public"}, ["SPECTACULAR_SETTINGS"])
    permissions = public["SPECTACULAR_SETTINGS"]["SERVE_PERMISSIONS"]
    assert permissions == ["rest_framework.permissions.AllowAny"]
    wrong = load_settings({"API_DOCS": "everyone"}, ["API_DOCS"])
    assert "API_DOCS must be public, staff or off" in wrong["error"]
