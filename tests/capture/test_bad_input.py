"""Bad input never yields a 5xx: each case gets its documented 4xx and leaves the queue unchanged (acceptance 3)."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

import pytest

from tests.capture.helpers import dumps

pytestmark = pytest.mark.django_db

BAD_PAYLOAD = (400, "validation_error", "invalid_payload")
TOO_LARGE = (413, "client_error", "request_too_large")


def _gzip_bomb(size: int) -> bytes:
    """`size` zero bytes, gzipped in chunks (about 1/1000 of the size)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1 << 20)
    parts = [compressor.compress(chunk) for _ in range(size >> 20)]
    return b"".join([*parts, compressor.flush()])


@pytest.fixture
def good_event(team):
    return {"api_key": team.api_token, "event": "e", "distinct_id": "d"}


@pytest.fixture
def primed_queue(capture_client, queue, good_event):
    """One good event already queued: bad requests must leave exactly it."""
    response = capture_client.generic("POST", "/e/", dumps(good_event), content_type="application/json")
    assert response.status_code == 200
    before = queue.all_events()
    assert len(before) == 1
    return before


def _post(client, path, body, query="", content_type="text/plain", **headers):
    return client.generic("POST", f"{path}{query}", body, content_type=content_type, **headers)


def _check(response, expected, queue, before):
    assert response.status_code < 500
    body = response.json()
    assert (response.status_code, body["type"], body["code"]) == expected, body
    assert body["attr"] is None
    assert queue.all_events() == before


def test_truncated_gzip(capture_client, queue, primed_queue, good_event):
    body = gzip.compress(dumps(good_event))[:-10]
    _check(_post(capture_client, "/e/", body, "?compression=gzip-js"), BAD_PAYLOAD, queue, primed_queue)
    _check(_post(capture_client, "/batch/", body, HTTP_CONTENT_ENCODING="gzip"), BAD_PAYLOAD, queue, primed_queue)


def test_invalid_lz64(capture_client, queue, primed_queue):
    for body in (b"AAAAAAAA", b"not*lz64*at*all", b"\xff\xfe"):
        _check(_post(capture_client, "/e/", body, "?compression=lz64"), BAD_PAYLOAD, queue, primed_queue)
    form = b"data=%%%%&compression=lz64"
    response = _post(capture_client, "/e/", form, content_type="application/x-www-form-urlencoded")
    _check(response, BAD_PAYLOAD, queue, primed_queue)


def test_invalid_base64(capture_client, queue, primed_queue):
    for body in (b"!!!not base64!!!", b"QUJD*", b"a"):
        _check(_post(capture_client, "/e/", body, "?compression=base64"), BAD_PAYLOAD, queue, primed_queue)
    _check(capture_client.get("/e/?data=QUJD%21%21"), BAD_PAYLOAD, queue, primed_queue)


def test_base64_of_garbage(capture_client, queue, primed_queue):
    body = base64.b64encode(b"\x00\x01\x02 not json")
    _check(_post(capture_client, "/e/", body, "?compression=base64"), BAD_PAYLOAD, queue, primed_queue)


def test_non_utf8(capture_client, queue, primed_queue, team):
    body = b'{"api_key": "' + team.api_token.encode() + b'", "event": "\xff\xfe", "distinct_id": "d"}'
    _check(_post(capture_client, "/e/", body), BAD_PAYLOAD, queue, primed_queue)
    _check(_post(capture_client, "/e/", gzip.compress(body)), BAD_PAYLOAD, queue, primed_queue)
    response = _post(capture_client, "/e/", b"data=%FF%FE", content_type="application/x-www-form-urlencoded")
    _check(response, BAD_PAYLOAD, queue, primed_queue)


def test_lone_surrogate_escape(capture_client, queue, primed_queue, team):
    body = b'{"api_key": "' + team.api_token.encode() + b'", "event": "\\ud800", "distinct_id": "d"}'
    _check(_post(capture_client, "/e/", body), BAD_PAYLOAD, queue, primed_queue)


@pytest.mark.parametrize("shape", ["array", "object"])
def test_json_nested_10000_deep(capture_client, queue, primed_queue, shape):
    body = b"[" * 10_000 + b"]" * 10_000 if shape == "array" else b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    _check(_post(capture_client, "/batch/", body), BAD_PAYLOAD, queue, primed_queue)
    _check(_post(capture_client, "/batch/", gzip.compress(body)), BAD_PAYLOAD, queue, primed_queue)


def test_nesting_inside_a_valid_event(capture_client, queue, primed_queue, team):
    deep = b"[" * 5000 + b"]" * 5000
    body = b'{"api_key": "' + team.api_token.encode() + b'", "event": "e", "distinct_id": "d", "properties": {"x": '
    _check(_post(capture_client, "/e/", body + deep + b"}}"), BAD_PAYLOAD, queue, primed_queue)


@pytest.mark.parametrize("path", ["/batch/", "/e/", "/i/v0/e/"])
def test_30mb_body(capture_client, queue, primed_queue, path):
    _check(_post(capture_client, path, b"[" + b" " * (30 * 1024 * 1024) + b"]"), TOO_LARGE, queue, primed_queue)


def test_gzip_bomb_past_the_decompressed_limit(capture_client, queue, primed_queue, settings):
    bomb = _gzip_bomb(settings.CAPTURE_MAX_DECOMPRESSED_BYTES + (4 << 20))
    assert len(bomb) < settings.CAPTURE_MAX_BATCH_BODY_BYTES
    _check(_post(capture_client, "/batch/", bomb, HTTP_CONTENT_ENCODING="gzip"), TOO_LARGE, queue, primed_queue)


@pytest.mark.parametrize(
    "event, expected",
    [
        ({"event": 12}, BAD_PAYLOAD),
        ({"event": ["a"]}, BAD_PAYLOAD),
        ({"event": {"a": 1}}, BAD_PAYLOAD),
        ({"event": None}, BAD_PAYLOAD),
        ({"properties": []}, BAD_PAYLOAD),
        ({"properties": "x"}, BAD_PAYLOAD),
        ({"properties": 5}, BAD_PAYLOAD),
        ({"uuid": 5}, BAD_PAYLOAD),
        ({"uuid": ["x"]}, BAD_PAYLOAD),
        ({"uuid": "not-a-uuid"}, BAD_PAYLOAD),
        ({"offset": "5"}, BAD_PAYLOAD),
        ({"offset": 1.5}, BAD_PAYLOAD),
        ({"offset": True}, BAD_PAYLOAD),
        ({"offset": {"a": 1}}, BAD_PAYLOAD),
        ({"properties": {"offset": [1]}}, BAD_PAYLOAD),
        ({"distinct_id": None}, BAD_PAYLOAD),
        ({"token": {"a": 1}}, (401, "authentication_error", "not_string")),
        ({"token": ["phc"]}, (401, "authentication_error", "not_string")),
        ({"api_key": 12}, (401, "authentication_error", "not_string")),
        ({"$token": True}, (401, "authentication_error", "not_string")),
    ],
)
def test_wrong_type_in_an_event(capture_client, queue, primed_queue, good_event, event, expected):
    token = good_event["api_key"]
    second = {"event": "e", "distinct_id": "d", **event}
    if not {"token", "api_key", "$token"} & set(event):
        second["token"] = token
    body = [{"event": "ok", "distinct_id": "d", "token": token}, second]
    _check(_post(capture_client, "/batch/", dumps(body)), expected, queue, primed_queue)


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            {"api_key": {"a": 1}, "batch": [{"event": "e", "distinct_id": "d"}]},
            (401, "authentication_error", "not_string"),
        ),
        (
            {"api_key": None, "batch": [{"event": "e", "distinct_id": "d"}]},
            (401, "authentication_error", "missing_api_key"),
        ),
        ({"batch": "nope"}, BAD_PAYLOAD),
        ({"batch": {"event": "e"}}, BAD_PAYLOAD),
        ({"batch": 5}, BAD_PAYLOAD),
        ({"batch": [5]}, BAD_PAYLOAD),
        ({"batch": [[]]}, BAD_PAYLOAD),
        ({"batch": [{"event": "e", "distinct_id": "d"}], "sent_at": 5.5}, BAD_PAYLOAD),
        ({"batch": [{"event": "e", "distinct_id": "d"}], "sent_at": "tomorrow"}, BAD_PAYLOAD),
        ({"batch": [{"event": "e", "distinct_id": "d"}], "sent_at": ["x"]}, BAD_PAYLOAD),
        ({"data": 5}, BAD_PAYLOAD),
        ({"data": "not json"}, BAD_PAYLOAD),
    ],
)
def test_wrong_type_at_the_request_level(capture_client, queue, primed_queue, team, body, expected):
    if "api_key" not in body:
        body = {**body, "api_key": team.api_token}
    _check(_post(capture_client, "/batch/", dumps(body)), expected, queue, primed_queue)


@pytest.mark.parametrize("body", [b"5", b'"string"', b"null", b"true", b"[null]", b"[1]"])
def test_json_that_is_not_an_event(capture_client, queue, primed_queue, body):
    response = _post(capture_client, "/e/", body)
    assert 400 <= response.status_code < 500
    assert queue.all_events() == primed_queue


def test_other_methods_are_405(capture_client, queue, primed_queue):
    response = capture_client.put("/e/", b"{}", content_type="application/json")
    assert response.status_code == 405
    assert queue.all_events() == primed_queue


@pytest.mark.parametrize(
    "fragment, status",
    [
        (b'"distinct_id": 123456789012345678901234567890', 200),  # stored as its JSON text
        (b'"distinct_id": "d", "properties": {"n": 123456789012345678901234567890}', 200),  # a float, as in JS
        (b'"distinct_id": "d", "properties": {"n": 1e400}', 200),  # infinity: stored as null
        (b'"distinct_id": "d", "properties": {"n": 123456789012345678901234567890, "m": NaN}', 200),
        (b'"distinct_id": "d", "timestamp": "9999-12-31T23:59:59-14:00"', 200),  # out of range: now
        (b'"distinct_id": "d", "offset": 1000000000000000', 200),
        (b'"distinct_id": "d", "offset": 10000000000000000', 400),  # more than 31,000 years
        (b'"distinct_id": "d", "timestamp": 1e300', 200),
    ],
)
def test_extreme_numbers_and_dates(capture_client, queue, primed_queue, team, fragment, status):
    body = b'{"api_key": "' + team.api_token.encode() + b'", "event": "x", ' + fragment + b"}"
    response = _post(capture_client, "/e/", body)
    assert response.status_code == status, response.content
    assert len(queue.all_events()) == len(primed_queue) + (status == 200)


@pytest.mark.parametrize(
    "field, value",
    [("timestamp", {"a": 1}), ("timestamp", [1]), ("timestamp", True), ("$set", "x"), ("$set_once", 5)],
)
def test_fields_documented_as_tolerant_are_kept_or_ignored(capture_client, queue, primed_queue, team, field, value):
    """The reference: an unparseable timestamp means "now" (ingestion warns); `$set` is passed through."""
    body = {"api_key": team.api_token, "event": "x", "distinct_id": "d", field: value}
    response = _post(capture_client, "/e/", dumps(body))
    assert response.status_code == 200
    envelope = queue.all_events()[-1]
    if field == "timestamp":
        assert envelope.timestamp == envelope.now
    assert json.loads(envelope.data)[field] == value


def test_non_boolean_historical_migration_is_false(capture_client, queue, primed_queue, team):
    body = {"api_key": team.api_token, "historical_migration": "yes", "batch": [{"event": "x", "distinct_id": "d"}]}
    assert _post(capture_client, "/batch/", dumps(body)).status_code == 200
    assert queue.all_events()[-1].historical_migration is False
