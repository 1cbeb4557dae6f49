"""The public SDK endpoints: /flags, /decide and the remote config under /array/<token>/.

Plain Django views (no DRF): they are hit on every page load and must stay cheap. The project API
key (phc_) in the body selects the project; flag definitions come from the in-process cache.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from flags.cache import TokenTeam, team_flags_get, token_team_get
from flags.requests import FlagsRequest, FlagsRequestError, parse_flags_request
from flags.responses import decide_config, decide_flags, flags_legacy, flags_v2, minimal_config, remote_config
from flags.selectors import flags_evaluate
from posthog_clone.api.exceptions import error_body

CORS_METHODS = "GET, POST, OPTIONS"


def with_cors(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    """Mirror the Origin (with credentials) as PostHog does; any origin may call these endpoints."""
    origin = request.headers.get("Origin")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    else:
        response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = CORS_METHODS
    requested = request.headers.get("Access-Control-Request-Headers")
    response["Access-Control-Allow-Headers"] = requested or "Content-Type, Authorization"
    response["Access-Control-Max-Age"] = "86400"
    return response


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


def cors_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """csrf-exempt, CORS on every answer, OPTIONS → 204 and HEAD → 200 without a body."""

    @csrf_exempt
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            return with_cors(HttpResponse(status=204), request)
        if request.method == "HEAD":
            return with_cors(HttpResponse(status=200), request)
        if request.method not in ("GET", "POST"):
            body = error_body("invalid_request", "method_not_allowed", f'Method "{request.method}" not allowed.')
            return with_cors(json_response(body, status=405), request)
        return with_cors(view(request, *args, **kwargs), request)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _error(exc: FlagsRequestError) -> HttpResponse:
    return json_response(error_body(exc.error_type, exc.code, exc.detail), status=exc.status)


def _evaluate(parsed: FlagsRequest, team: TokenTeam) -> tuple[bool, dict[str, Any]]:
    """(whether the project has active flags, the results keyed by flag key)."""
    if parsed.disable_flags:
        return any(f.active for f in team_flags_get(team_id=team.id).flags), {}
    team_flags, results = flags_evaluate(
        team_id=team.id,
        distinct_id=parsed.distinct_id,
        person_properties=parsed.person_properties,
        groups=parsed.groups,
        group_properties=parsed.group_properties,
        device_id=parsed.device_id,
        only_keys=parsed.flag_keys,
    )
    return any(f.active for f in team_flags.flags), results


def _envelope(flags_part: dict[str, Any]) -> dict[str, Any]:
    return {
        **flags_part,
        "errorsWhileComputingFlags": False,
        "requestId": str(uuid.uuid4()),
        "evaluatedAt": int(time.time() * 1000),
    }


def _resolve(request: HttpRequest) -> tuple[FlagsRequest, TokenTeam]:
    parsed = parse_flags_request(request)
    team = token_team_get(token=parsed.token)
    if team is None:
        raise FlagsRequestError.unknown_token()
    return parsed, team


@cors_endpoint
def flags_view(request: HttpRequest) -> HttpResponse:
    """POST /flags: evaluate every flag for one distinct id. No `v` and no `config` means v=2 with config."""
    if request.method == "GET":
        return json_response(minimal_config())
    version_param, config_param = request.GET.get("v"), request.GET.get("config")
    try:
        parsed, team = _resolve(request)
    except FlagsRequestError as exc:
        return _error(exc)
    has_flags, results = _evaluate(parsed, team)
    if version_param is None and config_param is None:
        version, with_config = 2, True
    else:
        version, with_config = _int(version_param, default=1), (config_param or "").lower() in ("true", "1")
    body = _envelope(flags_v2(results) if version >= 2 else flags_legacy(results))
    if with_config:
        body = {**decide_config(token=team.api_token, has_feature_flags=has_flags), **body}
    return json_response(body)


@cors_endpoint
def decide_view(request: HttpRequest) -> HttpResponse:
    """POST /decide: config always, flags shaped by `v` (1 keys list, 2 map, 3 legacy, 4+ like /flags v2)."""
    if request.method == "GET":
        return json_response(minimal_config())
    try:
        parsed, team = _resolve(request)
    except FlagsRequestError as exc:
        return _error(exc)
    has_flags, results = _evaluate(parsed, team)
    flags_part = decide_flags(results, _int(request.GET.get("v"), default=1))
    body = {**decide_config(token=team.api_token, has_feature_flags=has_flags), **_envelope(flags_part)}
    return json_response(body)


def _int(value: str | None, *, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _remote_config_for(token: str) -> dict[str, Any] | None:
    team = token_team_get(token=token)
    if team is None:
        return None
    has_flags = any(f.active for f in team_flags_get(team_id=team.id).flags)
    return remote_config(token=team.api_token, has_feature_flags=has_flags)


REMOTE_CONFIG_MAX_AGE = 60


@cors_endpoint
def remote_config_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET /array/<token>/config: the remote config as JSON."""
    config = _remote_config_for(token)
    if config is None:
        return JsonResponse(error_body("invalid_request", "not_found", "Not found."), status=404)
    response = json_response(config)
    response["Cache-Control"] = f"public, max-age={REMOTE_CONFIG_MAX_AGE}"
    return response


@cors_endpoint
def remote_config_js_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET /array/<token>/config.js: a script registering the same config where posthog-js looks for it."""
    config = _remote_config_for(token)
    if config is None:
        return JsonResponse(error_body("invalid_request", "not_found", "Not found."), status=404)
    entry = orjson.dumps({"config": config, "siteApps": []}).decode()
    script = (
        "(function() {\n"
        "  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};\n"
        f"  window._POSTHOG_REMOTE_CONFIG[{orjson.dumps(token).decode()}] = {entry};\n"
        "})();\n"
    )
    response = HttpResponse(script, content_type="application/javascript")
    response["Cache-Control"] = f"public, max-age={REMOTE_CONFIG_MAX_AGE}"
    return response
