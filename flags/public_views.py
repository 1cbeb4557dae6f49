"""The public SDK endpoints: /flags, /decide and the remote config under /array/<token>/.

Thin DRF views without authentication, throttling or body parsing (they are hit on every page load):
the project API key (phc_) in the body selects the project; flag definitions come from the in-process
cache; bodies are decoded by hand (JSON, gzip, base64 form) because posthog-js sends gzip as text/plain.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from capture.tokens import team_id_for_token
from flags.cache import team_flags_get
from flags.public_serializers import (
    CONFIG_RESPONSE,
    ERROR_RESPONSES,
    FLAGS_RESPONSE,
    SCRIPT_RESPONSE,
    FlagsBodySerializer,
    FlagsQuerySerializer,
)
from flags.requests import FlagsRequest, FlagsRequestError, parse_flags_request
from flags.responses import decide_config, decide_flags, flags_legacy, flags_v2, minimal_config, remote_config
from flags.selectors import flags_evaluate
from posthog_clone.api.exceptions import error_body
from posthog_clone.api.validation import validated_request

CORS_METHODS = "GET, POST, OPTIONS"
PUBLIC = {"x-public": True}


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


class AnyAccept(BaseContentNegotiation):
    """Answer whatever the client's Accept says: these endpoints have one representation each."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple:
        return renderers[0], renderers[0].media_type


class PublicSDKView(APIView):
    """No credentials, no throttling, CORS on every answer, OPTIONS → 204, HEAD → 200 without a body."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    content_negotiation_class = AnyAccept
    openapi_tag = "Feature flags"

    def options(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(status=204)

    def head(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(status=200)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        return with_cors(response, request)


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


def _error(exc: FlagsRequestError) -> HttpResponse:
    return json_response(error_body(exc.error_type, exc.code, exc.detail), status=exc.status)


def _evaluate(parsed: FlagsRequest, team_id: int) -> tuple[bool, dict[str, Any]]:
    """(whether the project has active flags, the results keyed by flag key)."""
    if parsed.disable_flags:
        return any(f.active for f in team_flags_get(team_id=team_id).flags), {}
    team_flags, results = flags_evaluate(
        team_id=team_id,
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


def _resolve(request: HttpRequest) -> tuple[FlagsRequest, int]:
    """The request and its project id (capture's in-process token cache)."""
    parsed = parse_flags_request(request)
    team_id = team_id_for_token(parsed.token)
    if team_id is None:
        raise FlagsRequestError.unknown_token()
    return parsed, team_id


def _flags_answer(request: HttpRequest) -> HttpResponse:
    """No `v` and no `config` means v=2 with config; v=1 (or only `config`) the legacy shape."""
    version_param, config_param = request.GET.get("v"), request.GET.get("config")
    try:
        parsed, team_id = _resolve(request)
    except FlagsRequestError as exc:
        return _error(exc)
    has_flags, results = _evaluate(parsed, team_id)
    if version_param is None and config_param is None:
        version, with_config = 2, True
    else:
        version, with_config = _int(version_param, default=1), (config_param or "").lower() in ("true", "1")
    body = _envelope(flags_v2(results) if version >= 2 else flags_legacy(results))
    if with_config:
        body = {**decide_config(token=parsed.token, has_feature_flags=has_flags), **body}
    return json_response(body)


def _decide_answer(request: HttpRequest) -> HttpResponse:
    """Config always; flags shaped by `v` (1 keys list, 2 map, 3 legacy, 4+ like /flags v2)."""
    try:
        parsed, team_id = _resolve(request)
    except FlagsRequestError as exc:
        return _error(exc)
    has_flags, results = _evaluate(parsed, team_id)
    flags_part = decide_flags(results, _int(request.GET.get("v"), default=1))
    body = {**decide_config(token=parsed.token, has_feature_flags=has_flags), **_envelope(flags_part)}
    return json_response(body)


def _int(value: str | None, *, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _remote_config_for(token: str) -> dict[str, Any] | None:
    team_id = team_id_for_token(token)
    if team_id is None:
        return None
    has_flags = any(f.active for f in team_flags_get(team_id=team_id).flags)
    return remote_config(token=token, has_feature_flags=has_flags)


def _cacheable(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={REMOTE_CONFIG_MAX_AGE}"
    return response


REMOTE_CONFIG_MAX_AGE = 60
NOT_FOUND = error_body("invalid_request", "not_found", "Not found.")
CONFIG_SUMMARY = "Minimal config (no evaluation)"


class FlagsView(PublicSDKView):
    @validated_request(query=FlagsQuerySerializer, responses={200: CONFIG_RESPONSE}, summary=CONFIG_SUMMARY)
    @extend_schema(operation_id="flags_config_retrieve", extensions=PUBLIC, auth=[])
    def get(self, request: Request) -> HttpResponse:
        return json_response(minimal_config())

    @extend_schema(request=FlagsBodySerializer, extensions=PUBLIC, auth=[])
    @validated_request(
        query=FlagsQuerySerializer,
        responses={200: FLAGS_RESPONSE, **ERROR_RESPONSES},
        summary="Evaluate feature flags",
        description="What SDKs call: every flag of the token's project for one distinct id. Bodies may be "
        "JSON, gzip (any content type) or a base64 `data=` form.",
    )
    def post(self, request: Request) -> HttpResponse:
        return _flags_answer(request._request)


class DecideView(PublicSDKView):
    @validated_request(query=FlagsQuerySerializer, responses={200: CONFIG_RESPONSE}, summary=CONFIG_SUMMARY)
    @extend_schema(operation_id="decide_config_retrieve", extensions=PUBLIC, auth=[])
    def get(self, request: Request) -> HttpResponse:
        return json_response(minimal_config())

    @extend_schema(request=FlagsBodySerializer, extensions=PUBLIC, auth=[])
    @validated_request(
        query=FlagsQuerySerializer,
        responses={200: FLAGS_RESPONSE, **ERROR_RESPONSES},
        summary="Legacy flags and config (/decide)",
        description="Config always; `featureFlags` as a list (v1), a map (v2), the legacy map with payloads "
        "(v3), or /flags' v2 `flags` (v4+).",
    )
    def post(self, request: Request) -> HttpResponse:
        return _decide_answer(request._request)


class RemoteConfigView(PublicSDKView):
    @validated_request(
        responses={200: CONFIG_RESPONSE, 404: None},
        summary="Remote config (JSON)",
        description="posthog-js's start-up config for the project of `token`; cacheable. Unknown token: 404.",
    )
    @extend_schema(extensions=PUBLIC, auth=[])
    def get(self, request: Request, token: str) -> HttpResponse:
        config = _remote_config_for(token)
        if config is None:
            return json_response(NOT_FOUND, status=404)
        return _cacheable(json_response(config))


class RemoteConfigScriptView(PublicSDKView):
    @validated_request(
        responses={200: SCRIPT_RESPONSE, 404: None},
        summary="Remote config (script)",
        description="A script setting `window._POSTHOG_REMOTE_CONFIG[token] = {config, siteApps}`, which "
        "posthog-js loads on init.",
    )
    @extend_schema(operation_id="array_config_js_retrieve", extensions=PUBLIC, auth=[])
    def get(self, request: Request, token: str) -> HttpResponse:
        config = _remote_config_for(token)
        if config is None:
            return json_response(NOT_FOUND, status=404)
        entry = orjson.dumps({"config": config, "siteApps": []}).decode()
        script = (
            "(function() {\n"
            "  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};\n"
            f"  window._POSTHOG_REMOTE_CONFIG[{orjson.dumps(token).decode()}] = {entry};\n"
            "})();\n"
        )
        return _cacheable(HttpResponse(script, content_type="application/javascript"))
