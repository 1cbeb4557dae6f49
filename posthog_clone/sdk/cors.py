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


def with_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """``response`` with the CORS headers for ``request`` (any origin may call, with credentials)."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
    else:
        response["Access-Control-Allow-Origin"] = "*"
    patch_vary_headers(response, ("Origin",))
    response["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response["Access-Control-Allow-Headers"] = (
        request.META.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or DEFAULT_ALLOW_HEADERS
    )
    if request.method == "OPTIONS":
        response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response
