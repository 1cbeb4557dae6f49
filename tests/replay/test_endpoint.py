"""`/s/` (replay reference §1.3–§1.4, issue 27 acceptance 2): the payload shapes and encodings posthog-js
sends are queued as one `$snapshot_items` message per session window; bad snapshot payloads are 400s with
PostHog's error body and leave the queue as it was."""

from __future__ import annotations

import base64
import gzip

import orjson
import pytest
from django.test import Client

from tests.capture.helpers import ENCODINGS, Encoded, send
from tests.replay.vector import SESSION, WINDOW, events, snapshot_event

pytestmark = pytest.mark.django_db

ENCODING_NAMES = [
    "json",
    "text_plain",
    "gzip_js_query_hint",  # JS-1.250 / JS-1.300
    "gzip_magic_no_hint",  # JS-HEAD
    "gzip_content_encoding",
    "base64_body",
    "form_base64",  # the fallback without gzip
    "form_base64_unescaped_plus",
    "form_lz64",
    "lz4_content_encoding",
]


@pytest.fixture
def client() -> Client:
    return Client(REMOTE_ADDR="127.0.0.1", HTTP_USER_AGENT="Mozilla/5.0")


def _items(envelope):
    return orjson.loads(envelope.data)["properties"]


@pytest.mark.parametrize("encoding", ENCODING_NAMES)
def test_encodings(client, queue, team, encoding):
    body = orjson.dumps([snapshot_event(events(), token=team.api_token)])
    response = send(client, "/s/", ENCODINGS[encoding](body))
    assert response.status_code == 200, response.content
    assert response.json() == {"status": 1}
    [envelope] = queue.all_events()
    assert envelope.event == "$snapshot_items" and envelope.team_id == team.pk
    properties = _items(envelope)
    assert properties["$session_id"] == SESSION and properties["$window_id"] == WINDOW
    assert properties["$snapshot_items"] == events()
    assert properties["$snapshot_source"] == "web" and properties["$lib"] == "web"
    assert properties["distinct_id"] == "user-42" == envelope.distinct_id


def _shape_array(token):  # JS-1.300: a JSON array of $snapshot events
    return [snapshot_event(events()[:2], token=token), snapshot_event(events()[2:], token=token)]


def _shape_batch(token):  # JS-HEAD: {api_key, batch, sent_at}, each event with an ISO timestamp
    event = {**snapshot_event(events(), token=token), "timestamp": "2024-07-03T09:46:40.000Z"}
    return {"api_key": token, "batch": [event], "sent_at": "2024-07-03T09:47:00.000Z"}


def _shape_single(token):
    return snapshot_event(events(), token=token)


def _shape_old_object(token):  # very old SDKs: $snapshot_data is one rrweb event per $snapshot event
    return [snapshot_event(item, token=token) for item in events()]  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [_shape_array, _shape_batch, _shape_single, _shape_old_object])
def test_payload_shapes_fold_into_one_message_per_window(client, queue, team, shape):
    response = send(client, "/s/", ENCODINGS["gzip_magic_no_hint"](orjson.dumps(shape(team.api_token))))
    assert response.status_code == 200, response.content
    [envelope] = queue.all_events()
    assert _items(envelope)["$snapshot_items"] == events()


def test_windows_are_separate_messages_and_window_defaults_to_session(client, queue, team):
    other = snapshot_event(events()[:1], window="0190b2d4-5f2d-7000-9d1e-00000000ffff", token=team.api_token)
    no_window = snapshot_event(events()[1:2], session="legacy-session-1", window=None, token=team.api_token)
    mobile = snapshot_event(events()[2:3], token=team.api_token)
    mobile["properties"].update({"$snapshot_source": "mobile", "$lib": "posthog-ios"})
    response = send(client, "/s/", ENCODINGS["json"](orjson.dumps([other, no_window, mobile])))
    assert response.status_code == 200, response.content
    by_window = {_items(e)["$window_id"]: _items(e) for e in queue.all_events()}
    assert set(by_window) == {"0190b2d4-5f2d-7000-9d1e-00000000ffff", "legacy-session-1", WINDOW}
    assert by_window["legacy-session-1"]["$session_id"] == "legacy-session-1"
    assert by_window[WINDOW]["$snapshot_source"] == "mobile" and by_window[WINDOW]["$lib"] == "posthog-ios"


def test_lib_falls_back_to_a_posthog_user_agent(queue, team):
    event = snapshot_event(events(), token=team.api_token)
    del event["properties"]["$lib"]
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_USER_AGENT="posthog-android/3.1.0")
    assert send(client, "/s/", ENCODINGS["json"](orjson.dumps([event]))).status_code == 200
    assert _items(queue.all_events()[0])["$lib"] == "posthog-android"


def test_non_snapshot_events_are_ignored_and_trailing_slash_optional(client, queue, team):
    body = [{"event": "$pageview", "distinct_id": "u", "api_key": team.api_token}, _shape_single(team.api_token)]
    response = client.generic("POST", "/s", orjson.dumps(body), content_type="application/json")
    assert response.status_code == 200
    assert [e.event for e in queue.all_events()] == ["$snapshot_items"]


def _with(team, **properties):
    event = snapshot_event(events(), token=team.api_token)
    for key, value in properties.items():
        if value is _DROP:
            event["properties"].pop(key)
        else:
            event["properties"][key] = value
    return [event]


_DROP = object()
BAD = [
    ("no session id", {"$session_id": _DROP}, '$snapshot events must have a string "$session_id"'),
    ("numeric session id", {"$session_id": 42}, '$snapshot events must have a string "$session_id"'),
    ("session id of 71 chars", {"$session_id": "a" * 71}, '"$session_id" is longer than 70 characters'),
    ("session id with a slash", {"$session_id": "abc/def"}, '"$session_id" may hold only ASCII letters'),
    ("no snapshot data", {"$snapshot_data": _DROP}, '$snapshot events must contain property "$snapshot_data"!'),
    ("snapshot data a string", {"$snapshot_data": "nope"}, '"$snapshot_data" must be an array or an object'),
    ("snapshot data null", {"$snapshot_data": None}, '"$snapshot_data" must be an array or an object'),
]


@pytest.mark.parametrize(("case", "properties", "detail"), BAD, ids=[c[0] for c in BAD])
def test_bad_snapshot_payloads_are_400_and_queue_untouched(client, queue, team, case, properties, detail):
    good = send(client, "/s/", ENCODINGS["json"](orjson.dumps(_with(team))))
    assert good.status_code == 200
    before = queue.all_events()
    response = send(client, "/s/", ENCODINGS["gzip_js_query_hint"](orjson.dumps(_with(team, **properties))))
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["type"], body["code"], body["attr"]) == ("validation_error", "invalid_payload", None)
    assert detail in body["detail"]
    assert queue.all_events() == before


@pytest.mark.parametrize(
    ("encoded", "status", "code"),
    [
        (Encoded("POST", "compression=gzip-js", gzip.compress(b"[1,2")[:-6], "text/plain"), 400, None),
        (Encoded("POST", body=b"{not json"), 400, None),
        (Encoded("POST", body=base64.b64encode(b"[]"), content_type="text/plain"), 400, None),
        (Encoded("POST", body=orjson.dumps([{"event": "$pageview", "distinct_id": "u"}])), None, None),
        (Encoded("POST", body=orjson.dumps([snapshot_event(events(), token="phc_nobody")])), 401, "invalid_token"),
    ],
    ids=["truncated gzip", "bad json", "empty array", "no snapshot events and no token", "unknown token"],
)
def test_bad_requests_are_4xx_and_queue_untouched(client, queue, team, encoded, status, code):
    response = send(client, "/s/", encoded)
    assert 400 <= response.status_code < 500, response.content
    if status:
        assert response.status_code == status
    if code:
        assert response.json()["code"] == code
    assert set(response.json()) == {"type", "code", "detail", "attr"}
    assert queue.all_events() == []


def test_a_request_without_snapshot_events_is_400(client, queue, team):
    body = [{"event": "$pageview", "distinct_id": "u", "api_key": team.api_token}]
    response = send(client, "/s/", ENCODINGS["json"](orjson.dumps(body)))
    assert response.status_code == 400
    assert response.json()["detail"] == 'Invalid payload: no "$snapshot" events in the request'
    assert queue.all_events() == []
