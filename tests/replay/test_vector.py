"""Replay reference §1.6: one `/s/` request → one `session_replay_events` row → one API record, through the
real path (capture, the queue, the ingestion pipeline, the blob storage, the API)."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from ingestion.worker import flush
from replay import ingestion
from tests.replay.helpers import post_snapshots, replay_rows
from tests.replay.vector import SESSION, WINDOW, T, events, snapshot_event

DB = pytest.mark.django_db(transaction=True)


@pytest.fixture
def vector_clock(monkeypatch):
    monkeypatch.setattr(ingestion, "clock", lambda: dt.datetime.fromtimestamp(T / 1000 + 60, tz=dt.UTC))


@pytest.mark.clickhouse
@DB
def test_one_request_one_row_one_record(project, vector_clock):
    response = post_snapshots([snapshot_event(events(), token=project.team.api_token)])
    assert response.status_code == 200, response.content
    assert response.json() == {"status": 1}
    flush()

    rows = replay_rows(project.team.pk)
    assert len(rows) == 1
    row = rows[0]
    assert row["session_id"] == SESSION and row["window_id"] == WINDOW and row["distinct_id"] == "user-42"
    assert str(row["min_first_timestamp"])[:26] == "2024-07-03 09:46:40"
    assert str(row["max_last_timestamp"])[:19] == "2024-07-03 09:47:00"
    assert row["first_url"] == "https://example.com/pricing" and row["all_urls"] == ["https://example.com/pricing"]
    assert (row["click_count"], row["keypress_count"], row["mouse_activity_count"]) == (1, 1, 2)
    assert row["active_milliseconds"] == 3501
    assert (row["console_log_count"], row["console_warn_count"], row["console_error_count"]) == (1, 0, 1)
    assert (row["event_count"], row["message_count"], row["size"]) == (8, 1, 1651)
    assert (row["snapshot_source"], row["snapshot_library"]) == ("web", "web")

    base = f"/api/environments/{project.team.pk}/session_recordings"
    listing = project.client().get(f"{base}/", {"date_from": "2024-07-01"})
    assert listing.status_code == 200, listing.content
    body = listing.json()
    assert body["has_next"] is False and body["version"] == 4
    [record] = body["results"]
    assert record["id"] == SESSION
    assert (record["recording_duration"], record["active_seconds"], record["inactive_seconds"]) == (20, 3, 16)
    assert record["start_url"] == "https://example.com/pricing"
    assert record["activity_score"] == 27.09
    assert record["start_time"] == "2024-07-03T09:46:40Z" and record["end_time"] == "2024-07-03T09:47:00Z"
    assert (record["click_count"], record["keypress_count"], record["console_error_count"]) == (1, 1, 1)
    assert record["person"]["distinct_ids"] == ["user-42"]
    assert record["snapshot_source"] == "web" and record["retention_period_days"] == 30
    assert record["expiry_time"] == "2024-08-02T00:00:00Z" and record["recording_ttl"] == 0
    assert record["viewed"] is False

    projects_base = f"/api/projects/{project.team.pk}/session_recordings"
    assert project.client().get(f"{projects_base}/{SESSION}/").json() == {**record}

    sources = project.client().get(f"{base}/{SESSION}/snapshots/").json()
    assert sources == {
        "sources": [
            {
                "source": "blob_v2",
                "start_timestamp": "2024-07-03T09:46:40Z",
                "end_timestamp": "2024-07-03T09:47:00Z",
                "blob_key": "0",
            }
        ]
    }
    blob = project.client().get(f"{base}/{SESSION}/snapshots/?source=blob_v2&start_blob_key=0&end_blob_key=0")
    assert blob.status_code == 200
    assert blob["Content-Type"] == "application/jsonl" and blob["Cache-Control"] == "max-age=3600"
    lines = blob.content.split(b"\n")
    assert len(lines) == 8 and not blob.content.endswith(b"\n")
    assert lines[3] == (
        b'["0190b2d4-5f2d-7000-9d1e-0a0b0c0d0e0f",{"type":3,"data":{"source":2,"type":2,"id":6,"x":10,'
        b'"y":20},"timestamp":1720000002000}]'
    )
    assert [orjson.loads(line)[1] for line in lines] == events()
