"""Worker memory after hostile JSON bodies: what API_JSON_MAX_SIZE bounds (plumbing/parsers.py).

    python bench/json_memory.py /path/to/baked/project /path/to/its/venv

Starts the project's Procfile web command with one gunicorn worker (production variables,
SQLite), warms it with 20 small logins, then posts three bodies of `[]` arrays of each size and
prints the worker's RSS before and after. Python keeps the memory of parsed objects, so the
growth stays until the worker is recycled.
"""

import json
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from baked_venvs import venv_env  # noqa: E402
from railway import HTTPS, production_env  # noqa: E402
from servers import Server  # noqa: E402

SIZES = [2_621_440, 262_140]  # just under DATA_UPLOAD_MAX_MEMORY_SIZE; just under the JSON limit


def rss_mb(pid):
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * 4096 / 2**20


def post(server, body):
    address = f"198.51.100.{secrets.randbelow(250) + 1}"  # a fresh rate-limit bucket
    headers = {**HTTPS, "Content-Type": "application/json", "X-Real-IP": address}
    return server.http.request("POST", "/api/auth/login/", headers, body, timeout=60)[0]


def main(project, venv):
    venv = Path(venv)
    for size in SIZES:
        env = venv_env(venv, production_env(WEB_CONCURRENCY=1))
        with Server(project, env, Path("/tmp") / f"json-memory-{size}.log") as server:
            time.sleep(1)
            master = server.process.pid
            worker = int(Path(f"/proc/{master}/task/{master}/children").read_text().split()[0])
            for _ in range(20):
                post(server, json.dumps({"username": "x", "password": "y"}).encode())
            before = rss_mb(worker)
            body = ("[" + ",".join(["[]"] * ((size - 2) // 3)) + "]").encode()
            statuses = [post(server, body) for _ in range(3)]
            after = rss_mb(worker)
            print(f"{len(body):>9} bytes of []: {statuses}, worker RSS {before:.0f} -> {after:.0f} MB")


if __name__ == "__main__":
    main(*sys.argv[1:3])
