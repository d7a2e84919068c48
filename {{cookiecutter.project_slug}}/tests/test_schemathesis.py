"""Schemathesis fuzzes the API against its own OpenAPI schema: every operation of every app,
yours included, with no list to keep up to date (docs/testing.md).

The schema is the one /api/schema/ serves (drf-spectacular's generator, run here); requests go
to the WSGI app in process, in the test's database transaction, with a real user's token, every
rate limit in settings.RATELIMIT_RATES raised (one client would otherwise meet 429 before any
validation) and every signed webhook's secret set. schemathesis.toml bounds the run (a few cases
per operation, in a fixed order). A server error, an answer the schema does not document
(status, headers, body), a valid request refused or an invalid one accepted fails the test.
"""

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token

from accounts.factories import UserFactory
from config.wsgi import application
from plumbing.webhooks import WebhookView

CONFIG = schemathesis.Config.from_path(settings.BASE_DIR / "schemathesis.toml")
HTTPS = {"X-Forwarded-Proto": "https"}  # as Railway's edge forwards: production redirects HTTP
UNLIMITED = "1000000/m"
TOKEN = "f" * 40  # a fixed key: the auth provider above needs no database

schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True), config=CONFIG
)
schema.app = application  # called in process, through Werkzeug's WSGI client


@schema.auth()
class TokenAuth:
    """The fuzzer's token. Schemathesis leaves it out of the cases that test a missing
    Authorization header; the test makes sure it exists before each case (logging out, or
    changing the password, revokes it)."""

    def get(self, case, context):
        return TOKEN

    def set(self, case, token, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Token {token}"}


def webhook_views(cls=WebhookView):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from webhook_views(subclass)


@pytest.fixture(autouse=True)
def one_connection_for_the_whole_test():
    """As Django's own test client does: Django closes a connection inside a transaction at the
    end of each request, which would end the test's transaction (PostgreSQL) after the first."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def one_client_can_reach_every_check(settings):
    settings.RATELIMIT_RATES = {scope: UNLIMITED for scope in settings.RATELIMIT_RATES}
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # the WSGI client's Host
    for view in webhook_views():  # signed, they answer 400 to the fuzzer, not 503
        if view.signing_key_setting:
            setattr(settings, view.signing_key_setting, "fuzzing-secret")


@pytest.mark.django_db
@schema.parametrize()
# The fuzzer's user and the transaction are shared by a test's cases: state builds up, on purpose.
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_api_keeps_its_contract(case):
    Token.objects.get_or_create(key=TOKEN, defaults={"user": UserFactory(username="fuzzer")})
    case.call_and_validate(headers=HTTPS)
