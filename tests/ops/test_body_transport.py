"""A body the HTTP server cannot deliver (a chunk size that is not hex, a body cut short, a reset or timed-out
socket) is a 400 with PostHog's error body on every body-reading path, whatever exception the server raises:
the production WSGI entry point (posthog_clone.wsgi.application) called in process with an input stream
that fails as gunicorn's, the OS's or another server's would. The raw-socket fuzz against a real server is
tests/ops/test_transport_fuzz.py."""

from __future__ import annotations

import orjson
import pytest
from gunicorn.http.errors import InvalidChunkSize, NoMoreData

from posthog_clone.transport import BODY_UNREADABLE_DETAIL, BodyUnreadable, ClientInput
from tests.wsgi import wsgi_call

SDK_DETAIL = (
    "Malformed request data: the request body could not be read (it ended early or its chunked encoding is invalid)"
)
SDK_ERROR = {"type": "validation_error", "code": "invalid_payload", "detail": SDK_DETAIL, "attr": None}
API_ERROR = {"type": "invalid_request", "code": "parse_error", "detail": BODY_UNREADABLE_DETAIL, "attr": None}

FAILURES = {
    "gunicorn-invalid-chunk-size": lambda: InvalidChunkSize(b"ZZZ"),
    "gunicorn-no-more-data": lambda: NoMoreData(b""),
    "connection-reset": lambda: ConnectionResetError(104, "Connection reset by peer"),
    "socket-timeout": lambda: TimeoutError("timed out"),
    "another-server": lambda: RuntimeError("WSGI protocol failure"),
}


class FailingInput:
    """A server's wsgi.input that holds ``prefix`` and then fails: a read asking for more than is left
    raises, as a server's does when the rest of the body never arrives."""

    def __init__(self, prefix: bytes, failure: BaseException):
        self.prefix, self.failure = prefix, failure

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > len(self.prefix):
            raise self.failure
        taken, self.prefix = self.prefix[:size], self.prefix[size:]
        return taken

    def readline(self, size: int = -1) -> bytes:
        end = self.prefix.find(b"\n") + 1
        return self.read(end if end > 0 and (size < 0 or end <= size) else size)


def call(method: str, path: str, failure: BaseException, *, chunked: bool, query: str = "", **headers: str):
    framing = {"CONTENT_LENGTH": "", "wsgi.input_terminated": True} if chunked else {"CONTENT_LENGTH": "64"}
    stream = FailingInput(b'{"event":"x"', failure)
    status, response_headers, content = wsgi_call(
        method, path, query=query, **framing, **{"wsgi.input": stream}, **headers
    )
    assert response_headers.get("Content-Type", "").startswith("application/json"), (status, content[:300])
    return status, orjson.loads(content)


@pytest.mark.django_db
@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("path", ["/batch/", "/e/", "/i/v0/e/", "/capture/", "/engage/", "/track"])
def test_capture_answers_400_invalid_payload(project, queue, path, chunked, failure):
    assert call("POST", path, FAILURES[failure](), chunked=chunked) == (400, SDK_ERROR)
    assert queue.all_events() == []


@pytest.mark.django_db
@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
@pytest.mark.parametrize(("path", "query"), [("/flags/", "v=2"), ("/decide/", "v=3"), ("/flags", "")])
def test_flags_and_decide_answer_400_invalid_payload(project, path, query, failure):
    status, body = call("POST", path, FAILURES[failure](), chunked=False, query=query)
    assert (status, body) == (400, SDK_ERROR)


@pytest.mark.django_db
@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
@pytest.mark.parametrize("resource", ["annotations/", "query/", "feature_flags/", "cohorts/", "actions/"])
def test_api_parsers_answer_400_parse_error(project, resource, failure):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {project.key_value}"}
    path = f"/api/projects/{project.team.pk}/{resource}"
    assert call("POST", path, FAILURES[failure](), chunked=False, **auth) == (400, API_ERROR)


@pytest.mark.django_db
def test_api_multipart_upload_answers_400_parse_error(project):
    """Django's multipart parser (a cohort's CSV upload) reads through the same guarded stream."""
    auth = {"HTTP_AUTHORIZATION": f"Bearer {project.key_value}"}
    status, body = call(
        "POST",
        f"/api/projects/{project.team.pk}/cohorts/",
        NoMoreData(b""),
        chunked=False,
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
        **auth,
    )
    assert (status, body) == (400, API_ERROR)


@pytest.mark.django_db
def test_a_plain_django_400_is_posthogs_json_error_body():
    status, _, content = wsgi_call("GET", "/api/users/@me/", HTTP_HOST="evil.example")
    assert (status, orjson.loads(content)) == (
        400,
        {"type": "invalid_request", "code": "bad_request", "detail": "Bad request.", "attr": None},
    )


def test_client_input_turns_any_read_failure_into_body_unreadable_and_passes_reads_through():
    stream = ClientInput(FailingInput(b"abc\ndef", InvalidChunkSize(b"ZZZ")))
    assert stream.read(2) == b"ab"
    assert stream.readline(2) == b"c\n"
    with pytest.raises(BodyUnreadable) as caught:
        stream.read(10)
    assert isinstance(caught.value, OSError) and str(caught.value) == BODY_UNREADABLE_DETAIL
    assert isinstance(caught.value.__cause__, InvalidChunkSize)
