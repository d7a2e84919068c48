"""Talking HTTP to a started server: a plain client, raw sockets for requests a server may
answer early, and the JSON API calls (signup, staff token) tests build on."""

import email.message
import json
import secrets
import socket
import threading
import urllib.error
import urllib.request

from processes import run
from railway import HTTPS
from rate_windows import fresh_client_ip

PASSWORD = "a-long-enough-passphrase"


class Http:
    """Minimal HTTP client over urllib: never follows redirects, returns (status, headers, body)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(self._NoRedirect)

    def request(self, method, path, headers=None, body=None, timeout=30):
        req = urllib.request.Request(self.base_url + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def get(self, path, headers=None, **kwargs):
        return self.request("GET", path, headers=headers, **kwargs)


def raw_request(port, head, body_parts, pace=None, timeout=200):
    """Send head + body parts over one connection (sleeping `pace` seconds before each part,
    when given) while reading the answer; return the answer's bytes. Sending stops quietly if
    the server answers early and closes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send():
        try:
            sock.sendall(head)
            for index, part in enumerate(body_parts):
                if pace:
                    pace(index)
                sock.sendall(part)
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and len(answer) >= answer_length(answer):
                break
    except OSError:
        pass
    sock.close()
    sender.join(timeout=5)
    return answer


def answer_length(answer):
    """The answer's full length once its head is in (infinite while a chunked one is open)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    if body.endswith(b"0\r\n\r\n"):
        return len(answer)
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return float("inf")


def request_answered_early(server, method, path, headers, body):
    """(status, headers, body) for a request the server may answer before reading its body (a
    413 from the Content-Length): urllib sends the whole body first, and when the server has
    closed by then it loses the answer to a broken pipe. This reads while it sends."""
    fields = {**headers, "Content-Length": str(len(body)), "Connection": "close"}
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    answer = raw_request(server.port, (head + "\r\n").encode(), [body], timeout=30)
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    message = email.message.Message()
    for line in lines:
        name, _, value = line.partition(":")
        message[name.strip()] = value.strip()
    return int(status_line.split()[1]), message, content


def api(server, method, path, body=None, token=None, ip=None, **extra):
    """A JSON API call as Railway's edge forwards it, from client address `ip` (by default a
    fresh one, so no rate-limit bucket is shared with another test)."""
    headers = {**HTTPS, "Content-Type": "application/json", "X-Real-IP": ip or fresh_client_ip(), **extra}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    return server.http.request(method, path, headers, data)


def signup(server):
    """A new user's token, signed up from an address of its own (the signup limit is 3/h)."""
    username = f"u{secrets.token_hex(4)}"
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    status, _, response = api(server, "POST", "/api/auth/signup/", body, ip=fresh_client_ip(period=3600))
    assert status == 201, response
    return json.loads(response)["token"]


def staff_token(server):
    """A superuser's token (createsuperuser, then the login API)."""
    run(
        ["python", "manage.py", "createsuperuser", "--noinput", "--username", "ops", "--email", "ops@example.com"],
        server.project,
        {**server.env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
    )
    status, _, body = api(server, "POST", "/api/auth/login/", {"username": "ops", "password": PASSWORD})
    assert status == 200, body
    return json.loads(body)["token"]
