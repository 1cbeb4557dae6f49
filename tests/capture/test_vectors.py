"""The capture reference's §17 test vectors 1–22 through the real HTTP path (acceptance 1).

Vectors 23–26 are pure functions: see test_decoding.py and test_parsing.py.
"""

from __future__ import annotations

import gzip
import uuid
from urllib.parse import quote

import orjson
import pytest

from tests.capture.helpers import ENCODINGS, Encoded, dumps, send

pytestmark = pytest.mark.django_db


def post(client, path, body, **headers):
    return client.generic("POST", path, dumps(body), content_type="application/json", **headers)


def error(response):
    body = response.json()
    assert set(body) == {"type", "code", "detail", "attr"}
    return response.status_code, body["type"], body["code"], body["detail"]


def test_v1_single_event_on_e_takes_distinct_id_from_properties(capture_client, queue, team):
    body = {"api_key": team.api_token, "event": "$pageview", "properties": {"distinct_id": "d-1"}}
    assert post(capture_client, "/e/", body).status_code == 200
    [envelope] = queue.all_events()
    assert (envelope.event, envelope.distinct_id, envelope.team_id) == ("$pageview", "d-1", team.pk)


@pytest.mark.parametrize("path", ["/batch", "/e", "/capture", "/track"])
@pytest.mark.parametrize("encoding", ["json", "gzip_query_hint", "gzip_magic_no_hint", "form_json"])
@pytest.mark.parametrize("shape", ["single", "batch"])
def test_v2_plain_gzip_and_form_on_every_path(capture_client, queue, team, path, encoding, shape):
    event = {"event": "e", "distinct_id": "d"}
    body = {**event, "api_key": team.api_token} if shape == "single" else {"api_key": team.api_token, "batch": [event]}
    assert send(capture_client, path, ENCODINGS[encoding](dumps(body))).status_code == 200
    assert [e.event for e in queue.all_events()] == ["e"]


@pytest.mark.parametrize("path", ["/e/", "/capture/", "/track/", "/engage/", "/batch/"])
@pytest.mark.parametrize(
    "encoding",
    ["base64_body", "base64_query_hint", "form_base64", "form_lz64", "get_json", "get_base64_no_padding", "get_lz64"],
)
def test_v3_v4_base64_lz64_and_get_data(capture_client, queue, team, path, encoding):
    body = {"api_key": team.api_token, "event": "legacy", "distinct_id": "d"}
    assert send(capture_client, path, ENCODINGS[encoding](dumps(body))).status_code == 200
    assert [e.event for e in queue.all_events()] == ["legacy"]


def test_v5_empty_data_and_empty_object_are_400(capture_client, queue):
    assert error(capture_client.get("/e/?data="))[:3] == (400, "validation_error", "no_data")
    assert post(capture_client, "/e/", {}).status_code == 400
    assert queue.all_events() == []


def test_v6_trailing_comma_is_invalid_json(capture_client):
    response = capture_client.generic("POST", "/capture/", b'{"event": "x",}', content_type="application/json")
    status, type_, code, detail = error(response)
    assert (status, type_, code) == (400, "validation_error", "invalid_payload")
    assert detail.startswith("Malformed request data: Invalid JSON:")


def test_v7_object_api_key_is_not_string(capture_client):
    response = post(capture_client, "/batch/", {"api_key": {"some": "object"}, "batch": [{"event": "e"}]})
    assert error(response) == (
        401,
        "authentication_error",
        "not_string",
        "Provided API key is not valid: not_string",
    )


def test_v8_batch_without_token_is_missing_api_key(capture_client):
    response = post(capture_client, "/batch/", {"batch": [{"event": "e", "distinct_id": "d"}]})
    status, type_, code, _ = error(response)
    assert (status, type_, code) == (401, "authentication_error", "missing_api_key")


@pytest.mark.parametrize(
    "event, detail",
    [
        ({"event": "e", "properties": {}}, 'Invalid payload: All events must have the event field "distinct_id"!'),
        ({"event": "e", "distinct_id": None}, 'Invalid payload: Event field "distinct_id" should not be blank!'),
        ({"event": "e", "distinct_id": ""}, 'Invalid payload: Event field "distinct_id" should not be blank!'),
        ({"event": "e", "distinct_id": "  "}, 'Invalid payload: Event field "distinct_id" should not be blank!'),
    ],
)
def test_v9_missing_or_blank_distinct_id(capture_client, queue, team, event, detail):
    response = post(capture_client, "/batch/", {"api_key": team.api_token, "batch": [event]})
    assert error(response) == (400, "validation_error", "invalid_payload", detail)
    assert queue.all_events() == []


def test_v9_nan_distinct_id_is_blank(capture_client, team):
    body = f'{{"api_key": "{team.api_token}", "batch": [{{"event": "e", "distinct_id": NaN}}]}}'.encode()
    response = capture_client.generic("POST", "/batch/", body, content_type="application/json")
    assert error(response)[3] == 'Invalid payload: Event field "distinct_id" should not be blank!'


@pytest.mark.parametrize(
    "event, distinct_id",
    [
        ({"distinct_id": "x" * 250}, "x" * 200),
        ({"distinct_id": 23}, "23"),
        ({"distinct_id": 23.4}, "23.4"),
        ({"distinct_id": ["a", "b"]}, '["a","b"]'),
        ({"distinct_id": "top", "properties": {"distinct_id": "props"}}, "top"),
        ({"$distinct_id": "dollar", "properties": {"distinct_id": "props"}}, "dollar"),
        ({"distinct_id": None, "properties": {"distinct_id": "props"}}, "props"),
        ({"distinct_id": " spaced "}, " spaced "),
        ({"distinct_id": "nul\x00"}, "nul\ufffd"),
    ],
)
def test_v10_v11_distinct_id_forms(capture_client, queue, team, event, distinct_id):
    response = post(capture_client, "/batch/", {"api_key": team.api_token, "batch": [{"event": "e", **event}]})
    assert response.status_code == 200, response.content
    assert queue.all_events()[0].distinct_id == distinct_id


def test_v12_event_tokens_must_agree(capture_client, queue, team, other_project):
    events = [
        {"event": "e", "distinct_id": "d", "token": team.api_token},
        {"event": "e", "distinct_id": "d", "token": other_project.team.api_token},
    ]
    assert error(post(capture_client, "/e/", events))[:3] == (400, "validation_error", "invalid_payload")
    assert queue.all_events() == []


def test_v12_batch_key_beats_event_tokens(capture_client, queue, team, other_project):
    body = {
        "api_key": team.api_token,
        "batch": [{"event": "e", "distinct_id": "d", "token": other_project.team.api_token}],
    }
    assert post(capture_client, "/batch/", body).status_code == 200
    assert [e.team_id for e in queue.all_events()] == [team.pk]


@pytest.mark.parametrize("field", ["$token", "api_key", "token"])
def test_v12_single_event_token_fields(capture_client, queue, team, field):
    assert post(capture_client, "/e/", {"event": "e", "distinct_id": "d", field: team.api_token}).status_code == 200
    assert queue.all_events()[0].team_id == team.pk


def test_v12_token_is_trimmed(capture_client, queue, team):
    body = {"event": "e", "distinct_id": "d", "api_key": f" {team.api_token}\n"}
    assert post(capture_client, "/e/", body).status_code == 200
    assert queue.all_events()[0].token == team.api_token


@pytest.mark.parametrize(
    "token, reason",
    [("phx_abc", "personal_api_key"), ("", "empty"), ("  ", "empty"), ("x" * 65, "too_long"), ("phc_é", "not_ascii")],
)
def test_v12_token_shapes(capture_client, queue, token, reason):
    response = post(capture_client, "/batch/", {"api_key": token, "batch": [{"event": "e", "distinct_id": "d"}]})
    assert error(response) == (401, "authentication_error", reason, f"Provided API key is not valid: {reason}")
    assert queue.all_events() == []


def test_unknown_project_token_is_401_invalid_token(capture_client, queue):
    response = post(capture_client, "/e/", {"api_key": "phc_nobody", "event": "e", "distinct_id": "d"})
    status, type_, code, _ = error(response)
    assert (status, type_, code) == (401, "authentication_error", "invalid_token")
    assert queue.all_events() == []


def test_v13_client_uuid_kept_verbatim(capture_client, queue, team):
    given = "01823e89-f75d-0000-0d4d-3d43e54f6de5"
    assert post(capture_client, "/e/", {"api_key": team.api_token, "event": "e", "distinct_id": "d", "uuid": given})
    [envelope] = queue.all_events()
    assert envelope.uuid == given
    assert orjson.loads(envelope.data)["uuid"] == given


@pytest.mark.parametrize("bad", ["invalid_uuid", 12, {"a": 1}])
def test_v13_invalid_uuid_is_400(capture_client, queue, team, bad):
    body = {"api_key": team.api_token, "event": "e", "distinct_id": "d", "uuid": bad}
    assert error(post(capture_client, "/e/", body)) == (
        400,
        "validation_error",
        "invalid_payload",
        'Invalid payload: Event field "uuid" is not a valid UUID!',
    )
    assert queue.all_events() == []


@pytest.mark.parametrize("empty", ["", None])
def test_v13_missing_uuid_gets_a_uuid7(capture_client, queue, team, empty):
    body = {"api_key": team.api_token, "event": "e", "distinct_id": "d", "uuid": empty}
    assert post(capture_client, "/e/", body).status_code == 200
    assert uuid.UUID(queue.all_events()[0].uuid).version == 7


def test_v14_empty_event_name_is_skipped_with_200(capture_client, queue, team):
    assert post(capture_client, "/e/", {"api_key": team.api_token, "event": "", "distinct_id": "d"}).status_code == 200
    assert queue.all_events() == []


def test_v14_missing_event_key_is_400(capture_client, team):
    assert error(post(capture_client, "/e/", {"api_key": team.api_token, "distinct_id": "d"})) == (
        400,
        "validation_error",
        "invalid_payload",
        'Invalid payload: All events must have the event name field "event"!',
    )


def test_v15_snapshot_without_data_is_400(capture_client, team):
    body = {"api_key": team.api_token, "event": "$snapshot", "distinct_id": "d", "properties": {}}
    assert error(post(capture_client, "/e/", body))[3] == (
        'Invalid payload: $snapshot events must contain property "$snapshot_data"!'
    )


def test_v16_null_event_in_batch_fails_everything(capture_client, queue, team):
    body = {"api_key": team.api_token, "batch": [{"event": "e", "distinct_id": "d"}, None]}
    assert error(post(capture_client, "/batch/", body)) == (
        400,
        "validation_error",
        "invalid_payload",
        "Invalid payload: some events are null",
    )
    assert queue.all_events() == []


def test_v17_performance_events_are_dropped(capture_client, queue, team):
    body = {
        "api_key": team.api_token,
        "batch": [{"event": "$performance_event", "distinct_id": "d"}, {"event": "boop", "distinct_id": "d"}],
    }
    assert post(capture_client, "/batch/", body).status_code == 200
    assert [e.event for e in queue.all_events()] == ["boop"]


def test_v18_engage_get_data_is_identify(capture_client, queue, team):
    data = dumps({"$set": {"a": 1}, "$token": team.api_token, "$distinct_id": 3}).decode()
    assert capture_client.get(f"/engage/?data={quote(data)}").status_code == 200
    [envelope] = queue.all_events()
    assert (envelope.event, envelope.distinct_id) == ("$identify", "3")


def test_v18_engage_object_on_other_paths_is_400(capture_client, team):
    body = {"$set": {"a": 1}, "$token": team.api_token, "$distinct_id": 3}
    assert post(capture_client, "/e/", body).status_code == 400


def test_v19_non_numeric_offset_is_400(capture_client, queue, team):
    body = {"api_key": team.api_token, "event": "e", "distinct_id": "d", "properties": {"offset": "should_blow_up"}}
    assert error(post(capture_client, "/e/", body))[:3] == (400, "validation_error", "invalid_payload")
    assert queue.all_events() == []


@pytest.mark.parametrize(
    "headers, query, ip",
    [
        ({"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "", "1.2.3.4"),
        ({"HTTP_X_FORWARDED_FOR": "1.2.3.4:5555"}, "", "1.2.3.4"),
        ({"HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.0.1"}, "", "1.2.3.4"),
        ({"HTTP_X_FORWARDED_FOR": "2001:db8::1"}, "", "2001:db8::1"),
        ({"HTTP_X_FORWARDED_FOR": "[2001:db8::1]:443"}, "", "2001:db8::1"),
        ({"HTTP_X_FORWARDED_FOR": "not-an-ip, 1.2.3.4"}, "", "127.0.0.1"),
        ({}, "", "127.0.0.1"),
        ({"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "?ip=5.6.7.8", "5.6.7.8"),
        ({}, "?ip=1", "127.0.0.1"),  # posthog-js's old `ip=1` flag is not an address
    ],
)
def test_v20_client_ip(capture_client, queue, team, headers, query, ip):
    body = {"api_key": team.api_token, "event": "e", "distinct_id": "d", "properties": {"$ip": "9.9.9.9"}}
    assert post(capture_client, f"/e/{query}", body, **headers).status_code == 200
    [envelope] = queue.all_events()
    assert envelope.ip == ip
    assert orjson.loads(envelope.data)["properties"]["$ip"] == "9.9.9.9"  # the client's $ip is left alone


def test_v20_forwarded_for_ignored_from_untrusted_peer(capture_client, queue, team, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    body = {"api_key": team.api_token, "event": "e", "distinct_id": "d"}
    assert post(capture_client, "/e/", body, HTTP_X_FORWARDED_FOR="1.2.3.4").status_code == 200
    assert queue.all_events()[0].ip == "127.0.0.1"
    proxied = capture_client.generic(
        "POST",
        "/e/",
        dumps(body),
        content_type="application/json",
        REMOTE_ADDR="10.1.2.3",
        HTTP_X_FORWARDED_FOR="1.2.3.4",
    )
    assert proxied.status_code == 200
    assert queue.all_events()[1].ip == "1.2.3.4"


@pytest.mark.parametrize("path, size", [("/batch/", 21 * 1024 * 1024), ("/e/", 3 * 1024 * 1024)])
def test_v21_body_over_the_path_limit_is_413(capture_client, queue, path, size):
    response = capture_client.generic("POST", path, b"x" * size, content_type="text/plain")
    assert error(response) == (413, "client_error", "request_too_large", "Request too large.")
    assert queue.all_events() == []


def test_v21_one_event_over_1mb_is_413(capture_client, queue, team):
    body = {
        "api_key": team.api_token,
        "batch": [{"event": "e", "distinct_id": "d", "properties": {"x": "y" * 1_100_000}}],
    }
    response = send(capture_client, "/batch/", Encoded("POST", body=gzip.compress(dumps(body))))
    assert error(response)[:3] == (413, "client_error", "request_too_large")
    assert queue.all_events() == []
