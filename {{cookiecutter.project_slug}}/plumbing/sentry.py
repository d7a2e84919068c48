"""Error reporting to Sentry, on only when SENTRY_DSN is set.

sentry_sdk is imported only then: without a DSN it would cost every web process memory for
nothing.
https://docs.sentry.io/platforms/python/integrations/django/
"""

from config.env import env, env_float
from plumbing.logging import request_id_var

# Log lines that are not errors to report: the per-request line (a 5xx line would duplicate
# the exception's own event), health-check failures (Railway's probe polls while the database
# is down), and requests with a Host header we do not serve (scanners).
QUIET_LOGGERS = [
    "plumbing.requests",
    "plumbing.health",
    "django.security.DisallowedHost",
]


def init_sentry():
    dsn = env("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.logging import ignore_logger

    traces_sample_rate = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)

    def traces_sampler(context):
        # Railway's health probe is not worth a trace.
        path = context.get("wsgi_environ", {}).get("PATH_INFO", "")
        return 0.0 if path == "/health/" else traces_sample_rate

    sentry_sdk.init(
        dsn=dsn,
        # Railway names the environment and the commit; Sentry does not read them by itself.
        environment=env("SENTRY_ENVIRONMENT") or env("RAILWAY_ENVIRONMENT_NAME") or None,
        release=env("RAILWAY_GIT_COMMIT_SHA") or None,
        traces_sampler=traces_sampler,
        # No cookies, credentials headers, user ids or client IPs leave the server.
        send_default_pii=False,
        before_send=tag_request_id,
    )
    for name in QUIET_LOGGERS:
        ignore_logger(name)


def tag_request_id(event, hint):
    """Tag each event with the request id that the logs and the X-Request-ID header carry."""
    request_id = request_id_var.get()
    if request_id != "-":
        event.setdefault("tags", {})["request_id"] = request_id
    return event
