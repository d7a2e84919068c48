"""What a public file's stable URL costs (plumbing/public_files.py), against moto's S3 server.

    python bench/public_files.py /path/to/baked/project /path/to/its/venv [requests]

Starts moto_server and the project's Procfile web command on loopback (production variables,
the bucket's), puts one 50 KB PNG under public/, then times, one client, sequentially:
the presigned link alone (what the API hands out for a private file), GET /public/<key> (the
302 our server answers), and the two together (what a browser without a cached redirect does).
A browser that cached the redirect (PUBLIC_FILES_MAX_AGE) pays only the bucket's part.
"""

import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from baked_venvs import venv_env  # noqa: E402
from railway import HTTPS, deploy_copy  # noqa: E402
from rate_windows import fresh_client_ip  # noqa: E402
from servers import Server  # noqa: E402
from test_files import MotoServer, bucket_env, png  # noqa: E402


def timed(function, count):
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * count) - 1]


def main(project, venv, count=200):
    count = int(count)
    work = Path("/tmp") / "bench-public-files"
    moto = MotoServer(work.with_suffix(".moto.log")).start()
    try:
        bucket = moto.create_bucket()
        checkout = deploy_copy(project, work / "app") if not (work / "app").exists() else work / "app"
        content = png(b"x" * 50_000)
        key = "public/bench/picture.png"
        moto.client().put_object(Bucket=bucket, Key=key, Body=content, ContentType="image/png")
        env = venv_env(Path(venv), bucket_env(moto, bucket, THROTTLE_ANON="100000/m"))
        with Server(checkout, env, work.with_suffix(".web.log")) as server:
            headers = {**HTTPS, "X-Real-IP": fresh_client_ip()}
            status, answer, _ = server.http.get("/" + key, headers)
            assert status == 302, status
            location = answer["Location"]

            def bucket_only():
                with urllib.request.urlopen(location, timeout=10) as response:
                    assert response.read() == content

            def redirect_only():
                assert server.http.get("/" + key, headers)[0] == 302

            def both():
                redirect_only()
                bucket_only()

            for name, function in [("presigned link (bucket only)", bucket_only),
                                   ("GET /public/<key> (302 only)", redirect_only),
                                   ("302 then the bucket", both)]:
                median, p95 = timed(function, count)
                print(f"{name:32} median {median:6.2f} ms  p95 {p95:6.2f} ms  ({count} requests)")
    finally:
        moto.stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
