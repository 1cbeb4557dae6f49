"""Request and response helpers of the public SDK endpoints written as Django views: JSON answers and the
decoded body of a Django request. (The WSGI-native ones are ``posthog_clone.sdk.native``'s.)
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, UnreadablePostError

from posthog_clone.sdk.decoding import DecodedRequest, decode_request
from posthog_clone.sdk.errors import unreadable_body


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


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
