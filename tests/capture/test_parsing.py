"""capture.parsing, table-driven: timestamps (vectors 23–24), sent_at sources, token shapes, body shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from capture.parsing import (
    capture_events_build,
    iso,
    parse_timestamp,
    request_shape_read,
    sent_at_resolve,
    timestamp_resolve,
    token_validate,
)
from posthog_clone.sdk.errors import SDKError

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    "event, sent_at, expected",
    [
        ({"timestamp": "2024-05-01T11:00:00Z"}, "2024-05-01T12:00:10Z", "2024-05-01T10:59:50.000Z"),
        ({"timestamp": "2024-05-01T11:00:00Z"}, "2024-05-01T11:59:50Z", "2024-05-01T11:00:10.000Z"),
        (
            {"timestamp": "2024-05-01T11:00:00Z", "properties": {"$ignore_sent_at": True}},
            "2024-05-01T12:00:10Z",
            "2024-05-01T11:00:00.000Z",
        ),
        ({}, None, "2024-05-01T12:00:00.000Z"),
        ({}, "2024-05-01T12:00:10Z", "2024-05-01T12:00:00.000Z"),
        ({"offset": 5000}, None, "2024-05-01T11:59:55.000Z"),
        ({"offset": 5000, "timestamp": "2020-01-01T00:00:00Z"}, None, "2024-05-01T11:59:55.000Z"),
        ({"timestamp": "2024-05-01T11:00:00Z"}, None, "2024-05-01T11:00:00.000Z"),
        ({"timestamp": "2024-05-02T10:59:00Z"}, None, "2024-05-02T10:59:00.000Z"),  # 22h59 ahead: kept
        ({"timestamp": "2024-05-02T11:01:00Z"}, None, "2024-05-01T12:00:00.000Z"),  # > 23 h ahead: now
        ({"timestamp": "not a date"}, None, "2024-05-01T12:00:00.000Z"),
        ({"timestamp": "2024-05-01T13:00:00+01"}, None, "2024-05-01T12:00:00.000Z"),
        ({"timestamp": "2024-05-01 11:00:00"}, None, "2024-05-01T11:00:00.000Z"),
        ({"timestamp": "2024-05-01"}, None, "2024-05-01T00:00:00.000Z"),
        ({"timestamp": "2024/05/01 11:00:00"}, None, "2024-05-01T11:00:00.000Z"),
        ({"timestamp": "Wed, 01 May 2024 11:00:00 GMT"}, None, "2024-05-01T11:00:00.000Z"),
        ({"timestamp": 1714561200}, None, "2024-05-01T11:00:00.000Z"),
        ({"timestamp": 1714561200000}, None, "2024-05-01T11:00:00.000Z"),
        ({"timestamp": "1714561200000"}, None, "2024-05-01T11:00:00.000Z"),
    ],
)
def test_v23_timestamp_resolution(event, sent_at, expected):
    resolved = timestamp_resolve(
        event=event,
        properties=event.get("properties", {}),
        now=NOW,
        sent_at=at(sent_at) if sent_at else None,
    )
    assert iso(resolved) == expected


@pytest.mark.parametrize(
    "body_sent_at, query, form, expected",
    [
        (None, {"_": "1704067200000"}, {}, "2024-01-01T00:00:00.000Z"),
        (None, {"_": "1704067200"}, {}, None),  # seconds: ignored
        (None, {"_": "abc"}, {}, None),
        (None, {"_": "²³"}, {}, None),  # Unicode digits are not a number
        (None, {"_": "9" * 5000}, {}, None),
        (None, {"sent_at": "1704067200000"}, {}, "2024-01-01T00:00:00.000Z"),
        ("2024-03-01T00:00:00Z", {"_": "1704067200000"}, {}, "2024-03-01T00:00:00.000Z"),  # body wins
        (None, {}, {"sent_at": "2024-02-01T00:00:00+00:00"}, "2024-02-01T00:00:00.000Z"),
        (None, {}, {}, None),
    ],
)
def test_v24_sent_at_sources(body_sent_at, query, form, expected):
    resolved = sent_at_resolve(body_sent_at=body_sent_at, query=query, form=form)
    assert (iso(resolved) if resolved else None) == expected


@pytest.mark.parametrize("bad", ["yesterday-ish", {"a": 1}, True])
def test_unparseable_body_sent_at_is_400(bad):
    with pytest.raises(SDKError) as caught:
        sent_at_resolve(body_sent_at=bad, query={}, form={})
    assert caught.value.status == 400
    assert caught.value.detail.startswith("Malformed request data, invalid sent at:")


@pytest.mark.parametrize(
    "event, sent_at",
    [
        ({"timestamp": "9999-12-31T23:59:59Z"}, "2000-01-01T00:00:00Z"),
        ({"timestamp": "0001-01-01T00:00:00Z"}, "9999-01-01T00:00:00Z"),
        ({"offset": 10**15}, None),
        ({"offset": -(10**15)}, None),
        ({"timestamp": "0001-01-01T00:00:00+14:00"}, None),
        ({"timestamp": "9999-12-31T23:59:59-14:00"}, None),
        ({"timestamp": 1e300}, None),
        ({"timestamp": -1e300}, None),
    ],
)
def test_out_of_range_times_fall_back_to_now(event, sent_at):
    resolved = timestamp_resolve(event=event, properties={}, now=NOW, sent_at=at(sent_at) if sent_at else None)
    assert resolved == NOW


@pytest.mark.parametrize(
    "value", [None, "", "garbage", [], {}, True, "2024-13-45", "0001-01-01T00:00:00+14:00", "²", "-٣"]
)
def test_unparseable_timestamps_are_none(value):
    assert parse_timestamp(value) is None


@pytest.mark.parametrize(
    "value, result",
    [
        ("phc_abc", "phc_abc"),
        (" phc_x\n", "phc_x"),
        ("phx_abc", "personal_api_key"),
        ("", "empty"),
        (" ", "empty"),
        (None, "not_string"),
        (12, "not_string"),
        ({"some": "object"}, "not_string"),
        ("a" * 64, "a" * 64),
        ("a" * 65, "too_long"),
        ("phc_ü", "not_ascii"),
        ("phc\x00x", "null_byte"),
    ],
)
def test_token_shapes(value, result):
    try:
        assert token_validate(value) == result
    except SDKError as error:
        assert (error.status, error.code) == (401, result)


@pytest.mark.parametrize(
    "payload, engage, count, token",
    [
        ([{"event": "a"}, {"event": "b"}], False, 2, None),
        ({"api_key": "k", "batch": [{"event": "a"}]}, False, 1, "k"),
        ({"token": "k", "batch": [{"event": "a"}]}, False, 1, "k"),
        ({"api_key": "k", "data": [{"event": "a"}, {"event": "b"}]}, False, 2, "k"),
        ({"api_key": "k", "data": '{"event": "a"}'}, False, 1, "k"),
        ({"event": "a", "api_key": "k"}, False, 1, None),
        ({"$set": {}, "$distinct_id": 1}, True, 1, None),
    ],
)
def test_body_shapes(payload, engage, count, token):
    raw = request_shape_read(payload=payload, engage=engage)
    assert len(raw.events) == count
    assert raw.token == token


@pytest.mark.parametrize(
    "payload, detail",
    [
        ("text", "Invalid payload: the body must be a JSON object or array of events"),
        (12, "Invalid payload: the body must be a JSON object or array of events"),
        (None, "Invalid payload: the body must be a JSON object or array of events"),
        ([], "No data found."),
        ({"api_key": "k", "batch": []}, "No data found."),
        ({"api_key": "k", "batch": {"event": "a"}}, 'Invalid payload: "batch" must be a list of events'),
        ([1, 2], "Invalid payload: events must be JSON objects"),
        ([{"event": 5}], 'Invalid payload: Event field "event" must be a string!'),
        ({"api_key": "k", "data": 5}, 'Invalid payload: "data" must be an event, a list of events or their JSON text'),
    ],
)
def test_bad_shapes(payload, detail):
    with pytest.raises(SDKError) as caught:
        request_shape_read(payload=payload, engage=False)
    assert caught.value.status == 400
    assert caught.value.detail.startswith(detail)


def test_build_resolves_team_through_the_injected_lookup_and_keeps_set_fields():
    [event] = capture_events_build(
        payload={"api_key": "phc_a", "batch": [{"event": "e", "distinct_id": "d", "$set": {"a": 1}, "offset": 10}]},
        engage=False,
        query={},
        form={},
        now=NOW,
        ip="1.1.1.1",
        max_event_bytes=10_000,
        team_for_token={"phc_a": 7}.get,
    )
    assert (event.team_id, event.ip, event.timestamp, event.now) == (
        7,
        "1.1.1.1",
        "2024-05-01T11:59:59.990Z",
        "2024-05-01T12:00:00.000Z",
    )
    assert '"$set":{"a":1}' in event.data


@pytest.mark.parametrize(
    "moment, expected",
    [
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05.000Z"),  # no microseconds
        (datetime(2024, 1, 2, 3, 4, 5, 999, tzinfo=UTC), "2024-01-02T03:04:05.000Z"),  # truncated, not rounded
        (datetime(2024, 1, 2, 3, 4, 5, 123999, tzinfo=UTC), "2024-01-02T03:04:05.123Z"),
        (datetime(2024, 1, 2, 0, 30, tzinfo=timezone(timedelta(hours=2))), "2024-01-01T22:30:00.000Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999Z"),
    ],
)
def test_iso_is_utc_milliseconds_with_z(moment, expected):
    assert iso(moment) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-01-01T10:00:00.123456+02:00", "2024-01-01T08:00:00.123Z"),
        ("2024-01-01T10:00:00", "2024-01-01T10:00:00.000Z"),  # no zone: UTC
        ("2024/01/01 10:00", "2024-01-01T10:00:00.000Z"),
        ("2024-01-01T10:00:00Z ", "2024-01-01T10:00:00.000Z"),  # spaces around
        ("2024-01-01T10:00:00.1/+02:00", None),  # a slash is only a date separator
        ("Mon, 01 Jan 2024 10:00:00 GMT", "2024-01-01T10:00:00.000Z"),
        ("1704103200", "2024-01-01T10:00:00.000Z"),
    ],
)
def test_timestamps_in_every_accepted_form_parse_to_utc(value, expected):
    parsed = parse_timestamp(value)
    assert (iso(parsed) if parsed else None) == expected
