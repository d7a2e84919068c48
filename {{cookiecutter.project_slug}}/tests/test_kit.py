"""The test kit (conftest.py, accounts/factories.py, docs/testing.md) does what it promises."""

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.factories import PASSWORD, UserFactory
from plumbing.tasks import TaskResultStatus, task

recorded = []


@task()
def record(value):
    recorded.append(value)
    return value


@pytest.fixture(autouse=True)
def nothing_recorded():
    recorded.clear()


def test_api_client_is_signed_in_with_a_real_token(api_client, user):
    me = api_client.get("/api/auth/me/", secure=True)
    assert me.status_code == 200 and me.json()["username"] == user.username
    assert api_client.user == user


@pytest.mark.django_db
def test_factories_give_users_who_can_log_in(client):
    alice = UserFactory(username="alice")
    assert alice.email == "alice@example.com" and alice.check_password(PASSWORD)
    assert UserFactory().username != UserFactory().username
    login = {"username": "alice", "password": PASSWORD}
    assert client.post("/api/auth/login/", login, secure=True).status_code == 200


def test_uploads_land_in_a_temporary_folder(media_root):
    assert media_root != django_settings.BASE_DIR / "media"
    name = default_storage.save("files/kit.txt", ContentFile(b"kit"))
    assert (media_root / name).read_bytes() == b"kit"


@pytest.mark.django_db
def test_a_task_enqueued_on_commit_runs_only_when_the_commit_is_captured(
    django_capture_on_commit_callbacks,
):
    with transaction.atomic():
        transaction.on_commit(lambda: record.enqueue("lost"))
    assert recorded == []  # the test's own transaction never commits
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        transaction.on_commit(lambda: record.enqueue("sent"))
    assert len(callbacks) == 1 and recorded == ["sent"]


def test_run_worker_runs_queued_tasks_with_the_real_worker(run_worker):
    result = record.enqueue("queued")
    assert result.status == TaskResultStatus.READY and recorded == []
    run_worker()
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value == "queued"
