"""The hostile-HTTP corpus (hostile_http.toml): raw requests over loopback sockets, the answers
they got, and whether they reached a view. Used by tests/test_hostile_http.py against the
Procfile web command; run as a script, it prints the same table for any server of a bake
prepared with echo_view() (docs/hostile-http.md compares gunicorn's answers):

    python tests/hostile_http.py PORT ECHO_LOG
"""

import json
import re
import socket
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).with_name("hostile_http.toml")
EDGE_ADDRESS = "203.0.113.7"
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
REPEAT = re.compile(r"\{(\d+)\*(\w)\}")

# Added to a checkout's config/urls.py: a view at /echo/<case>/ that records each request it
# runs (one line in ECHO_LOG) and answers what it saw; /stream/ streams 13 MB.
ECHO_VIEW = '''
import os as _os
from django.http import JsonResponse as _JsonResponse
from django.urls import re_path as _re_path
from django.views.decorators.csrf import csrf_exempt as _csrf_exempt
from plumbing.ratelimit import client_ip as _client_ip


@_csrf_exempt
def _echo(request, case):
    body = request.body
    with open(_os.environ["ECHO_LOG"], "a") as log:
        log.write(case + "\\n")
    return _JsonResponse({
        "body": len(body),
        "query": "&".join(sorted(f"{k}={v}" for k, v in request.GET.items())),
        "client_ip": _client_ip(request),
        "forwarded_for": request.META.get("HTTP_X_FORWARDED_FOR", ""),
    })


def _stream(request):
    from django.http import StreamingHttpResponse

    return StreamingHttpResponse(b"x" * 65536 for _ in range(200))


urlpatterns.insert(0, _re_path(r"^echo/(?P<case>[^/]+)/$", _echo))
urlpatterns.insert(0, _re_path(r"^stream/$", _stream))
'''


def echo_view(checkout):
    """Add the echo view to a checkout of a bake."""
    urls = Path(checkout) / "config" / "urls.py"
    urls.write_text(urls.read_text() + ECHO_VIEW)


def load_cases():
    return tomllib.loads(CORPUS.read_text())["case"]


def request_bytes(case, host):
    edge = f"Host: {host}\r\nX-Forwarded-Proto: https\r\nX-Real-IP: {EDGE_ADDRESS}\r\n"
    text = case["request"].replace("{path}", f"/echo/{case['name']}/").replace("{edge}", edge)
    text = text.replace("{host}", host)
    text = REPEAT.sub(lambda match: match.group(2) * int(match.group(1)), text)
    return text.encode("latin-1")


@dataclass
class Outcome:
    name: str
    statuses: list = field(default_factory=list)  # each answer's status, in order
    body: bytes = b""  # the last answer's body
    seconds: float = 0.0
    viewed: bool = False

    @property
    def answers(self):
        return self.statuses or ["closed"]

    def shown(self):
        text = "/".join(str(answer) for answer in self.answers)
        return text + (" (view ran)" if self.viewed else "")


def send(port, data, half_close=False, timeout=8.0):
    """Send the bytes, read until the server closes (or `timeout`); (statuses, last body, s)."""
    started = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
            deadline = started + timeout
            while time.monotonic() < deadline:
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except OSError:  # a reset, or the timeout: what came so far is the answer
            pass
    statuses = [int(status) for status in STATUS_LINE.findall(answer) if status != b"100"]
    return statuses, answer.rpartition(b"\r\n\r\n")[2], time.monotonic() - started


def run(port, host, echo_log, cases=None, workers=8, timeout=8.0):
    """Send every case (several at once); {name: Outcome}."""
    cases = cases or load_cases()
    Path(echo_log).write_text("")

    def one(case):
        wait = case.get("wait", timeout)
        statuses, body, seconds = send(port, request_bytes(case, host), case.get("half_close", False), wait)
        return Outcome(case["name"], statuses, body, seconds)

    with ThreadPoolExecutor(workers) as pool:
        outcomes = {outcome.name: outcome for outcome in pool.map(one, cases)}
    time.sleep(0.5)  # a view that was still running writes its line
    for name in Path(echo_log).read_text().split():
        if name in outcomes:
            outcomes[name].viewed = True
    return outcomes


def failures(case, outcome):
    """What is wrong with an outcome, as sentences (none when it is as the case expects)."""
    wrong = []
    if "expect_all" in case:
        if outcome.statuses != case["expect_all"]:
            wrong.append(f"answers {outcome.answers}, expected {case['expect_all']}")
    elif outcome.answers[0] not in case["expect"]:
        wrong.append(f"answer {outcome.answers[0]}, expected one of {case['expect']}")
    if case.get("answer_has") and case["answer_has"].encode() not in outcome.body:
        wrong.append(f"the answer lacks {case['answer_has']!r}: {outcome.body[:200]!r}")
    if outcome.viewed and not case["view"]:
        wrong.append("reached the view")
    if case.get("echo") and outcome.viewed:
        seen = json.loads(outcome.body or b"{}")
        for key, value in case["echo"].items():
            if seen.get(key) != value:
                wrong.append(f"the view saw {key}={seen.get(key)!r}, expected {value!r}")
    return wrong


if __name__ == "__main__":
    port, echo_log = int(sys.argv[1]), sys.argv[2]
    host = sys.argv[3] if len(sys.argv) > 3 else "my-api-production.up.railway.app"
    cases = load_cases()
    outcomes = run(port, host, echo_log, cases)
    for case in cases:
        outcome = outcomes[case["name"]]
        print(f"{case['name']}\t{outcome.shown()}\t{'; '.join(failures(case, outcome)) or 'ok'}")
