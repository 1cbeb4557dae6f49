"""The capture endpoints (/e, /i/v0/e, /capture, /track, /engage, /batch, /s): WSGI-native handlers.

They are fast paths (``capture/apps.py``): ``posthog_clone.sdk.native.public_wsgi_app`` runs them on the WSGI
environ, without Django's request, response or middleware objects, and adds the signals, ALLOWED_HOSTS, CORS,
security headers, metrics and PostHog's error body. Read the body under the path's size limit, hand it to
``capture_request_ingest``, answer PostHog's `{"status": 1}`.
"""

from __future__ import annotations

import orjson

from capture.services import body_limit, capture_request_ingest, client_ip_resolve
from posthog_clone.sdk.errors import method_not_allowed
from posthog_clone.sdk.native import PublicRequest, PublicResponse

_OK = orjson.dumps({"status": 1})


def capture(request: PublicRequest, kind: str) -> PublicResponse:
    if request.method == "OPTIONS":
        return PublicResponse(_OK)
    if request.method not in ("GET", "POST"):
        raise method_not_allowed(request.method)
    body = request.read_body(body_limit(kind))
    query = request.query
    capture_request_ingest(
        kind=kind,
        body=body,
        query=query,
        content_type=request.meta("CONTENT_TYPE"),
        content_encoding=request.meta("HTTP_CONTENT_ENCODING"),
        ip=client_ip_resolve(
            query_ip=query.get("ip"),
            forwarded_for=request.meta("HTTP_X_FORWARDED_FOR") or None,
            peer=request.meta("REMOTE_ADDR") or None,
        ),
        user_agent=request.meta("HTTP_USER_AGENT"),
    )
    return PublicResponse(_OK)
