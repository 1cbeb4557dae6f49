"""GET /static/<name>: posthog-js's own files, as PostHog's asset host serves them to websites.

Caching: the HTML snippet asks for ``/static/array.js`` with no version in the URL, and an upgrade of this
server changes what that URL holds, so unversioned requests may be cached for an hour only (then revalidated
cheaply with the ETag); a stale array.js would otherwise keep asking for lazy bundles of an older version for
as long as it is cached. posthog-js asks for its lazy bundles with ``?v=<its version>``: when that is the
pinned version the URL names these exact bytes, so they are cached for a year as immutable; any other ``v``
gets this release's file (the best there is) under the short policy.

GET /static/<version>/<name>: posthog-js's default (`strict_script_versioning: "fallback"`) asks for its lazy
bundles by versioned path first, then falls back to ``/static/<name>?v=``. The pinned version is served (for a
year, immutable); another version is a 404 with CORS, so the browser sees the answer and posthog-js falls back.
"""

from __future__ import annotations

import logging
import time

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views.decorators.http import require_safe

from posthog_clone.api.exceptions import error_body
from sdk_assets.fetch import Release
from sdk_assets.selectors import Asset, ReleaseMissing, asset_get, release_dir

logger = logging.getLogger(__name__)

SHORT_CACHE = "public, max-age=3600"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
MISSING_LOG_INTERVAL_S = 60.0
_last_missing_log = 0.0


def _not_found() -> JsonResponse:
    response = JsonResponse(error_body("invalid_request", "not_found", "Not found."), status=404)
    _cors(response)
    response["Cache-Control"] = "no-store"
    return response


def _cors(response: HttpResponseBase) -> None:
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"


def _log_release_missing(path: str) -> None:
    """One warning a minute per process: every page load of every site would ask again."""
    global _last_missing_log
    now = time.monotonic()
    if now - _last_missing_log >= MISSING_LOG_INTERVAL_S:
        _last_missing_log = now
        logger.warning(
            "posthog-js assets are not installed, answering 404: run `manage.py fetch_sdk_assets`",
            extra={"path": path, "release": Release().dirname, "directory": str(release_dir())},
        )


@require_safe
def sdk_versioned_asset(request: HttpRequest, version: str, name: str) -> HttpResponseBase:
    if version != Release().version:
        return _not_found()
    return sdk_asset(request, name, immutable=True)


@require_safe
def sdk_asset(request: HttpRequest, name: str, *, immutable: bool = False) -> HttpResponseBase:
    try:
        asset = asset_get(name)
    except ReleaseMissing:
        _log_release_missing(request.path)
        return _not_found()
    if asset is None:
        logger.info("unknown posthog-js asset requested", extra={"path": request.path})
        return _not_found()
    return _asset_response(request, asset, immutable=immutable or request.GET.get("v") == Release().version)


def _asset_response(request: HttpRequest, asset: Asset, *, immutable: bool) -> HttpResponse:
    use_gzip = asset.gzip_body is not None and _accepts_gzip(request.headers.get("Accept-Encoding", ""))
    tags = _etags(request.headers.get("If-None-Match", ""))
    if "*" in tags or asset.etag in tags:
        response = HttpResponse(status=304)
    else:
        body = asset.gzip_body if use_gzip and asset.gzip_body is not None else asset.body
        response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=asset.content_type)
        response["Content-Length"] = str(len(body))
        if use_gzip:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = asset.etag
    response["Vary"] = "Accept-Encoding"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = IMMUTABLE_CACHE if immutable else SHORT_CACHE
    _cors(response)
    return response


def _etags(header: str) -> set[str]:
    """If-None-Match tags, compared weakly (as W/ tags); ``*`` stays as it is."""
    tags = {tag.strip() for tag in header.split(",") if tag.strip()}
    return {tag if tag.startswith("W/") or tag == "*" else f"W/{tag}" for tag in tags}


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, *params = (piece.strip() for piece in part.split(";"))
        if coding.lower() in ("gzip", "*"):
            q = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False
