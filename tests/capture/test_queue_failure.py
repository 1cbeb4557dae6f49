"""When the queue cannot take a request's events: 503 with PostHog's body and `Retry-After`, and nothing
queued (vector 22)."""

from __future__ import annotations

import sqlite3

import pytest

from tests.capture.helpers import dumps
from tests.queues import broker_unreachable

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("spool")]  # the embedded spool failing

UNAVAILABLE = {
    "type": "server_error",
    "code": "server_error",
    "detail": "Unable to store event. Please try again.",
    "attr": None,
}


def _batch(team, n=3):
    return dumps({"api_key": team.api_token, "batch": [{"event": f"e{i}", "distinct_id": "d"} for i in range(n)]})


def test_spool_refusing_writes_gives_503_and_nothing_queued(capture_client, spool, team):
    with sqlite3.connect(spool.path) as conn:  # the disk says no: every insert into the spool aborts
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON spool BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    response = capture_client.generic("POST", "/batch/", _batch(team), content_type="application/json")
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response["Retry-After"] == "5"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert spool.all_events() == []
    with sqlite3.connect(spool.path) as conn:
        conn.execute("DROP TRIGGER refuse")
    assert capture_client.generic("POST", "/batch/", _batch(team), content_type="application/json").status_code == 200
    assert len(spool.all_events()) == 3


def test_a_disk_below_the_free_space_floor_gives_503_and_capture_resumes_above_it(
    capture_client, settings, spool, team, tmp_path
):
    import os

    stat = os.statvfs(tmp_path)
    settings.SPOOL_MIN_FREE_MB = (stat.f_bavail * stat.f_frsize) // 2**20 + 2**20  # a TiB more than is free
    response = capture_client.generic("POST", "/batch/", _batch(team), content_type="application/json")
    assert (response.status_code, response.json(), response["Retry-After"]) == (503, UNAVAILABLE, "5")
    settings.SPOOL_MIN_FREE_MB = 1  # space came back
    assert capture_client.generic("POST", "/batch/", _batch(team), content_type="application/json").status_code == 200
    assert len(spool.all_events()) == 3


def test_spool_file_that_is_not_a_database_gives_503(capture_client, settings, tmp_path, team):
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"this is not a sqlite database" * 100)
    settings.SPOOL_PATH = broken
    response = capture_client.generic("POST", "/batch/", _batch(team), content_type="application/json")
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert broken.read_bytes() == b"this is not a sqlite database" * 100


def test_spool_under_a_regular_file_gives_503(capture_client, settings, tmp_path, team):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings.SPOOL_PATH = blocker / "spool.sqlite3"
    response = capture_client.generic("POST", "/e/", _batch(team, 1), content_type="application/json")
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert blocker.read_text() == "x"


def test_broker_that_is_down_gives_503(capture_client, settings, team):
    settings.INGEST_QUEUE = "celery"  # scale mode, with nothing listening where the broker should be
    with broker_unreachable():
        response = capture_client.generic("POST", "/batch/", _batch(team), content_type="application/json")
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
