"""Session recording playlists (replay reference §1.7): create rules, short_id lookup, soft delete, a
collection's recordings, isolation and the auth matrix."""

from __future__ import annotations

import pytest

from ingestion.worker import flush
from tests.auth_matrix import assert_auth_matrix
from tests.replay.helpers import now_ms, post_snapshots, session_events, snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def _base(project, environments=True):
    return f"/api/{'environments' if environments else 'projects'}/{project.team.pk}/session_recording_playlists"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"type": "collection", "filters": {"date_from": "-3d"}},
        {"type": "filters"},
        {"type": "filters", "filters": {}},
    ],
)
def test_create_needs_a_valid_type(project, body):
    response = project.client().post(f"{_base(project)}/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == "Must provide a valid playlist type: either filters or collection"


def test_crud_and_soft_delete(project, other_project):
    api, base = project.client(), _base(project)
    created = api.post(f"{base}/", {"name": "Checkout", "type": "collection"}, format="json")
    assert created.status_code == 201, created.content
    playlist = created.json()
    assert playlist["type"] == "collection" and len(playlist["short_id"]) == 8
    assert playlist["recordings_counts"] == {"saved_filters": {}, "collection": {"count": None, "watched_count": 0}}
    assert playlist["created_by"]["email"] == project.user.email
    short = playlist["short_id"]
    assert api.get(f"{_base(project, False)}/{short}/").json()["name"] == "Checkout"
    assert api.patch(f"{base}/{short}/", {"pinned": True}, format="json").json()["pinned"] is True
    listing = api.get(f"{base}/").json()
    assert listing["count"] == 1 and listing["results"][0]["short_id"] == short
    assert api.delete(f"{base}/{short}/").status_code == 405
    assert api.patch(f"{base}/{short}/", {"deleted": True}, format="json").status_code == 200
    assert api.get(f"{base}/{short}/").status_code == 404
    assert api.get(f"{base}/").json()["count"] == 0
    assert other_project.client().get(f"{_base(other_project)}/{short}/").status_code == 404


@pytest.mark.clickhouse
def test_collection_recordings(project):
    token, start = project.team.api_token, now_ms() - 60_000
    post_snapshots([snapshot(token, "pinned-1", session_events(start, seconds=5)),
                    snapshot(token, "other-1", session_events(start, seconds=5))])  # fmt: skip
    flush()
    api, base = project.client(), _base(project)
    short = api.post(f"{base}/", {"type": "collection"}, format="json").json()["short_id"]
    assert api.post(f"{base}/{short}/recordings/pinned-1/").json() == {"success": True}
    bulk = api.post(f"{base}/{short}/recordings/bulk_add/", {"session_recording_ids": ["pinned-1", "x"]}, format="json")
    assert bulk.json() == {"success": True, "added_count": 1, "total_requested": 2}
    recordings = api.get(f"{base}/{short}/recordings/").json()
    assert [r["id"] for r in recordings["results"]] == ["pinned-1"] and recordings["has_next"] is False
    assert api.get(f"{base}/{short}/").json()["recordings_counts"]["collection"]["count"] == 2
    assert api.delete(f"{base}/{short}/recordings/pinned-1/").json() == {"success": True}
    assert api.get(f"{base}/{short}/recordings/").json()["results"] == []

    filtered = api.post(f"{base}/", {"filters": {"session_ids": ["other-1"], "date_from": "-1d"}}, format="json")
    assert filtered.json()["type"] == "filters"
    fshort = filtered.json()["short_id"]
    assert [r["id"] for r in api.get(f"{base}/{fshort}/recordings/").json()["results"]] == ["other-1"]
    refused = api.post(f"{base}/{fshort}/recordings/other-1/")
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("method", "suffix", "scope", "data"),
    [
        ("get", "/", "session_recording_playlist:read", None),
        ("post", "/", "session_recording_playlist:write", {"type": "collection"}),
        ("get", "/{short}/", "session_recording_playlist:read", None),
        ("patch", "/{short}/", "session_recording_playlist:write", {"name": "x"}),
        ("post", "/{short}/recordings/s1/", "session_recording_playlist:write", None),
    ],
)
def test_auth_matrix(project, other_project, method, suffix, scope, data):
    short = project.client().post(f"{_base(project)}/", {"type": "collection"}, format="json").json()["short_id"]
    url = f"{_base(project)}{suffix.format(short=short)}"
    assert_auth_matrix(project, other_project, method, url, scope=scope, data=data)
