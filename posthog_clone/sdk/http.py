"""Request and response helpers of the public SDK endpoints: JSON answers, error answers (with CORS), the
body under a size limit, and the decoded body of a Django request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.views.decorators.csrf import csrf_exempt

from posthog_clone.sdk.cors import with_cors
from posthog_clone.sdk.decoding import DecodedRequest, decode_request
from posthog_clone.sdk.errors import SDKError, too_large, unreadable_body


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


def error_response(request: HttpRequest, error: SDKError) -> HttpResponse:
    """PostHog's `{type, code, detail, attr}` body with the error's status (and `Retry-After` when it has one),
    and CORS."""
    response = json_response(error.body(), status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return with_cors(request, response)


def public_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A plain Django view as a public SDK endpoint: no CSRF, an SDKError it raises becomes its error answer,
    and every answer carries CORS."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except SDKError as error:
            return error_response(request, error)
        return with_cors(request, response)

    return wrapped


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The body of a POST (b"" otherwise), refused with 413 past ``limit`` without reading it all (never
    Django's RequestDataTooBig). A chunked body (no Content-Length) is read from the server's terminated
    input stream, also capped. A body the server cannot deliver (bad chunking, cut short) is a 400."""
    if request.method != "POST":
        return b""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large()
    try:
        if not declared and request.META.get("wsgi.input_terminated"):
            body = request.META["wsgi.input"].read(limit + 1)
        else:
            body = request.read(limit + 1)
    except UnreadablePostError:  # posthog_clone.transport's BodyUnreadable, whatever the server raised
        raise unreadable_body() from None
    if len(body) > limit:
        raise too_large()
    return body


def request_decode(request: HttpRequest, *, legacy: bool = False) -> DecodedRequest:
    """The decoded body of ``request`` (JSON, gzip, lz64, base64, a `data=` form, the query's `data`…), see
    ``posthog_clone.sdk.decoding``. Raises SDKError (400 / 413)."""
    try:
        body = request.body
    except UnreadablePostError:
        raise unreadable_body() from None
    return decode_request(
        body=body,
        query=request.GET,
        form=None,
        content_type=request.content_type or "",
        content_encoding=request.headers.get("Content-Encoding", ""),
        legacy=legacy,
        max_bytes=settings.CAPTURE_MAX_DECOMPRESSED_BYTES,
    )
