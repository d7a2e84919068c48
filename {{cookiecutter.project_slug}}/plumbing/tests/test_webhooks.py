"""Signed webhooks (plumbing/webhooks.py): only a correctly signed body is handled, once."""

import hashlib
import hmac
import json
import time

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from plumbing.models import WebhookEvent
from plumbing.webhooks import GitHubSignature, StripeSignature, WebhookView

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_secret"
handled = []


class StripeWebhook(WebhookView):
    """Payment events."""

    signature = StripeSignature()
    signing_key_setting = "TEST_WEBHOOK_SECRET"

    def handle(self, event):
        handled.append(event["id"])

    def event_id(self, event, body):
        return event["id"]


class GitHubWebhook(StripeWebhook):
    signature = GitHubSignature()

    def event_id(self, event, body):
        return super(StripeWebhook, self).event_id(event, body)


urlpatterns = [
    path("hooks/stripe/", StripeWebhook.as_view()),
    path("hooks/github/", GitHubWebhook.as_view()),
]


@pytest.fixture(autouse=True)
def setup(settings):
    settings.ROOT_URLCONF = __name__
    settings.TEST_WEBHOOK_SECRET = SECRET
    handled.clear()


def stripe_header(body, secret=SECRET, at=None):
    timestamp = int(at if at is not None else time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def post(url, body, **headers):
    return APIClient().post(url, body, content_type="application/json", secure=True, **headers)


def event(event_id="evt_1"):
    return json.dumps({"id": event_id, "type": "checkout.session.completed"}).encode()


def test_a_signed_event_is_handled_once_and_a_replay_answers_200():
    body = event()
    first = post("/hooks/stripe/", body, HTTP_STRIPE_SIGNATURE=stripe_header(body))
    assert first.status_code == 200 and first.json() == {"detail": "Received."}
    replay = post("/hooks/stripe/", body, HTTP_STRIPE_SIGNATURE=stripe_header(body))
    assert replay.status_code == 200 and replay.json() == {"detail": "Already received."}
    assert handled == ["evt_1"]
    assert WebhookEvent.objects.get().event_id == "evt_1"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "t=1,v1=00",
        "v1=" + "0" * 64,
        "garbage",
    ],
)
def test_a_missing_or_malformed_signature_is_400(header):
    headers = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
    response = post("/hooks/stripe/", event(), **headers)
    assert response.status_code == 400
    assert response.json() == {"detail": "Missing or invalid Stripe-Signature."}
    assert handled == [] and not WebhookEvent.objects.exists()


def test_a_wrong_secret_a_changed_body_or_an_old_timestamp_is_400():
    body = event()
    assert (
        post("/hooks/stripe/", body, HTTP_STRIPE_SIGNATURE=stripe_header(body, "other")).status_code
        == 400
    )
    tampered = body.replace(b"evt_1", b"evt_2")
    assert (
        post("/hooks/stripe/", tampered, HTTP_STRIPE_SIGNATURE=stripe_header(body)).status_code
        == 400
    )
    old = stripe_header(body, at=time.time() - 301)  # a captured delivery, replayed later
    assert post("/hooks/stripe/", body, HTTP_STRIPE_SIGNATURE=old).status_code == 400
    assert handled == []


def test_without_the_secret_it_is_503(settings):
    settings.TEST_WEBHOOK_SECRET = ""
    body = event()
    response = post("/hooks/stripe/", body, HTTP_STRIPE_SIGNATURE=stripe_header(body))
    assert response.status_code == 503
    assert response.json() == {"detail": "Webhook not configured: TEST_WEBHOOK_SECRET is not set."}


def test_a_failing_handler_records_nothing_so_the_retry_runs(monkeypatch):
    def fail(self, event):
        raise ConnectionError("downstream")

    monkeypatch.setattr(StripeWebhook, "handle", fail)
    body = event()
    with pytest.raises(ConnectionError):
        post("/hooks/stripe/", body, HTTP_STRIPE_SIGNATURE=stripe_header(body))
    assert not WebhookEvent.objects.exists()


def test_github_format_and_the_body_hash_as_event_id():
    body = event("delivery")
    mac = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert post("/hooks/github/", body, HTTP_X_HUB_SIGNATURE_256=f"sha256={mac}").status_code == 200
    assert (
        post("/hooks/github/", body, HTTP_X_HUB_SIGNATURE_256=f"sha256={mac[:-1]}0").status_code
        == 400
    )
    assert WebhookEvent.objects.get().event_id == hashlib.sha256(body).hexdigest()


def test_the_schema_documents_the_signature_header_and_the_errors():
    schema = SchemaGenerator(patterns=urlpatterns).get_schema(request=None, public=True)
    operation = schema["paths"]["/hooks/stripe/"]["post"]
    header = next(p for p in operation["parameters"] if p["in"] == "header")
    assert header["name"] == "Stripe-Signature" and header["required"] is True
    assert {"200", "400", "503"} <= set(operation["responses"])
    assert "401" not in operation["responses"]  # no token: the signature authenticates
    assert operation["x-signed-webhook"] is True
