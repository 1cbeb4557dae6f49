"""The capture endpoints (/e, /i/v0/e, /capture, /track, /engage, /batch): plain Django views for speed.

Read the body under the path's size limit, hand it to ``capture_request_ingest``, answer PostHog's
`{"status": 1}`; errors, CSRF exemption and CORS are the shared public-endpoint wrapper's
(``posthog_clone.sdk.http.public_endpoint``).
"""

from __future__ import annotations

import orjson
from django.http import HttpRequest, HttpResponse

from capture.services import body_limit, capture_request_ingest, client_ip_resolve
from posthog_clone.sdk.errors import method_not_allowed
from posthog_clone.sdk.http import public_endpoint, read_body

_OK = orjson.dumps({"status": 1})


@public_endpoint
def capture_view(request: HttpRequest, kind: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return HttpResponse(_OK, content_type="application/json")
    if request.method not in ("GET", "POST"):
        raise method_not_allowed(request.method)
    capture_request_ingest(
        kind=kind,
        body=read_body(request, body_limit(kind)),
        query=request.GET.dict(),
        content_type=request.META.get("CONTENT_TYPE", ""),
        content_encoding=request.META.get("HTTP_CONTENT_ENCODING", ""),
        ip=client_ip_resolve(
            query_ip=request.GET.get("ip"),
            forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR"),
            peer=request.META.get("REMOTE_ADDR"),
        ),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    return HttpResponse(_OK, content_type="application/json")
