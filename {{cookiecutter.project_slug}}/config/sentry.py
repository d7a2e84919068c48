"""Error reporting to Sentry, on only when SENTRY_DSN is set.

https://docs.sentry.io/platforms/python/integrations/django/
"""

import sentry_sdk

from config.env import env, env_float


def init_sentry():
    dsn = env("SENTRY_DSN")
    if not dsn:
        return
    sentry_sdk.init(
        dsn=dsn,
        # Railway names the environment and the commit; Sentry does not read them by itself.
        environment=env("SENTRY_ENVIRONMENT") or env("RAILWAY_ENVIRONMENT_NAME") or None,
        release=env("RAILWAY_GIT_COMMIT_SHA") or None,
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
        # No cookies, credentials headers, user ids or client IPs leave the server.
        send_default_pii=False,
    )
