"""The one CORS policy of the public SDK endpoints (capture, /flags, /decide, remote config, …).

PostHog's own services (the Rust capture and feature-flags routers) allow any caller with credentials: they
mirror the request's ``Origin`` and its ``Access-Control-Request-Headers``, allow credentials and the methods
GET, POST, OPTIONS. We do the same, plus three choices of ours that no browser can tell apart from it:

- no ``Origin`` (server SDKs, curl): ``Access-Control-Allow-Origin: *`` (without credentials);
- no ``Access-Control-Request-Headers``: a fixed list of the headers SDKs send (``DEFAULT_ALLOW_HEADERS``);
- a preflight (``OPTIONS``) may be cached for a day (``Access-Control-Max-Age``), so a browser sending
  ``application/json`` does not preflight every event.

``Vary: Origin`` is always added: the answer depends on the Origin, and remote config is publicly cacheable.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

ALLOW_METHODS = "GET, POST, OPTIONS"
DEFAULT_ALLOW_HEADERS = "Content-Type, Content-Encoding, Authorization, X-Requested-With"
PREFLIGHT_MAX_AGE = "86400"


def cors_headers(origin: str | None, requested_headers: str | None, method: str) -> list[tuple[str, str]]:
    """The CORS headers of an answer to a request from ``origin`` (any origin may call, with credentials)."""
    headers = (
        [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]
        if origin
        else [("Access-Control-Allow-Origin", "*")]
    )
    headers += [
        ("Vary", "Origin"),
        ("Access-Control-Allow-Methods", ALLOW_METHODS),
        ("Access-Control-Allow-Headers", requested_headers or DEFAULT_ALLOW_HEADERS),
    ]
    if method == "OPTIONS":
        headers.append(("Access-Control-Max-Age", PREFLIGHT_MAX_AGE))
    return headers


def with_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """``response`` with the CORS headers for ``request`` (``Origin`` added to any ``Vary`` it has)."""
    meta = request.META
    for name, value in cors_headers(
        meta.get("HTTP_ORIGIN"), meta.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"), request.method
    ):
        if name == "Vary":
            patch_vary_headers(response, (value,))
        else:
            response[name] = value
    return response
