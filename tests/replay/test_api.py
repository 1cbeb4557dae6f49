"""The session recordings API (replay reference §1.7): list filters and ordering, retrieve, viewed state,
delete, snapshots and their errors, and the auth matrix of every operation. Recordings are made through the
real path: `/s/`, the queue, the ingestion pipeline."""

from __future__ import annotations

import orjson
import pytest

from ingestion.worker import flush
from persons.models import Person, PersonDistinctId
from tests.auth_matrix import assert_auth_matrix
from tests.replay.helpers import now_ms, post_snapshots, session_events, snapshot

DB = pytest.mark.django_db(transaction=True)
pytestmark = [pytest.mark.clickhouse, DB]


@pytest.fixture
def recordings(project):
    """Three sessions: s-short (10 s, 1 click), s-long (100 s, 5 clicks, 2 errors, user-2), s-mid (40 s)."""
    token, start = project.team.api_token, now_ms() - 3_600_000
    post_snapshots(
        [
            snapshot(token, "s-short", session_events(start, seconds=10, clicks=1)),
            snapshot(
                token, "s-long", session_events(start + 1000, seconds=100, clicks=5, errors=2), distinct_id="user-2"
            ),
            snapshot(token, "s-mid", session_events(start + 2000, seconds=40, url="https://b.io/x")),
        ]
    )
    # a second message of s-long, in another window: blocks are listed in time order across windows
    post_snapshots(
        [snapshot(token, "s-long", session_events(start + 50_000, seconds=5), distinct_id="user-2", window="w2")]
    )
    flush()
    return project


def _base(project, environments=True):
    return f"/api/{'environments' if environments else 'projects'}/{project.team.pk}/session_recordings"


def _ids(response):
    assert response.status_code == 200, response.content
    return [r["id"] for r in response.json()["results"]]


def test_list_orders_and_filters(recordings):
    api, base = recordings.client(), _base(recordings)
    assert _ids(api.get(f"{base}/")) == ["s-mid", "s-long", "s-short"]  # newest start first
    assert _ids(api.get(f"{base}/", {"order": "duration"})) == ["s-long", "s-mid", "s-short"]
    assert _ids(api.get(f"{base}/", {"order": "click_count", "order_direction": "ASC"})) == [
        "s-mid",
        "s-short",
        "s-long",
    ]
    assert _ids(api.get(f"{base}/", {"order": "console_error_count", "limit": 1})) == ["s-long"]
    duration_gt = orjson.dumps([{"type": "recording", "key": "duration", "operator": "gt", "value": 30}]).decode()
    assert sorted(_ids(api.get(f"{base}/", {"having_predicates": duration_gt}))) == ["s-long", "s-mid"]
    assert _ids(api.get(f"{base}/", {"distinct_ids": '["user-2"]'})) == ["s-long"]
    assert _ids(api.get(f"{base}/", {"session_ids": '["s-short","nope"]'})) == ["s-short"]
    assert _ids(api.get(f"{base}/", {"session_ids": "[]"})) == []
    assert _ids(api.get(f"{base}/", {"date_from": "-1d", "date_to": "-2h"})) == []
    assert _ids(api.get(f"{base}/", {"date_from": "2000-01-01", "limit": 2, "offset": 1})) == ["s-long", "s-short"]
    page = api.get(f"{base}/", {"limit": 2}).json()
    assert page["has_next"] is True and len(page["results"]) == 2


def test_list_by_start_pages_on_the_whole_sessions(recordings):
    """The default ordering picks the page's sessions by start first, then aggregates them: the page holds every
    block of each (s-long's second window too), in either direction."""
    api, base = recordings.client(), _base(recordings)
    assert _ids(api.get(f"{base}/", {"order_direction": "ASC"})) == ["s-short", "s-long", "s-mid"]
    page = api.get(f"{base}/", {"order_direction": "ASC", "limit": 1, "offset": 1}).json()
    [record] = page["results"]
    assert page["has_next"] is True and record["id"] == "s-long"
    assert (record["click_count"], record["console_error_count"], record["recording_duration"]) == (5, 2, 100)
    assert api.get(f"{base}/", {"offset": 3}).json() == {"results": [], "has_next": False, "version": 4}


def test_list_by_person(recordings):
    person = Person.objects.create(team=recordings.team, properties={"email": "p@x.io"}, created_at="2024-01-01T00:00Z")
    PersonDistinctId.objects.create(team=recordings.team, person=person, distinct_id="user-2")
    api, base = recordings.client(), _base(recordings)
    [record] = api.get(f"{base}/", {"person_uuid": str(person.uuid)}).json()["results"]
    assert record["id"] == "s-long"
    assert record["person"]["uuid"] == str(person.uuid) and record["person"]["name"] == "p@x.io"
    assert record["person"]["distinct_ids"] == ["user-2"]


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"order": "nope"}, "order"),
        ({"order_direction": "up"}, "order_direction"),
        ({"date_from": "yesterday-ish"}, "date_from"),
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"distinct_ids": "{}"}, "distinct_ids"),
        ({"unknown_key": "1"}, "unknown_key"),
        ({"having_predicates": '[{"key":"size","operator":"gt","value":1}]'}, "having_predicates"),
    ],
)
def test_list_rejects_bad_parameters(recordings, params, attr):
    response = recordings.client().get(f"{_base(recordings)}/", params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["type"], body["code"], body["attr"]) == ("validation_error", "invalid_input", attr)


def test_retrieve_viewed_and_delete(recordings, other_project):
    api, base = recordings.client(), _base(recordings, environments=False)
    record = api.get(f"{base}/s-long/").json()
    assert record["recording_duration"] == 100 and record["click_count"] == 5 and record["console_error_count"] == 2
    assert record["viewed"] is False and record["ongoing"] is True and record["start_url"] == "https://a.io/"
    assert api.get(f"{base}/nope/").status_code == 404
    assert api.get(f"{base}/nope/").json()["detail"] == "Recording not found"

    assert api.patch(f"{base}/s-long/", {"viewed": True}, format="json").json() == {"success": True}
    assert api.get(f"{base}/s-long/").json()["viewed"] is True
    empty = api.patch(f"{base}/s-long/", {}, format="json")
    assert empty.status_code == 400
    assert empty.json()["detail"] == "At least one of 'viewed' or 'analyzed' must be provided."

    assert api.delete(f"{base}/s-long/").status_code == 204
    assert api.get(f"{base}/s-long/").status_code == 404
    assert api.get(f"{base}/s-long/snapshots/").status_code == 404
    assert sorted(_ids(api.get(f"{base}/"))) == ["s-mid", "s-short"]


def test_snapshots_sources_then_lines(recordings):
    api, base = recordings.client(), _base(recordings)
    sources = api.get(f"{base}/s-long/snapshots/").json()["sources"]
    assert [s["blob_key"] for s in sources] == ["0", "1"]
    assert sources[0]["start_timestamp"] < sources[1]["start_timestamp"]
    both = api.get(f"{base}/s-long/snapshots/", {"source": "blob_v2", "start_blob_key": 0, "end_blob_key": 1})
    lines = [orjson.loads(line) for line in both.content.split(b"\n")]
    assert {line[0] for line in lines} == {"w1", "w2"}
    first = [line for line in lines if line[0] == "w1"]
    assert first[0][1]["type"] == 4 and first[1][1]["type"] == 2
    second = api.get(f"{base}/s-long/snapshots/", {"source": "blob_v2", "start_blob_key": 1, "end_blob_key": 1})
    assert {orjson.loads(line)[0] for line in second.content.split(b"\n")} == {"w2"}


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"source": "realtime"}, 400, "Invalid source must be one of [blob_v2, blob_v2_ts, None]"),
        ({"source": "blob_v2", "start_blob_key": "0"}, 400, "Must provide both start blob key and end blob key"),
        ({"source": "blob_v2", "start_blob_key": "a", "end_blob_key": "1"}, 400, "Blob keys must be integers"),
        ({"source": "blob_v2", "start_blob_key": "0", "end_blob_key": "30"}, 400,
         "Cannot request more than 20 blob keys at once"),
        ({"source": "blob_v2", "start_blob_key": "0", "end_blob_key": "5"}, 404, None),
    ],
)  # fmt: skip
def test_snapshot_errors(recordings, params, status, detail):
    response = recordings.client().get(f"{_base(recordings)}/s-long/snapshots/", params)
    assert response.status_code == status, response.content
    assert set(response.json()) == {"type", "code", "detail", "attr"}
    if detail:
        assert response.json()["detail"] == detail


def test_other_projects_recordings_are_not_visible(recordings, other_project):
    other = _base(other_project)
    assert _ids(other_project.client().get(f"{other}/")) == []
    assert other_project.client().get(f"{other}/s-long/").status_code == 404
    assert other_project.client().get(f"{other}/s-long/snapshots/").status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix", "scope", "data"),
    [
        ("get", "/", "session_recording:read", None),
        ("get", "/s-mid/", "session_recording:read", None),
        ("get", "/s-mid/snapshots/", "session_recording:read", None),
        ("patch", "/s-mid/", "session_recording:write", {"viewed": True}),
        ("delete", "/s-mid/", "session_recording:write", None),
    ],
)
def test_auth_matrix(recordings, other_project, method, suffix, scope, data):
    assert_auth_matrix(recordings, other_project, method, f"{_base(recordings)}{suffix}", scope=scope, data=data)


def test_bulk_operations(recordings):
    api, base = recordings.client(), _base(recordings)
    exists = api.post(f"{base}/batch_check_exists/", {"session_ids": ["s-mid", "nope"]}, format="json")
    assert exists.json() == {"results": {"s-mid": True, "nope": False}}
    viewed = api.post(f"{base}/bulk_viewed/", {"session_recording_ids": ["s-mid", "s-short"]}, format="json")
    assert viewed.json() == {"success": True, "total_requested": 2}
    assert {r["id"]: r["viewed"] for r in api.get(f"{base}/").json()["results"]} == {
        "s-mid": True, "s-long": False, "s-short": True,
    }  # fmt: skip
    api.post(f"{base}/bulk_not_viewed/", {"session_recording_ids": ["s-mid"]}, format="json")
    assert api.get(f"{base}/s-mid/").json()["viewed"] is False
    too_many = api.post(f"{base}/bulk_viewed/", {"session_recording_ids": [str(i) for i in range(21)]}, format="json")
    assert too_many.status_code == 400
    deleted = api.post(f"{base}/bulk_delete/", {"session_recording_ids": ["s-mid", "gone"]}, format="json")
    assert deleted.json() == {"success": True, "deleted_count": 1, "total_requested": 2, "failed_ids": ["gone"]}
    assert sorted(_ids(api.get(f"{base}/"))) == ["s-long", "s-short"]


@pytest.mark.parametrize(
    ("suffix", "scope", "data"),
    [
        ("/bulk_delete/", "session_recording:write", {"session_recording_ids": ["s-mid"]}),
        ("/bulk_viewed/", "session_recording:write", {"session_recording_ids": ["s-mid"]}),
        ("/batch_check_exists/", "session_recording:read", {"session_ids": ["s-mid"]}),
    ],
)
def test_bulk_auth_matrix(recordings, other_project, suffix, scope, data):
    assert_auth_matrix(recordings, other_project, "post", f"{_base(recordings)}{suffix}", scope=scope, data=data)
