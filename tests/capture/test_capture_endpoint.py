"""HTTP behaviour of the capture endpoints beyond the vectors: CORS, the token cache, form fields."""

from __future__ import annotations

import base64
import gzip

import pytest

from tests.capture.helpers import dumps

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/e/", "/i/v0/e", "/batch/", "/engage"])
def test_preflight_mirrors_origin_and_requested_headers(capture_client, path):
    response = capture_client.options(
        path,
        HTTP_ORIGIN="https://shop.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-custom",
    )
    assert response.status_code == 200
    assert response.json() == {"status": 1}
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert response["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "content-type, x-custom"


@pytest.mark.parametrize("valid", [True, False])
def test_responses_carry_cors_for_the_calling_origin(capture_client, team, valid):
    body = {"api_key": team.api_token if valid else "phc_unknown", "event": "e", "distinct_id": "d"}
    response = capture_client.generic(
        "POST", "/e/", dumps(body), content_type="text/plain", HTTP_ORIGIN="http://localhost:3000"
    )
    assert response.status_code == (200 if valid else 401)
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert response["Access-Control-Allow-Credentials"] == "true"


def test_known_token_costs_no_query_after_the_first_request(
    capture_client, team, django_assert_num_queries, django_assert_max_num_queries
):
    body = dumps({"api_key": team.api_token, "event": "e", "distinct_id": "d"})
    with django_assert_max_num_queries(1):
        assert capture_client.generic("POST", "/e/", body, content_type="application/json").status_code == 200
    with django_assert_num_queries(0):
        for _ in range(5):
            assert capture_client.generic("POST", "/e/", body, content_type="application/json").status_code == 200


def test_unknown_token_is_negatively_cached(capture_client, django_assert_num_queries):
    body = dumps({"api_key": "phc_unknown", "event": "e", "distinct_id": "d"})
    capture_client.generic("POST", "/e/", body, content_type="application/json")
    with django_assert_num_queries(0):
        assert capture_client.generic("POST", "/e/", body, content_type="application/json").status_code == 401


def test_rotated_token_stops_working_at_once(capture_client, queue, team):
    old = team.api_token
    body = {"api_key": old, "event": "e", "distinct_id": "d"}
    assert capture_client.generic("POST", "/e/", dumps(body), content_type="application/json").status_code == 200
    team.api_token = "phc_rotated_token_value"
    team.save()
    assert capture_client.generic("POST", "/e/", dumps(body), content_type="application/json").status_code == 401
    body["api_key"] = "phc_rotated_token_value"
    assert capture_client.generic("POST", "/e/", dumps(body), content_type="application/json").status_code == 200
    assert [e.token for e in queue.all_events()] == [old, "phc_rotated_token_value"]


def test_form_api_key_and_sent_at_next_to_data(capture_client, queue, team):
    events = [{"event": "e", "distinct_id": "d", "timestamp": "2024-05-01T11:00:00Z"}]
    data = base64.b64encode(dumps(events)).decode()
    body = f"data={data}&api_key={team.api_token}&sent_at=2024-05-01T11:00:00Z".encode()
    response = capture_client.generic("POST", "/e/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    [envelope] = queue.all_events()
    assert envelope.sent_at == "2024-05-01T11:00:00.000Z"
    assert envelope.timestamp == envelope.now  # sent at the moment it happened


def test_json_posted_with_a_form_content_type_is_accepted(capture_client, queue, team):
    """`curl -d '{...}'` sends JSON labelled as a form."""
    body = dumps({"api_key": team.api_token, "event": "curl", "distinct_id": "d"})
    response = capture_client.generic("POST", "/capture/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert [e.event for e in queue.all_events()] == ["curl"]


def test_posthog_js_gzip_without_hint_and_query_params(capture_client, queue, team):
    events = [{"event": "$pageview", "properties": {"token": team.api_token, "distinct_id": "d"}, "offset": 1500}]
    response = capture_client.generic(
        "POST", "/e/?ip=1&_=1732449600000&ver=1.300.0", gzip.compress(dumps(events)), content_type="text/plain"
    )
    assert response.status_code == 200
    [envelope] = queue.all_events()
    assert envelope.sent_at == "2024-11-24T12:00:00.000Z"
    assert envelope.ip == "127.0.0.1"


def test_head_and_put_are_not_allowed(capture_client):
    assert capture_client.head("/e/").status_code == 405
    assert capture_client.put("/batch/", b"{}", content_type="application/json").status_code == 405
