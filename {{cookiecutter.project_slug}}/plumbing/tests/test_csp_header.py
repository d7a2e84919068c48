"""plumbing/csp_header.py: the header built once is django-csp's own, and whatever a response
asks for itself (a nonce, a decorator, a report-only policy) still goes through django-csp."""

import csp.middleware
import pytest
from csp.constants import NONCE, SELF
from csp.decorators import csp_exempt, csp_update
from csp.exceptions import CSPNonceError
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory

import plumbing.csp_header
from plumbing.csp_header import CSPMiddleware

HEADER, REPORT_ONLY = "Content-Security-Policy", "Content-Security-Policy-Report-Only"


def answer(view, middleware=None):
    request = RequestFactory().get("/")
    return request, (middleware or CSPMiddleware(view))(request)


def plain(request):
    return HttpResponse("ok")


def test_the_settings_policy_is_built_once_and_is_django_csps(monkeypatch):
    built = []
    count = lambda: built.append(1) or build_policy()  # noqa: E731
    monkeypatch.setattr(plumbing.csp_header, "build_policy", count)
    monkeypatch.setattr(csp.middleware, "build_policy", None)  # django-csp's own path is not taken
    middleware = CSPMiddleware(plain)
    for _ in range(3):
        request, response = answer(plain, middleware)
        assert response[HEADER] == build_policy()
        assert "default-src 'none'" in response[HEADER]
    assert built == [1]
    with pytest.raises(CSPNonceError):  # as with django-csp: too late to ask for a nonce
        str(request.csp_nonce)


def test_a_nonce_used_by_the_response_is_in_its_header(settings):
    # The template's policy has no nonce; a project that adds one to a directive:
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": [SELF, NONCE]}}
    nonces = []

    def view(request):
        nonces.append(str(request.csp_nonce))
        return HttpResponse("ok")

    _, response = answer(view)
    assert f"script-src 'self' 'nonce-{nonces[0]}'" in response[HEADER]
    _, without = answer(plain)  # a response that used none gets none
    assert "script-src 'self'" in without[HEADER] and "nonce" not in without[HEADER]


def test_decorators_still_change_the_header():
    _, updated = answer(csp_update({"img-src": ["https://images.example.com"]})(plain))
    assert "https://images.example.com" in updated[HEADER]
    _, exempt = answer(csp_exempt()(plain))
    assert HEADER not in exempt


def test_a_report_only_policy_is_added_when_configured(settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    _, response = answer(plain)
    assert response[HEADER] == build_policy()
    assert response[REPORT_ONLY] == "default-src 'self'"


def test_a_header_the_view_set_itself_is_kept():
    def view(request):
        response = HttpResponse("ok")
        response[HEADER] = "default-src 'self'"
        return response

    _, response = answer(view)
    assert response[HEADER] == "default-src 'self'"
