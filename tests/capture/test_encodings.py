"""Every encoding × body shape × path decodes to the same envelopes (acceptance 1, second half)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson
import pytest

from capture.parsing import iso
from tests.capture.helpers import ENCODINGS, dumps, send

UUIDS = ["01823e89-f75d-0000-0d4d-3d43e54f6de5", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"]
# A value whose base64 holds `+` and `/` (exercises the form space-to-plus repair) and non-ASCII text.
TRICKY = "a>>>b???c ü 中 😀"
TIMESTAMP = "2024-05-01T10:00:00.000Z"


def _events(token: str, *, with_token: bool) -> list[dict[str, Any]]:
    events = []
    for i, event_uuid in enumerate(UUIDS):
        properties: dict[str, Any] = {"distinct_id": f"user-{i}", "tricky": TRICKY, "n": i, "$lib": "test"}
        if with_token:
            properties["token"] = token
        events.append({"event": f"ev{i}", "uuid": event_uuid, "timestamp": TIMESTAMP, "properties": properties})
    return events


def _shapes(token: str) -> dict[str, tuple[Any, int]]:
    """shape name → (JSON body, number of events it holds)."""
    events = _events(token, with_token=False)
    tokened = _events(token, with_token=True)
    return {
        "single_event": ({**events[0], "api_key": token}, 1),
        "single_event_token_in_properties": (tokened[0], 1),
        "array": (tokened, 2),
        "batch_api_key": ({"api_key": token, "batch": events}, 2),
        "batch_token_key": ({"token": token, "batch": events}, 2),
        "data_object": ({"api_key": token, "data": events}, 2),
        "data_object_base64_text": ({"api_key": token, "data": base64.b64encode(dumps(events)).decode()}, 2),
    }


def _expected_data(index: int, with_token: bool, token: str) -> dict[str, Any]:
    event = _events(token, with_token=with_token)[index]
    return {
        "event": event["event"],
        "distinct_id": f"user-{index}",
        "properties": event["properties"],
        "uuid": UUIDS[index],
        "timestamp": TIMESTAMP,
    }


def test_tricky_value_exercises_base64_plus_and_slash():
    encoded = base64.b64encode(dumps(_events("phc_x", with_token=True))).decode()
    assert "+" in encoded and "/" in encoded


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/e/", "/batch/"])
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize(
    "shape",
    [
        "single_event",
        "single_event_token_in_properties",
        "array",
        "batch_api_key",
        "batch_token_key",
        "data_object",
        "data_object_base64_text",
    ],
)
def test_every_encoding_and_shape_gives_the_same_envelopes(capture_client, queue, team, path, encoding, shape):
    body, count = _shapes(team.api_token)[shape]
    response = send(capture_client, path, ENCODINGS[encoding](dumps(body)))
    assert response.status_code == 200, response.content
    assert response.json() == {"status": 1}
    envelopes = queue.all_events()
    assert len(envelopes) == count
    with_token = shape in ("array", "single_event_token_in_properties")
    for index, envelope in enumerate(envelopes):
        assert envelope.uuid == UUIDS[index]
        assert envelope.distinct_id == f"user-{index}"
        assert envelope.event == f"ev{index}"
        assert envelope.token == team.api_token
        assert envelope.team_id == team.pk
        assert envelope.ip == "127.0.0.1"
        assert envelope.sent_at is None
        assert envelope.timestamp == TIMESTAMP  # no sent_at: the client's timestamp as is
        assert envelope.historical_migration is False
        assert datetime.fromisoformat(envelope.now) is not None
        assert orjson.loads(envelope.data) == _expected_data(index, with_token, team.api_token)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/e", "/e/", "/i/v0/e", "/i/v0/e/", "/capture", "/capture/", "/track", "/track/", "/batch", "/batch/"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_path_accepts_get_and_post(capture_client, queue, team, path, method):
    body = dumps({"api_key": team.api_token, "event": "hit", "distinct_id": "d1"})
    encoded = ENCODINGS["get_json" if method == "GET" else "json"](body)
    response = send(capture_client, path, encoded)
    assert response.status_code == 200, response.content
    [envelope] = queue.all_events()
    assert (envelope.event, envelope.distinct_id, envelope.team_id) == ("hit", "d1", team.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/engage", "/engage/"])
@pytest.mark.parametrize("encoding", ["json", "get_json", "form_base64", "gzip_magic_no_hint"])
def test_engage_body_becomes_identify(capture_client, queue, team, path, encoding):
    body = dumps({"$set": {"plan": "pro"}, "$token": team.api_token, "$distinct_id": 3})
    response = send(capture_client, path, ENCODINGS[encoding](body))
    assert response.status_code == 200, response.content
    [envelope] = queue.all_events()
    assert (envelope.event, envelope.distinct_id) == ("$identify", "3")
    assert orjson.loads(envelope.data)["$set"] == {"plan": "pro"}


@pytest.mark.django_db
def test_batch_sent_at_shifts_timestamps_by_the_client_clock_skew(capture_client, queue, team):
    body = {
        "api_key": team.api_token,
        "sent_at": "2024-05-01T10:00:10.000Z",
        "historical_migration": True,
        "batch": _events(team.api_token, with_token=False),
    }
    response = send(capture_client, "/batch/", ENCODINGS["gzip_content_encoding"](dumps(body)))
    assert response.status_code == 200
    for envelope in queue.all_events():
        now = datetime.fromisoformat(envelope.now)
        assert envelope.sent_at == "2024-05-01T10:00:10.000Z"
        assert envelope.timestamp == iso(now.replace(microsecond=now.microsecond // 1000 * 1000) - _ten_seconds())
        assert envelope.historical_migration is True


def _ten_seconds():
    from datetime import timedelta

    return timedelta(seconds=10)
