"""docs/webhooks.md's Stripe example, end to end: its view built into a fresh app of the default
bake, the Procfile web command started with production variables, and the page's own shell
commands (openssl signing the body in Stripe's format, curl posting it) run against it."""

import hashlib
import hmac
import json
import re
import secrets
import statistics
import textwrap
import time

import pytest

from baked_venvs import venv_env
from processes import run
from railway import HTTPS, deploy_copy, production_env
from rate_windows import fresh_client_ip
from servers import Server
from test_add_an_app import append_to_list

pytestmark = [pytest.mark.server, pytest.mark.slow]
SIGNED_POSTS = 100  # for the timing line: bounded, one client


def stripe_header(secret, body):
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def test_the_stripe_example_receives_each_signed_event_once(deployed, tmp_path):
    project, venv = deployed
    checkout = deploy_copy(project, tmp_path / "app")
    page = (checkout / "docs" / "webhooks.md").read_text()
    view = textwrap.dedent(re.findall(r"```python\n(.*?)```", page, re.S)[0])
    commands = textwrap.dedent(re.findall(r"```bash\n(.*?)```", page, re.S)[0])
    secret = "whsec_" + secrets.token_hex(16)
    env = venv_env(venv, production_env(STRIPE_WEBHOOK_SECRET=secret))

    # Steps 1 and 2 of the page.
    run(["python", "manage.py", "startapp", "payments"], checkout, env)
    (checkout / "payments" / "views.py").write_text(view)
    assert 'path("api/webhooks/stripe/", StripeWebhook.as_view())' in page
    (checkout / "payments" / "urls.py").write_text(
        "from django.urls import path\n\nfrom .views import StripeWebhook\n\n"
        'urlpatterns = [path("api/webhooks/stripe/", StripeWebhook.as_view())]\n'
    )
    settings, urls = checkout / "config" / "settings.py", checkout / "config" / "urls.py"
    settings.write_text(append_to_list(settings.read_text(), "PROJECT_APPS = [", '    "payments",')
                        + '\nSTRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")\n')
    urls.write_text(append_to_list(urls.read_text(), "urlpatterns = [", '    path("", include("payments.urls")),'))

    with Server(checkout, env, tmp_path / "web.log") as server:
        # Step 4, as written, against the server (through Railway's edge headers).
        curl = f"curl -s -H 'Host: {HTTPS['Host']}' -H 'X-Forwarded-Proto: https' -H 'X-Real-IP: {fresh_client_ip()}'"
        script = commands.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{server.port}")
        script = script.replace("curl ", curl + " ", 1)
        first = run(["bash", "-c", script], checkout, env)
        assert json.loads(first.stdout) == {"detail": "Received."}
        again = run(["bash", "-c", script], checkout, env)  # a new timestamp, the same event
        assert json.loads(again.stdout) == {"detail": "Already received."}

        def post(body, signature, ip):
            headers = {**HTTPS, "Content-Type": "application/json", "Stripe-Signature": signature, "X-Real-IP": ip}
            return server.http.request("POST", "/api/webhooks/stripe/", headers, body)

        body = json.dumps({"id": "evt_forged", "type": "checkout.session.completed"}).encode()
        status, _, answer = post(body, stripe_header("whsec_wrong", body), fresh_client_ip())
        assert status == 400 and json.loads(answer) == {"detail": "Missing or invalid Stripe-Signature."}

        # What a signed delivery costs, end to end over HTTP (one client, sequential).
        ip, timings = fresh_client_ip(), []
        for number in range(SIGNED_POSTS):
            body = json.dumps({"id": f"evt_{number}", "type": "invoice.paid"}).encode()
            started = time.perf_counter()
            status, _, _ = post(body, stripe_header(secret, body), ip)
            timings.append(time.perf_counter() - started)
            assert status == 200
        timings.sort()
        print(f"signed webhook, {SIGNED_POSTS} posts: median {statistics.median(timings) * 1000:.1f} ms,"
              f" p95 {timings[int(0.95 * len(timings)) - 1] * 1000:.1f} ms")
        records = server.log_records()
        assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL")]
