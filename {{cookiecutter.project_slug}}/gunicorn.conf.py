"""gunicorn settings (the Procfile passes --config gunicorn.conf.py).

https://docs.gunicorn.org/en/stable/settings.html
"""

import os

from config.env import env, env_int
from plumbing.logging import logging_config

# [::] accepts IPv4 too, and Railway's private network is IPv6-only.
bind = [f"[::]:{env('PORT', '8000')}"]
workers = env_int("WEB_CONCURRENCY", 2)

# A request may take 30 s; on SIGTERM (redeploy) in-flight requests get 25 s to finish.
timeout = 30
graceful_timeout = 25
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow unbounded; the jitter keeps them
# from all restarting at once. Each recycle leaves a worker's slot empty for about 250 ms
# (the template repository's docs/benchmarks.md): every 1000 requests cost a third of the
# throughput under load.
max_requests = 10000
max_requests_jitter = 1000
# Load the app once in the master and fork workers from it: a recycled worker starts without
# re-importing Django, and workers share the loaded code's memory.
preload_app = True
# Heartbeat files in memory, not on a possibly slow container disk.
SHARED_MEMORY = "/dev/shm"  # noqa: S108 - a tmpfs gunicorn only writes heartbeats to
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
# gunicorn 25.1+ opens a control socket under ~/.gunicorn by default: not needed here.
control_socket_disable = True

# The app logs one line per request itself (with its request id), so no access log here;
# gunicorn's own messages use the same JSON/text format on stdout.
accesslog = None
logconfig_dict = logging_config()
