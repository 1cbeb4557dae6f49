"""The console's Recordings pages through Django's test client, with recordings made through the real path
(`/s/` as posthog-js posts it, the queue, the replay ingestion): the list with its counts, newest first and
paged; the player page; the snapshots endpoint (all windows' blocks, in time order, compressed events unpacked,
the same events as the API's `snapshots`); project scoping and the session guard."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.test import Client
from django.urls import reverse

from console import recordings_selectors
from console.recordings_views import PLAYER_CONTENT_SECURITY_POLICY
from console.security import CONTENT_SECURITY_POLICY
from ingestion.worker import flush
from persons.models import Person, PersonDistinctId
from posthog_clone.sdk.tokens import token_cache_clear
from tests.replay.helpers import now_ms, post_snapshots, session_events, snapshot

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _replay_storage(settings, tmp_path: Path) -> Iterator[None]:
    settings.REPLAY_STORAGE_URL = f"file://{tmp_path / 'replay'}"
    token_cache_clear()
    yield
    token_cache_clear()


def typed(start: int, count: int) -> list[dict[str, Any]]:
    """`count` input events (each one keypress to the replay counts), 100 ms apart from `start`."""
    return [{"type": 3, "data": {"source": 5, "text": "x" * (i + 1), "isChecked": False, "id": 1},
             "timestamp": start + 100 * (i + 1)} for i in range(count)]  # fmt: skip


def record(project, session: str, items: list, **kwargs: Any) -> None:
    response = post_snapshots([snapshot(project.team.api_token, session, items, **kwargs)])
    assert response.status_code == 200, response.content


def packed(value: Any) -> str:
    """posthog-js's per-event compression of one field: gzip output as a one-char-per-byte string."""
    return gzip.compress(orjson.dumps(value)).decode("latin-1")


@pytest.fixture
def recordings(project):
    """s-old (10 s, 1 click, 3 keys, user-1) starts an hour ago; s-new (40 s, 4 clicks, 0 keys, user-2 = Ada's
    person) ten minutes later, on https://b.io/x."""
    start = now_ms() - 3_600_000
    record(project, "s-old", sorted(session_events(start, seconds=10, clicks=1) + typed(start, 3),
                                    key=lambda item: item["timestamp"]))  # fmt: skip
    record(project, "s-new", session_events(start + 600_000, seconds=40, clicks=4, url="https://b.io/x"),
           distinct_id="user-2")  # fmt: skip
    flush()
    person = Person.objects.create(
        team=project.team, properties={"email": "ada@example.com"}, created_at="2024-01-01T00:00Z"
    )
    PersonDistinctId.objects.create(team=project.team, person=person, distinct_id="user-2")
    return project


def _rows(html: str) -> list[dict[str, str]]:
    rows = []
    for match in re.finditer(r'<tr id="rec-\d+" data-session-id="([^"]+)">(.*?)</tr>', html, re.S):
        cells = dict(re.findall(r'<td class="(\w+)">(.*?)</td>', match.group(2), re.S))
        rows.append({"id": match.group(1), **{k: re.sub(r"<[^>]+>", "", v).strip() for k, v in cells.items()}})
    return rows


def test_the_list_shows_each_recording_with_its_counts_newest_first(recordings, signed_in) -> None:
    response = signed_in.get(reverse("console:recordings", args=[recordings.team.pk]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.content.decode()
    assert 'aria-current="page">Recordings</a>' in html
    assert _rows(html) == [
        {"id": "s-new", "duration": "0:40", "person": "ada@example.com user-2", "clicks": "4", "keys": "0",
         "url": "https://b.io/x"},
        {"id": "s-old", "duration": "0:10", "person": "user-1", "clicks": "1", "keys": "3", "url": "https://a.io/"},
    ]  # fmt: skip
    assert f'href="/console/project/{recordings.team.pk}/recordings/s-new/"' in html
    api = recordings.client().get(f"/api/projects/{recordings.team.pk}/session_recordings/").json()["results"]
    assert [r["id"] for r in api] == ["s-new", "s-old"]  # the same list as the API's
    assert [(r["click_count"], r["keypress_count"], r["recording_duration"]) for r in api] == [(4, 0, 40), (1, 3, 10)]


def test_the_list_pages_and_keeps_to_its_range(recordings, signed_in, monkeypatch) -> None:
    monkeypatch.setattr(recordings_selectors, "PAGE_SIZE", 1)
    url = reverse("console:recordings", args=[recordings.team.pk])
    first = signed_in.get(url).content.decode()
    assert [r["id"] for r in _rows(first)] == ["s-new"]
    assert 'rel="next" href="?since=-3d&amp;offset=1"' in first and 'rel="prev"' not in first
    second = signed_in.get(url, {"since": "-3d", "offset": "1"}).content.decode()
    assert [r["id"] for r in _rows(second)] == ["s-old"]
    assert 'rel="prev" href="?since=-3d&amp;offset=0"' in second and 'rel="next"' not in second
    assert _rows(signed_in.get(url, {"offset": "nonsense", "since": "evil"}).content.decode())[0]["id"] == "s-new"
    # a recording that started 5 days ago is outside the default 3 days, inside the last 7
    record(recordings, "s-5d", session_events(now_ms() - 5 * 86_400_000, seconds=5))
    flush()
    monkeypatch.setattr(recordings_selectors, "PAGE_SIZE", 50)
    assert "s-5d" not in [r["id"] for r in _rows(signed_in.get(url).content.decode())]
    assert [r["id"] for r in _rows(signed_in.get(url, {"since": "-7d"}).content.decode())] == ["s-new", "s-old",
                                                                                                "s-5d"]  # fmt: skip


def test_an_empty_project_says_so(project, signed_in) -> None:
    response = signed_in.get(reverse("console:recordings", args=[project.team.pk]))
    assert response.status_code == 200 and b"No recordings started in this range" in response.content


def test_the_player_page_loads_the_player_from_static_files_only(recordings, signed_in) -> None:
    response = signed_in.get(reverse("console:recording", args=[recordings.team.pk, "s-new"]))
    assert response.status_code == 200
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert (
        csp
        == PLAYER_CONTENT_SECURITY_POLICY
        == CONTENT_SECURITY_POLICY.replace("style-src 'self';", "style-src 'self' 'unsafe-inline';")
    )  # only inline styles more than the other pages: scripts are still files of ours only
    assert "script-src 'self';" in csp and "unsafe" not in csp.replace("style-src 'self' 'unsafe-inline';", "")
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts[-2:] == ['<script src="/static/console/vendor/rrweb-player.min.js" defer>',
                            '<script src="/static/console/recordings.js" defer>']  # fmt: skip
    assert all("src=" in tag for tag in scripts)
    assert re.findall(r"\son[a-z]+\s*=", html) == [] and re.findall(r"\sstyle\s*=", html) == []
    assert f'data-snapshots-url="/console/project/{recordings.team.pk}/recordings/s-new/snapshots/"' in html
    assert "ada@example.com (user-2)" in html and "0:40" in html and "https://b.io/x" in html


def test_the_snapshots_are_every_windows_events_in_time_order_unpacked(project, signed_in) -> None:
    start = now_ms() - 600_000
    meta = {"type": 4, "data": {"href": "https://a.io/", "width": 800, "height": 600}, "timestamp": start}
    full = {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": []}, "initialOffset": {"left": 0, "top": 0}},
            "timestamp": start + 1}  # fmt: skip
    mutation = {"type": 3, "data": {"source": 0, "texts": [{"id": 1, "value": "hi"}], "attributes": [], "removes": [],
                "adds": []}, "timestamp": start + 3000}  # fmt: skip
    click = {"type": 3, "data": {"source": 2, "type": 2, "id": 1, "x": 1, "y": 1}, "timestamp": start + 2000}
    other_window = {"type": 3, "data": {"source": 3, "id": 1, "x": 0, "y": 9}, "timestamp": start + 2500}
    compressed_full = {**full, "cv": "2024-10", "data": packed(full["data"])}
    lists = {k: packed(mutation["data"][k]) for k in ("texts", "attributes", "removes", "adds")}
    compressed_mutation = {**mutation, "cv": "2024-10", "data": {**mutation["data"], **lists}}
    record(project, "s-1", [meta, compressed_full, click])
    record(project, "s-1", [other_window], window="w2")
    record(project, "s-1", [compressed_mutation])  # a later message: a block of its own
    flush()

    response = signed_in.get(reverse("console:recording-snapshots", args=[project.team.pk, "s-1"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["session_id"] == "s-1"
    assert body["snapshots"] == [["w1", meta], ["w1", full], ["w1", click], ["w2", other_window], ["w1", mutation]]

    # the same lines as the API's snapshots endpoint (every source, then unpacked and put in time order)
    api, base = project.client(), f"/api/projects/{project.team.pk}/session_recordings/s-1/snapshots/"
    sources = api.get(base).json()["sources"]
    lines = api.get(base, {"source": "blob_v2", "start_blob_key": 0, "end_blob_key": len(sources) - 1}).content
    from_api = [orjson.loads(line) for line in lines.split(b"\n")]
    unpacked = [[w, recordings_selectors.decompressed(e)] for w, e in from_api]
    assert sorted(unpacked, key=lambda line: line[1]["timestamp"]) == body["snapshots"]


def test_another_organizations_recording_is_not_found(recordings, other_project, signed_in, other_signed_in) -> None:
    theirs = now_ms() - 60_000
    record(other_project, "s-theirs", session_events(theirs, seconds=5))
    flush()
    mine = recordings.team.pk
    # their session through my project: not in the list, not a page, no snapshots
    assert "s-theirs" not in signed_in.get(reverse("console:recordings", args=[mine])).content.decode()
    assert signed_in.get(reverse("console:recording", args=[mine, "s-theirs"])).status_code == 404
    assert signed_in.get(reverse("console:recording-snapshots", args=[mine, "s-theirs"])).status_code == 404
    # my project through their session: 404 everywhere, nothing of mine in the answer
    pages = (("recordings", [mine]), ("recording", [mine, "s-new"]), ("recording-snapshots", [mine, "s-new"]))
    for name, args in pages:
        response = other_signed_in.get(reverse(f"console:{name}", args=args))
        assert response.status_code == 404, name
        assert b"s-new" not in response.content and b"user-2" not in response.content
    # and their own project shows theirs only
    listed = other_signed_in.get(reverse("console:recordings", args=[other_project.team.pk])).content.decode()
    assert [r["id"] for r in _rows(listed)] == ["s-theirs"]


def test_without_a_session_pages_redirect_and_the_endpoint_answers_401(recordings) -> None:
    client, mine = Client(), recordings.team.pk
    for name, args in (("recordings", [mine]), ("recording", [mine, "s-new"])):
        response = client.get(reverse(f"console:{name}", args=args))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("console:login") + "?next=")
    response = client.get(reverse("console:recording-snapshots", args=[mine, "s-new"]))
    assert response.status_code == 401 and b"s-new" not in response.content


def test_unreadable_blocks_are_a_502(recordings, signed_in, settings, tmp_path) -> None:
    import shutil

    shutil.rmtree(tmp_path / "replay")
    response = signed_in.get(reverse("console:recording-snapshots", args=[recordings.team.pk, "s-new"]))
    assert response.status_code == 502 and "could not be read" in response.json()["error"]
