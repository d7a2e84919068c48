"""The MDN HTTP Observatory's own scanner grades the baked project behind a TLS edge.

An outside judge: npm @mdn/mdn-http-observatory (installed by .ci/run with --ignore-scripts,
an empty HSTS preload list) scans the Procfile web command through nginx on 127.0.0.1:80/443
(tests/edge.py), as a visitor reaches a Railway deploy. tests/observatory_scan.mjs runs the
scanner's own retriever, tests and grader on each path.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from baked_venvs import venv_env
from baking import TEMPLATE_DIR
from edge import HOSTNAME, TlsEdge
from railway import deploy_copy, production_env
from servers import Server
from services import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.server]

# Where .ci/run installs the scanner (npm install --prefix); OBSERVATORY_DIR overrides it.
OBSERVATORY_DIR = Path(
    os.environ.get("OBSERVATORY_DIR", Path.home() / ".cache" / "django-railway-template" / "observatory")
)
PACKAGE_DIR = OBSERVATORY_DIR / "node_modules" / "@mdn" / "mdn-http-observatory"
STATIC_PAGE = "static/observatory-page.html"  # a user's own static HTML page, served by WhiteNoise

# Each path a visitor can reach, and the least score it must get (A+ is 100 and up).
PATHS = {
    "/": 130,
    "/api/auth/me/": 100,  # an API URL (401 JSON without a token)
    "/no-such-page/": 100,  # the 404 page
    "/admin/login/": 100,  # sets the CSRF cookie
    f"/{STATIC_PAGE}": 100,  # WhiteNoise answers before Django's views
}


@pytest.fixture(scope="module")
def scans(deployed, tmp_path_factory):
    """{path: the scanner's verdict} for every path in PATHS, scanned once per module."""
    node = shutil.which("node")
    if not node:
        unavailable("node is not installed (apt-get install nodejs)")
    if not (PACKAGE_DIR / "src" / "retriever" / "retriever.js").exists():
        unavailable(f"the MDN HTTP Observatory is not installed in {OBSERVATORY_DIR} (.ci/run installs it)")
    preload = PACKAGE_DIR / "conf" / "hsts-preload.json"
    if not preload.exists():
        preload.write_text("{}")  # its postinstall would download Chromium's list; none is offline

    project, venv = deployed
    work = tmp_path_factory.mktemp("observatory")
    checkout = deploy_copy(project, work / "app")
    (checkout / STATIC_PAGE).write_text(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Static page</title><p>Hello.</p></html>\n"
    )
    env = venv_env(venv, production_env(RAILWAY_PUBLIC_DOMAIN=HOSTNAME))
    with Server(checkout, env, work / "web.log") as server, TlsEdge(work / "edge", server.port) as edge:
        result = subprocess.run(
            [node, str(TEMPLATE_DIR / "tests" / "observatory_scan.mjs"), str(PACKAGE_DIR), HOSTNAME, *PATHS],
            env={
                "PATH": os.environ["PATH"],
                "HOME": os.environ.get("HOME", "/tmp"),
                "NODE_EXTRA_CA_CERTS": str(edge.ca),
                "NODE_OPTIONS": "--dns-result-order=ipv4first",  # nginx listens on 127.0.0.1
            },
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr + edge.error_log()
    verdicts = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {verdict["path"]: verdict for verdict in verdicts}


@pytest.mark.parametrize("path", PATHS)
def test_observatory_grades_every_kind_of_page_a_plus(scans, path):
    verdict = scans[path]
    print(f"{path}: {verdict.get('score')} {verdict.get('grade')}")  # shown with -rA / -s
    assert "error" not in verdict, verdict
    assert verdict["verified"], "the scanner did not trust the edge's certificate"
    failed = {name: test["result"] for name, test in verdict["tests"].items() if test["modifier"] < 0}
    assert verdict["grade"] == "A+" and verdict["score"] >= PATHS[path], (verdict["score"], failed)
    assert verdict["tests"]["redirection"]["pass"], verdict["tests"]["redirection"]
