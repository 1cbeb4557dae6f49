"""Property test: any JSON value, in any event field, gives envelopes or a SDKError (a 4xx), never
another exception (which would be a 500)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capture.parsing import capture_events_build
from posthog_clone.sdk.errors import SDKError

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
timestamps = st.one_of(
    json_values,
    st.sampled_from(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2024-05-01T11:00:00Z", "1e400"]),
    st.integers(min_value=-(10**20), max_value=10**20),
)
FIELDS = {
    "event": st.one_of(st.sampled_from(["e", "", "$snapshot", "$performance_event"]), json_values),
    "distinct_id": json_values,
    "$distinct_id": json_values,
    "properties": st.one_of(json_values, st.fixed_dictionaries({}, optional={"offset": json_values})),
    "uuid": st.one_of(json_values, st.uuids().map(str)),
    "timestamp": timestamps,
    "offset": st.one_of(json_values, st.integers(min_value=-(10**20), max_value=10**20)),
    "token": json_values,
    "$set": json_values,
}
events = st.fixed_dictionaries({}, optional=FIELDS)
payloads = st.one_of(
    events,
    st.lists(events, max_size=3),
    st.fixed_dictionaries(
        {"batch": st.one_of(st.lists(events, max_size=3), json_values)},
        optional={"api_key": st.one_of(st.just("phc_known"), json_values), "sent_at": timestamps},
    ),
    st.fixed_dictionaries({"api_key": st.just("phc_known"), "data": st.one_of(json_values, st.lists(events))}),
    json_values,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=payloads, engage=st.booleans(), query_ts=st.one_of(st.none(), st.text(max_size=20), st.just("9" * 30)))
def test_any_payload_gives_envelopes_or_a_capture_error(payload, engage, query_ts):
    query = {"_": query_ts} if query_ts is not None else {}
    try:
        built = capture_events_build(
            payload=payload,
            engage=engage,
            query=query,
            form={},
            now=NOW,
            ip=None,
            max_event_bytes=100_000,
            team_for_token=lambda token: 1 if token else None,
        )
    except SDKError as error:
        assert 400 <= error.status < 500
        return
    for event in built:
        assert event.team_id == 1
        assert 0 < len(event.distinct_id) <= 200


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.binary(max_size=200).map(lambda b: b"\x1f\x8b\x08" + b),
        st.binary(max_size=200).map(lambda b: b"\x04\x22\x4d\x18" + b),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= ", max_size=200).map(
            str.encode
        ),
        st.text(max_size=100).map(lambda t: f"data={t}&compression=lz64".encode()),
    ),
    hint=st.sampled_from(["", "gzip", "gzip-js", "lz64", "base64", "lz4", "nonsense"]),
    where=st.sampled_from(["query", "encoding"]),
    query_data=st.one_of(st.none(), st.text(max_size=60)),
    legacy=st.booleans(),
    content_type=st.sampled_from(["", "text/plain", "application/json", "application/x-www-form-urlencoded"]),
)
def test_any_bytes_decode_or_give_a_capture_error(body, hint, where, query_data, legacy, content_type):
    from posthog_clone.sdk.decoding import decode_payload

    query = {"compression": hint} if where == "query" else {}
    if query_data is not None:
        query["data"] = query_data
    try:
        decode_payload(
            body=body,
            query=query,
            form=None,
            content_type=content_type,
            content_encoding=hint if where == "encoding" else "",
            legacy=legacy,
            max_bytes=10_000,
        )
    except SDKError as error:
        assert error.status in (400, 413)
