"""plumbing/bodies.py sends /health/ and static files to threads of their own, so that requests
waiting on a database that stopped answering cannot hold them up; every other path, lookalikes
included, runs on Django's threads."""

import asyncio
import threading

import pytest

from plumbing.bodies import DjangoOverRSGI
from plumbing.tests.test_bodies import Protocol, Scope


def thread_names(paths):
    """{path: the name of the thread that ran it}."""
    ran = {}

    def app(environ, start_response):
        ran[environ["PATH_INFO"]] = threading.current_thread().name
        start_response("200 OK", [])
        return [b"ok"]

    async def main():
        server = DjangoOverRSGI(app, threads=2, readers=4)
        await asyncio.gather(*(server.__rsgi__(Scope(path=path), Protocol()) for path in paths))

    asyncio.run(main())
    return ran


@pytest.mark.parametrize(
    ("path", "pool"),
    [
        ("/health/", "health-probe"),
        ("/static/css/site.css", "static"),
        ("/static/no-such-file.js", "static"),
        ("/favicon.ico", "static"),
        ("/health", "django"),
        ("/health/x/", "django"),
        ("/healthz/", "django"),
        ("/api/health/", "django"),
        ("/staticx/site.css", "django"),
        ("/api/static/site.css", "django"),
        ("/favicon.ico/x", "django"),
        ("/", "django"),
    ],
)
def test_each_path_runs_on_its_own_threads(path, pool):
    assert thread_names([path])[path].startswith(pool + "_")


def test_health_and_static_files_answer_while_every_django_thread_is_held():
    release = threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"].startswith("/api/"):
            release.wait(10)  # a request waiting on a database that stopped answering
        start_response("200 OK", [])
        return [b"ok"]

    async def main():
        server = DjangoOverRSGI(app, threads=2, readers=4)
        held = [
            asyncio.ensure_future(server.__rsgi__(Scope(path="/api/x/"), Protocol()))
            for _ in range(3)
        ]
        await asyncio.sleep(0.1)
        quick = [Protocol(), Protocol()]
        async with asyncio.timeout(2):
            await server.__rsgi__(Scope(path="/health/"), quick[0])
            await server.__rsgi__(Scope(path="/static/css/site.css"), quick[1])
        release.set()
        await asyncio.gather(*held)
        return quick

    assert [protocol.answer[0] for protocol in asyncio.run(main())] == [200, 200]
