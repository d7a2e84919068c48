"""Where a request's time goes in the baked project: cProfile over N in-process requests.

    python bench/profile_request.py PROJECT_DIR [PATH] [N]

Run with the baked project's venv interpreter. Uses production settings (DEBUG off) with
Railway-like headers, SQLite, and prints the top functions by cumulative and own time.
"""

import cProfile
import os
import pstats
import secrets
import sys

project, path, count = sys.argv[1], (sys.argv[2:3] or ["/health/"])[0], int((sys.argv[3:4] or [2000])[0])
os.chdir(project)
sys.path.insert(0, project)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
os.environ["DEBUG"] = "False"
import django  # noqa: E402

django.setup()
from django.test import Client  # noqa: E402

client = Client(HTTP_HOST=os.environ.get("HOST", "example.com"), HTTP_X_FORWARDED_PROTO="https")
headers = {}
if os.environ.get("TOKEN"):
    headers["HTTP_AUTHORIZATION"] = f"Token {os.environ['TOKEN']}"
assert client.get(path, **headers).status_code == 200
profile = cProfile.Profile()
profile.enable()
for _ in range(count):
    client.get(path, **headers)
profile.disable()
stats = pstats.Stats(profile, stream=sys.stdout).strip_dirs()
stats.sort_stats("cumulative").print_stats(35)
stats.sort_stats("tottime").print_stats(15)
