"""One CORS policy on every public SDK endpoint (posthog_clone.sdk.cors), through the production WSGI entry point
(capture paths take its lean handler, the rest the full Django application).

The policy, PostHog's (its Rust capture and feature-flags routers): mirror the Origin with credentials, allow
GET, POST and OPTIONS, mirror the requested headers; without an Origin `*` and no credentials; preflights
cacheable for a day; `Vary: Origin` always.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pytest

from posthog_clone.sdk.cors import DEFAULT_ALLOW_HEADERS
from tests.wsgi import wsgi_call

ORIGIN = "https://shop.example.com"
REQUESTED = "content-type, x-requested-with"
CAPTURE_PATHS = ["/e/", "/batch/", "/capture/", "/i/v0/e/", "/track/", "/engage/", "/e", "/batch", "/i/v0/e"]


@dataclass(frozen=True)
class Endpoint:
    path: str  # may contain {token}
    method: str  # of the actual request
    query: str = ""
    preflight_status: int = 204


ENDPOINTS = [
    *[Endpoint(path, "POST", preflight_status=200) for path in CAPTURE_PATHS],
    Endpoint("/flags/", "POST", "v=2"),
    Endpoint("/flags", "POST", "v=2&config=true"),
    Endpoint("/flags/", "GET"),
    Endpoint("/decide/", "POST", "v=3"),
    Endpoint("/decide/", "GET"),
    Endpoint("/array/{token}/config", "GET"),
    Endpoint("/array/{token}/config.js", "GET"),
]
IDS = [f"{e.method} {e.path}{'?' + e.query if e.query else ''}" for e in ENDPOINTS]


def call(method: str, path: str, query: str = "", body: bytes = b"", **headers: str) -> tuple[int, dict, bytes]:
    return wsgi_call(method, path, body, query=query, content_type="text/plain", **headers)


def assert_policy(headers: dict[str, str], *, origin: str | None, preflight: bool, requested: str | None) -> None:
    if origin:
        assert headers["Access-Control-Allow-Origin"] == origin
        assert headers["Access-Control-Allow-Credentials"] == "true"
    else:
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in headers
    assert "Origin" in [v.strip() for v in headers["Vary"].split(",")]
    assert headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == (requested or DEFAULT_ALLOW_HEADERS)
    if preflight:
        assert headers["Access-Control-Max-Age"] == "86400"
    else:
        assert "Access-Control-Max-Age" not in headers


def body_for(endpoint: Endpoint, token: str) -> bytes:
    if endpoint.method != "POST":
        return b""
    if endpoint.path.startswith(("/flags", "/decide")):
        return orjson.dumps({"token": token, "distinct_id": "user-1"})
    return orjson.dumps({"api_key": token, "batch": [{"event": "clicked", "distinct_id": "user-1"}]})


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_preflight(endpoint: Endpoint, team) -> None:
    status, headers, content = call(
        "OPTIONS",
        endpoint.path.format(token=team.api_token),
        endpoint.query,
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=REQUESTED,
    )
    assert status == endpoint.preflight_status
    assert content == (b'{"status":1}' if status == 200 else b"")
    assert_policy(headers, origin=ORIGIN, preflight=True, requested=REQUESTED)


@pytest.mark.django_db
@pytest.mark.parametrize("origin", [ORIGIN, None], ids=["with-origin", "without-origin"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_actual_request(endpoint: Endpoint, origin: str | None, team, queue) -> None:
    headers_in = {"HTTP_ORIGIN": origin} if origin else {}
    status, headers, content = call(
        endpoint.method,
        endpoint.path.format(token=team.api_token),
        endpoint.query,
        body_for(endpoint, team.api_token),
        **headers_in,
    )
    assert status == 200, content
    assert_policy(headers, origin=origin, preflight=False, requested=None)
    if endpoint.path.startswith(("/e", "/batch", "/capture", "/i/", "/track", "/engage")):
        assert orjson.loads(content) == {"status": 1}
        assert [e.event for e in queue.all_events()] == ["clicked"]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.method == "POST" or "{token}" in e.path], ids=str)
def test_error_answers_carry_the_same_policy(endpoint: Endpoint, queue) -> None:
    """An unknown project API key: 401 (capture, /flags, /decide) or 404 (remote config), CORS all the same."""
    status, headers, content = call(
        endpoint.method,
        endpoint.path.format(token="phc_nobody"),
        endpoint.query,
        body_for(endpoint, "phc_nobody"),
        HTTP_ORIGIN=ORIGIN,
    )
    assert status == (404 if "{token}" in endpoint.path else 401)
    assert orjson.loads(content)["type"] in ("authentication_error", "invalid_request")
    assert_policy(headers, origin=ORIGIN, preflight=False, requested=None)
    assert queue.all_events() == []
