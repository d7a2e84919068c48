"""Signed webhooks: an endpoint that acts on a delivery only if the provider signed its body.

Payment, mail and Git providers sign each delivery with HMAC-SHA256 and a secret shared with
you. WebhookView checks that signature over the exact bytes received, before anything parses
them, in constant time (hmac.compare_digest); takes the secret from a setting (503 while it is
unset); answers 400 to a missing or wrong signature; and records each event once, in the same
transaction as its handling, so a redelivery or a replay answers 200 without running again.
Provider SDKs verify only their own format and record nothing, and no Django library does this
for any provider, so it is small and ours. An app's view, in a few lines:

    class PaymentWebhook(WebhookView):
        signature = StripeSignature()
        signing_key_setting = "PAYMENTS_WEBHOOK_SECRET"

        def handle(self, event):
            ...
"""

import hashlib
import hmac
import json
import time

from django.conf import settings
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import WebhookEvent
from .schema import DetailSerializer

__all__ = ["GitHubSignature", "Signature", "StripeSignature", "WebhookView"]


def hmac_sha256(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Signature:
    """A provider's signature format: the header it comes in, and how to check it."""

    header = ""
    description = ""

    def verify(self, body: bytes, value: str, secret: str) -> bool:
        raise NotImplementedError


class GitHubSignature(Signature):
    """GitHub's `X-Hub-Signature-256: sha256=<hex HMAC of the body>`.
    https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries"""

    header = "X-Hub-Signature-256"
    description = "`sha256=` and the hex HMAC-SHA256 of the body, keyed with the secret."

    def verify(self, body, value, secret):
        return hmac.compare_digest(value.encode(), f"sha256={hmac_sha256(secret, body)}".encode())


class StripeSignature(Signature):
    """Stripe's `Stripe-Signature: t=<unix time>,v1=<hex HMAC of "<t>.<body>">`, refused when t
    is more than `tolerance` seconds away (an old delivery replayed with its own signature).
    https://docs.stripe.com/webhooks#verify-manually"""

    header = "Stripe-Signature"
    description = '`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the secret.'

    def __init__(self, tolerance: int = 300):
        self.tolerance = tolerance

    def verify(self, body, value, secret):
        items = [item.partition("=") for item in value.split(",")]
        timestamps = [v for k, _, v in items if k.strip() == "t"]
        signatures = [v.strip() for k, _, v in items if k.strip() == "v1"]
        if len(timestamps) != 1 or not timestamps[0].strip().isdigit() or not signatures:
            return False
        timestamp = timestamps[0].strip()
        if abs(time.time() - int(timestamp)) > self.tolerance:
            return False
        expected = hmac_sha256(secret, f"{timestamp}.".encode() + body).encode()
        # Every v1 is compared (Stripe sends two while a secret is being rolled).
        return any([hmac.compare_digest(expected, s.encode()) for s in signatures])


class WebhookView(APIView):
    """POST only. Set `signature`, `signing_key_setting` (the name of a setting holding the
    secret, read from a variable in config/settings.py) and `handle(event)`; override
    `event_id(event, body)` to use the provider's event id (by default the body's SHA-256, so
    the same bytes run once)."""

    signature: Signature = GitHubSignature()
    signing_key_setting = ""
    authentication_classes = []  # the signature is the authentication
    permission_classes = [AllowAny]

    def handle(self, event) -> None:
        raise NotImplementedError

    def event_id(self, event, body: bytes) -> str:
        return hashlib.sha256(body).hexdigest()

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: DetailSerializer})
    def post(self, request):
        invalid = Response({"detail": f"Missing or invalid {self.signature.header}."}, status=400)
        value = request.headers.get(self.signature.header, "")
        if not value:
            return invalid
        secret = getattr(settings, self.signing_key_setting, "")
        if not secret:
            detail = (
                f"Webhook not configured: {self.signing_key_setting or 'no secret'} is not set."
            )
            return Response({"detail": detail}, status=503)
        body = request.body  # the raw bytes, as signed: read before anything parses them
        if not self.signature.verify(body, value, secret):
            return invalid
        try:
            event = json.loads(body)
        except ValueError:
            return Response({"detail": "The body is not JSON."}, status=400)
        with transaction.atomic():
            _, created = WebhookEvent.objects.get_or_create(
                endpoint=type(self).__name__[:100], event_id=self.event_id(event, body)[:255]
            )
            if not created:
                return Response({"detail": "Already received."})
            self.handle(event)  # raises: the record is rolled back, and the provider retries
        return Response({"detail": "Received."})
