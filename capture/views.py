"""The capture endpoints (/e, /i/v0/e, /capture, /track, /engage, /batch): plain Django views for speed.

Read the body under the path's size limit, hand it to ``capture_request_ingest``, answer PostHog's
`{"status": 1}` or its `{type, code, detail, attr}` error, with CORS for any origin.
"""

from __future__ import annotations

import orjson
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from capture.errors import CaptureError, too_large
from capture.services import body_limit, capture_request_ingest, client_ip_resolve

_OK = orjson.dumps({"status": 1})
_DEFAULT_ALLOWED_HEADERS = "Content-Type, Content-Encoding, Authorization, X-Requested-With"


@csrf_exempt
def capture_view(request: HttpRequest, kind: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _with_cors(request, HttpResponse(_OK, content_type="application/json"))
    if request.method not in ("GET", "POST"):
        error = CaptureError(405, "invalid_request", "method_not_allowed", f'Method "{request.method}" not allowed.')
        return _error(request, error)
    try:
        body = _read_body(request, body_limit(kind))
        capture_request_ingest(
            kind=kind,
            body=body,
            query=request.GET.dict(),
            content_type=request.META.get("CONTENT_TYPE", ""),
            content_encoding=request.META.get("HTTP_CONTENT_ENCODING", ""),
            ip=client_ip_resolve(
                query_ip=request.GET.get("ip"),
                forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR"),
                peer=request.META.get("REMOTE_ADDR"),
            ),
        )
    except CaptureError as error:
        return _error(request, error)
    return _with_cors(request, HttpResponse(_OK, content_type="application/json"))


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """The body, refused with 413 past ``limit`` without reading it all (never Django's RequestDataTooBig).

    A chunked body (no Content-Length) is read from the server's terminated input stream, also capped.
    """
    if request.method != "POST":
        return b""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large()
    if not declared and request.META.get("wsgi.input_terminated"):
        body = request.META["wsgi.input"].read(limit + 1)
    else:
        body = request.read(limit + 1)
    if len(body) > limit:
        raise too_large()
    return body


def _error(request: HttpRequest, error: CaptureError) -> HttpResponse:
    response = HttpResponse(orjson.dumps(error.body()), status=error.status, content_type="application/json")
    return _with_cors(request, response)


def _with_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.META.get("HTTP_ORIGIN")
    response["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = (
        request.META.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or _DEFAULT_ALLOWED_HEADERS
    )
    if request.method == "OPTIONS":
        response["Access-Control-Max-Age"] = "86400"
    return response
