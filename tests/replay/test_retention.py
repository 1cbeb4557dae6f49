"""Retention: the periodic task deletes recordings (rows and their days' blob objects) older than the
project's retention, in both modes' entry points (the embedded thread and Celery beat run the same service)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings

from ingestion.worker import flush
from replay import tasks
from replay.ingestion import retention_days
from replay.services import expired_recordings_delete
from tests.replay.helpers import now_ms, post_snapshots, replay_rows, session_events, snapshot


@pytest.mark.parametrize(
    ("value", "days"),
    [("30d", 30), ("90d", 90), ("1y", 365), ("5y", 1825), (14, 14), (None, 30), ("bogus", 30)],
)
def test_retention_days(value, days):
    assert retention_days(SimpleNamespace(session_recording_retention_period=value)) == days
    assert retention_days(None) == django_settings.REPLAY_DEFAULT_RETENTION_DAYS == 30


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_expired_recordings_are_deleted_with_their_blobs(project, _replay_storage):
    token, now = project.team.api_token, now_ms()
    old_start, new_start = now - 3 * 86_400_000, now - 3_600_000
    post_snapshots([snapshot(token, "old", session_events(old_start, seconds=5))])
    post_snapshots([snapshot(token, "new", session_events(new_start, seconds=5))])
    flush()
    assert {r["session_id"] for r in replay_rows(project.team.pk)} == {"old", "new"}
    old_day = dt.datetime.fromtimestamp(old_start / 1000, tz=dt.UTC).strftime("%Y-%m-%d")
    assert (_replay_storage / str(project.team.pk) / old_day).is_dir()

    # 29 days on, a 30-day retention cuts at yesterday's midnight: the 3-day-old recording is past it
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=29)
    counts = expired_recordings_delete(now=later)
    assert counts["objects"] >= 1
    assert {r["session_id"] for r in replay_rows(project.team.pk)} == {"new"}
    assert not (_replay_storage / str(project.team.pk) / old_day).exists()
    api = project.client()
    base = f"/api/environments/{project.team.pk}/session_recordings"
    assert api.get(f"{base}/old/").status_code == 404 and api.get(f"{base}/new/").status_code == 200

    assert tasks.delete_expired_recordings() == {"projects": 1, "objects": 0}  # now: nothing else is due
    assert {r["session_id"] for r in replay_rows(project.team.pk)} == {"new"}


def test_beat_schedules_the_task_hourly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["replay-delete-expired"]
    assert entry["task"] == tasks.delete_expired_recordings.name and entry["schedule"] == 3600.0
