"""Background tasks end to end: the Procfile web command enqueues a password-reset e-mail, the
Procfile worker command (a second Railway service) sends it to a real SMTP server on loopback
(aiosmtpd), on SQLite and on PostgreSQL, for both Django lines. A task that fails is retried
and logged (and reported to Sentry); SIGTERM to the worker mid-task loses nothing."""

import asyncio
import email
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from email import policy

import pytest

from baked_venvs import venv_env
from fakes import SentryIngest
from http_clients import PASSWORD, api
from railway import deploy_copy, procfile_command, production_env
from rate_windows import fresh_client_ip
from servers import Server
from services import create_database, drop_database, require_service

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.worker]
NEW_PASSWORD = "another-long-passphrase-42"


class Mailbox:
    """aiosmtpd on 127.0.0.1: keeps every message; can refuse the next N with a 451 (the
    sender should retry) or hold each DATA for `delay` seconds (a slow provider)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.refuse = 0
        self.delay = 0.0
        self.receiving = threading.Event()
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                mailbox.receiving.set()
                if mailbox.refuse > 0:
                    mailbox.refuse -= 1
                    return "451 4.3.0 Try again later"
                if mailbox.delay:
                    await asyncio.sleep(mailbox.delay)
                mailbox.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def wait_for(self, recipient, timeout=45):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                if message["To"] == recipient:
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no e-mail to {recipient} within {timeout}s; got {[m['To'] for m in self.messages]}")

    def close(self):
        self.controller.stop()


class Worker:
    """The Procfile worker command (or another Procfile line that logs `ready` once started), as
    Railway runs it: sh -c, its own process group."""

    def __init__(self, project, env, log_path, process="worker", ready="Starting worker"):
        self.project, self.env, self.log_path = project, env, log_path
        self.name, self.ready = process, ready
        self.process = None

    def start(self, timeout=60):
        self.log = open(self.log_path, "ab")
        self.offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            ["sh", "-c", procfile_command(self.project, self.name)], cwd=self.project, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not any(self.ready in r.get("message", "") for r in self.records()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not start ({self.process.poll()}):\n{self.output()}")
            time.sleep(0.1)
        return self

    def output(self):
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_bytes()[self.offset:].decode(errors="replace")

    def records(self):
        """This run's log lines, each parsed as JSON (raises if one is not)."""
        return [json.loads(line) for line in self.output().splitlines() if line.strip()]

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                raise
        self.log.close()
        return self.process.returncode


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture(scope="module")
def sentry():
    ingest = SentryIngest()
    yield ingest
    ingest.close()


LINES = [("5.2", "sqlite"), ("5.2", "postgres"), ("6.1", "sqlite"), ("6.1", "postgres")]


@pytest.fixture(scope="module", params=LINES, ids=lambda p: f"django{p[0]}-{p[1]}")
def stack(request, variant, mailbox, sentry, tmp_path_factory):
    """Web and worker of one bake on one database, production variables, mail to the mailbox."""
    django_version, database = request.param
    source, venv = variant(django_version=django_version)
    workdir = tmp_path_factory.mktemp(f"tasks-{django_version}-{database}")
    project = deploy_copy(source, workdir / "app")
    extra = {}
    name = None
    if database == "postgres":
        require_service("PostgreSQL", "127.0.0.1", 5432)
        url, name = create_database(venv)
        extra = {"DATABASE_URL": url, "DATABASE_SSL_REQUIRE": "false"}
    env = venv_env(venv, production_env(
        EMAIL_URL=mailbox.url, DEFAULT_FROM_EMAIL="accounts@example.com", TASKS_RETRY_DELAY="1",
        SENTRY_DSN=sentry.dsn("0123456789abcdef0123456789abcdef"), **extra,
    ))
    web = Server(project, env, workdir / "web.log")
    web.start()
    worker = Worker(project, web.env, workdir / "worker.log")
    try:
        yield web, worker
    finally:
        if worker.process:
            worker.stop()
        web.stop()
        if name:
            drop_database(venv, name)


def unique(prefix):
    return f"{prefix}{secrets.token_hex(4)}"


def signup(web, username):
    address = f"{username}@example.com"
    body = {"username": username, "email": address, "password": PASSWORD}
    status, _, response = api(web, "POST", "/api/auth/signup/", body, ip=fresh_client_ip(period=3600))
    assert status == 201, response
    return address


def ask_reset(web, address):
    status, _, body = api(web, "POST", "/api/auth/password-reset/", {"email": address}, ip=fresh_client_ip(period=3600))
    assert status == 202, body
    return json.loads(body)


def reset_fields(message):
    text = message.get_content()
    return re.search(r"uid: (\S+)", text).group(1), re.search(r"token: (\S+)", text).group(1)


def test_reset_mail_is_sent_by_the_worker_and_its_token_works_once(stack, mailbox):
    web, worker = stack
    address = signup(web, unique("reset"))
    unknown = ask_reset(web, "nobody-here@example.com")
    answer = ask_reset(web, address)
    assert answer == unknown  # the same answer whether or not an account uses the address
    time.sleep(1)
    assert [m for m in mailbox.messages if m["To"] == address] == []  # queued, not sent inline
    worker.start()
    message = mailbox.wait_for(address)
    assert message["From"] == "accounts@example.com"
    uid, token = reset_fields(message)
    confirm = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    status, _, body = api(web, "POST", "/api/auth/password-reset/confirm/", confirm)
    assert status == 200, body
    username = address.split("@")[0]
    status, _, _ = api(web, "POST", "/api/auth/login/", {"username": username, "password": NEW_PASSWORD})
    assert status == 200
    status, _, body = api(web, "POST", "/api/auth/password-reset/confirm/", {**confirm, "new_password": "yet-another-passphrase-7"})
    assert status == 400, body  # single use: the password change invalidated the token
    records = worker.records()
    finished = [r for r in records if "state=SUCCESSFUL" in r.get("message", "")]
    assert finished and all(r["level"] == "INFO" for r in finished)
    assert worker.stop() == 0


def test_failed_task_is_retried_logged_and_reported(stack, mailbox, sentry):
    web, worker = stack
    address = signup(web, unique("retry"))
    sentry.items.clear()
    mailbox.refuse = 1  # the provider refuses the first attempt with a 451
    worker.start()
    ask_reset(web, address)
    mailbox.wait_for(address)  # delivered by the retry, TASKS_RETRY_DELAY (1 s) later
    assert worker.stop() == 0
    records = worker.records()
    failed = [r for r in records if r["level"] == "ERROR" and "state=FAILED" in r.get("message", "")]
    assert len(failed) == 1 and "SMTPDataError" in failed[0]["exc_info"], records
    retried = [r for r in records if r.get("retry_in")]
    assert len(retried) == 1 and retried[0]["level"] == "WARNING", records
    assert retried[0]["attempt"] == 1 and retried[0]["error"] == "smtplib.SMTPDataError"
    events = sentry.wait_for_events(1, settle=0)
    assert any(
        e["payload"].get("exception", {}).get("values", [{}])[-1].get("type") == "SMTPDataError" for e in events
    ), [e["payload"].get("logentry") for e in events]


def test_sigterm_mid_task_finishes_it_and_loses_nothing(stack, mailbox):
    web, worker = stack
    first, second = signup(web, unique("first")), signup(web, unique("second"))
    ask_reset(web, first)
    ask_reset(web, second)
    mailbox.delay = 3.0  # each mail takes 3 s to accept
    mailbox.receiving.clear()
    try:
        worker.start()
        assert mailbox.receiving.wait(30), worker.output()
        started = time.monotonic()
        assert worker.stop(signal.SIGTERM) == 0  # Railway's redeploy: SIGTERM, then a drain window
        assert time.monotonic() - started >= 1.5  # it waited for the task in hand
        delivered = [m["To"] for m in mailbox.messages]
        assert (first in delivered) != (second in delivered), delivered  # exactly the one in hand
    finally:
        mailbox.delay = 0.0
    worker.start()  # the next deploy's worker picks up what is still queued
    mailbox.wait_for(first)
    mailbox.wait_for(second)
    assert worker.stop() == 0
