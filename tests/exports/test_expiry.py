"""Expiry (§A11): an asset past `expires_after` is 404 at once, and the periodic job deletes it (with its
stored object) — the same task function on Celery beat and on the embedded scheduler."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from exports import tasks, worker
from exports.models import ExportedAsset
from exports.tasks import delete_expired_assets
from tests.exports.conftest import exports_url, make_asset


@pytest.mark.django_db(transaction=True)  # the task closes its DB connection as a Celery worker's would
def test_expired_asset_is_404_then_deleted_by_the_periodic_task(project: Any) -> None:
    expired = make_asset(project, content=b"old", expires_after=timezone.now() - dt.timedelta(seconds=1))
    live = make_asset(project, content=b"new")

    assert project.client().get(exports_url(project, f"{expired.pk}/")).status_code == 404
    assert project.client().get(exports_url(project, f"{expired.pk}/content/")).status_code == 404
    assert ExportedAsset.objects_unfiltered.filter(pk=expired.pk).exists()  # hidden, not yet deleted

    assert delete_expired_assets() == 1

    assert not ExportedAsset.objects_unfiltered.filter(pk=expired.pk).exists()
    assert ExportedAsset.objects.filter(pk=live.pk).exists()


def test_expiry_deletes_the_stored_object_too(project: Any, settings, tmp_path: Path) -> None:
    settings.EXPORTS_STORAGE_DIR = str(tmp_path)
    stored = tmp_path / "exports/csv/team-1/task-1/abc"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"x")
    make_asset(project, content_location="exports/csv/team-1/task-1/abc", expires_after=timezone.now())
    assert worker.run_expiry_once() == 1
    assert not stored.exists()


def test_embedded_scheduler_thread_runs_the_job(project: Any, monkeypatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(worker, "run_expiry_once", lambda: calls.append(1) or 0)
    monkeypatch.setattr(worker, "_scheduler", None)
    thread = worker.start_scheduler(interval=0.01)
    try:
        deadline = time.monotonic() + 5
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert thread.is_alive() and len(calls) >= 2
        assert worker.start_scheduler(interval=0.01) is thread  # idempotent
    finally:
        worker.stop_scheduler()
    assert not thread.is_alive()


def test_beat_schedules_the_same_task_on_the_exports_queue(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["exports-delete-expired"]
    assert entry["task"] == delete_expired_assets.name and entry["options"] == {"queue": "exports"}


def test_the_embedded_worker_runs_the_celery_task_function(monkeypatch) -> None:
    seen: list[int] = []
    monkeypatch.setattr(tasks, "exported_asset_generate", lambda asset_id: seen.append(asset_id) or True)
    assert worker.submit(41).wait(5) and seen == [41]
