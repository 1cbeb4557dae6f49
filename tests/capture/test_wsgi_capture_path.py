"""The production WSGI entry point (posthog_clone.wsgi.application, what `manage.py serve` runs): capture
paths take the lean handler (no sessions/CSRF/auth middleware) and keep capture's behaviour: CORS,
body limits, X-Forwarded-For rules, ALLOWED_HOSTS, security headers and the request metrics."""

from __future__ import annotations

from urllib.parse import quote

import orjson
import pytest
from django.core import signals

from posthog_clone.metrics import REQUESTS
from posthog_clone.registry import FAST_PATHS, Hook
from tests.capture.conftest import queued
from tests.wsgi import wsgi_call

call = wsgi_call


def test_every_capture_path_with_and_without_slash_takes_the_capture_handler():
    for path in ("e", "i/v0/e", "capture", "track", "engage", "batch"):
        assert FAST_PATHS[f"/{path}"] == FAST_PATHS[f"/{path}/"] == Hook("capture.views.capture", {"kind": path})
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


@pytest.mark.django_db
def test_disallowed_host_answers_the_full_applications_body_and_follows_allowed_hosts(settings, project, queue):
    event = orjson.dumps({"api_key": project.team.api_token, "event": "a", "distinct_id": "d"})
    status, headers, content = call("POST", "/e/", event, HTTP_HOST="shop.example")
    assert status == 400
    assert orjson.loads(content) == orjson.loads(call("GET", "/_health", HTTP_HOST="shop.example")[2])
    assert orjson.loads(content)["code"] == "bad_request"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert call("POST", "/e/", event, HTTP_HOST="")[0] == call("GET", "/_health", HTTP_HOST="")[0] == 400
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".example"]  # the remembered answer is dropped
    assert call("POST", "/e/", event, HTTP_HOST="shop.example")[0] == 200
    assert call("POST", "/e/", event, HTTP_HOST="shop.example:8443")[0] == 200
    assert len(queued(queue)) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("secure", [False, True])
def test_security_headers_are_the_ones_django_adds_elsewhere(settings, secure):
    scheme = {"wsgi.url_scheme": "https" if secure else "http"}
    _, capture_headers, _ = call("OPTIONS", "/e/", **scheme)
    _, django_headers, _ = call("GET", "/_health", **scheme)
    names = ("Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy")
    assert {n: capture_headers.get(n) for n in names} == {n: django_headers.get(n) for n in names}
    assert capture_headers["X-Content-Type-Options"] == "nosniff"
    # HSTS as SecurityMiddleware sends it (which reads the settings once, when the full application starts)
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    hsts = call("OPTIONS", "/e/", **scheme)[1].get("Strict-Transport-Security")
    assert hsts == ("max-age=3600; includeSubDomains" if secure else None)


@pytest.mark.django_db
def test_an_unexpected_error_is_a_logged_500_with_the_error_body_and_cors(project, queue, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("capture.views.capture_request_ingest", broken)
    before = REQUESTS.labels("POST", "500")._value.get()
    event = orjson.dumps({"api_key": project.team.api_token, "event": "a", "distinct_id": "d"})
    status, headers, content = call("POST", "/e/", event, HTTP_ORIGIN="https://app.example")
    assert (status, orjson.loads(content)) == (
        500,
        {"type": "server_error", "code": "error", "detail": "A server error occurred.", "attr": None},
    )
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert REQUESTS.labels("POST", "500")._value.get() == before + 1
    [record] = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR"]
    assert record.getMessage() == "Internal Server Error: /e/" and record.exc_info[0] is RuntimeError


@pytest.mark.django_db
def test_django_test_client_raises_what_the_fast_path_hit_as_it_does_for_django_views(monkeypatch, client):
    monkeypatch.setattr("capture.views.capture_request_ingest", lambda **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        client.post("/e/", b"{}", content_type="application/json")


@pytest.mark.django_db
def test_request_finished_is_sent_once_a_request(project, queue):
    """Its receivers close the database connections a request opened (CONN_MAX_AGE) and the caches."""
    seen = []

    def finished(sender, **kwargs):
        seen.append(sender)

    signals.request_finished.connect(finished)
    try:
        call("POST", "/e/", orjson.dumps({"api_key": project.team.api_token, "event": "a", "distinct_id": "d"}))
        call("PUT", "/e/")
    finally:
        signals.request_finished.disconnect(finished)
    assert len(seen) == 2


@pytest.mark.django_db
def test_query_is_read_as_django_reads_it(settings, project, queue):
    event = {"event": "a", "distinct_id": "d", "properties": {"city": "Zürich"}}
    data = quote(orjson.dumps(event).decode(), safe="")
    query = f"data={data}&api_key={project.team.api_token}&ip=198.51.100.7&ip=198.51.100.8"
    assert call("GET", "/e/", query=query)[0] == 200
    [queued_event] = queued(queue)
    assert queued_event.ip == "198.51.100.8"  # the last value, as QueryDict.dict()
    assert orjson.loads(queued_event.data)["properties"]["city"] == "Zürich"
    # raw UTF-8 in the query, handed over as PEP 3333 says (bytes as Latin-1 text), as granian does
    raw = f"data={orjson.dumps({**event, 'distinct_id': 'raw'}).decode()}&api_key={project.team.api_token}"
    assert call("GET", "/e/", query=raw.encode().decode("iso-8859-1"))[0] == 200
    assert orjson.loads(queued(queue)[-1].data)["properties"]["city"] == "Zürich"
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    status, _, content = call("GET", "/e/", query=query)
    assert status == 400 and orjson.loads(content)["code"] == "invalid_payload"
