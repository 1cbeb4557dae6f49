"""The production WSGI entry point (posthog_clone.wsgi.application, what `manage.py serve` runs): capture
paths take the lean handler (no sessions/CSRF/auth middleware) and keep capture's behaviour: CORS,
body limits, X-Forwarded-For rules, ALLOWED_HOSTS, security headers and the request metrics."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from django.core import signals
from django.db import close_old_connections

from posthog_clone.metrics import REQUESTS
from posthog_clone.registry import FAST_PATHS, Hook
from tests.capture.conftest import queued
from tests.wsgi import wsgi_call


@pytest.fixture(autouse=True)
def _keep_test_transaction() -> Iterator[None]:
    """As Django's test client does: the request signals must not close the test's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


call = wsgi_call


def test_every_capture_path_with_and_without_slash_takes_the_capture_handler():
    for path in ("e", "i/v0/e", "capture", "track", "engage", "batch"):
        assert FAST_PATHS[f"/{path}"] == FAST_PATHS[f"/{path}/"] == Hook("capture.views.capture_view", {"kind": path})
    assert "/flags" not in FAST_PATHS and "/flags/" not in FAST_PATHS


@pytest.mark.django_db
def test_batch_is_queued_with_cors_content_length_security_headers_and_counted(project, queue):
    before = REQUESTS.labels("POST", "200")._value.get()
    body = orjson.dumps({"api_key": project.team.api_token, "batch": [{"event": "a", "distinct_id": "d"}] * 2})
    status, headers, content = call("POST", "/batch/", body, HTTP_ORIGIN="https://app.example")
    assert (status, orjson.loads(content)) == (200, {"status": 1})
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert headers["Content-Length"] == str(len(content))
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert len(queued(queue)) == 2
    assert REQUESTS.labels("POST", "200")._value.get() == before + 1


@pytest.mark.django_db
def test_preflight_without_trailing_slash_answers_cors():
    status, headers, _ = call("OPTIONS", "/e", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="X-Custom")
    assert status == 200
    assert headers["Access-Control-Allow-Headers"] == "X-Custom"
    assert headers["Access-Control-Max-Age"] == "86400"


@pytest.mark.django_db
def test_forwarded_for_is_used_only_from_a_trusted_proxy(settings, project, queue):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    event = orjson.dumps({"api_key": project.team.api_token, "event": "a", "distinct_id": "d"})
    assert call("POST", "/i/v0/e/", event, HTTP_X_FORWARDED_FOR="203.0.113.9, 10.1.2.3")[0] == 200
    settings.TRUSTED_PROXIES = ["192.168.0.0/16"]
    assert call("POST", "/i/v0/e/", event, HTTP_X_FORWARDED_FOR="203.0.113.9")[0] == 200
    assert [e.ip for e in queued(queue)] == ["203.0.113.9", "10.1.2.3"]


@pytest.mark.django_db
def test_declared_body_over_the_limit_is_a_413_and_counted(settings, project, queue):
    settings.CAPTURE_MAX_BODY_BYTES = 100
    before = REQUESTS.labels("POST", "413")._value.get()
    status, headers, content = call("POST", "/e/", b"x" * 101)
    assert status == 413 and orjson.loads(content)["code"] == "request_too_large"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert REQUESTS.labels("POST", "413")._value.get() == before + 1
    assert queued(queue) == []


@pytest.mark.django_db
def test_host_outside_allowed_hosts_is_a_400_on_capture_as_elsewhere(project, queue):
    event = orjson.dumps({"api_key": project.team.api_token, "event": "a", "distinct_id": "d"})
    assert call("POST", "/capture/", event, HTTP_HOST="evil.example")[0] == 400
    assert call("GET", "/_health", HTTP_HOST="evil.example")[0] == 400
    assert queued(queue) == []


@pytest.mark.django_db
def test_other_paths_go_through_the_full_application():
    assert call("GET", "/_health")[0] == 200
    assert call("POST", "/batch/extra/", b"{}")[0] == 404
