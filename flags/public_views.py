"""The public SDK endpoints: /flags, /decide and the remote config under /array/<token>/.

Thin DRF views on the shared public-endpoint base (``posthog_clone.sdk.views.PublicSDKView``: no
authentication, throttling or body parsing, CORS on every answer; they are hit on every page load): the
project API key (phc_) in the body selects the project; flag definitions come from the in-process cache.
/flags and /decide share one answer builder (``_flags_answer``) and differ only in the shape of its flags part.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from flags.cache import team_flags_get
from flags.public_serializers import (
    CONFIG_RESPONSE,
    ERROR_RESPONSES,
    FLAGS_RESPONSE,
    SCRIPT_RESPONSE,
    FlagsBodySerializer,
    FlagsQuerySerializer,
)
from flags.requests import FlagsRequest, parse_flags_request, unknown_token
from flags.responses import Shape, decide_config, decide_shape, flags_shape, minimal_config, remote_config
from flags.selectors import flags_evaluate
from posthog_clone.api.exceptions import error_body
from posthog_clone.api.validation import validated_request
from posthog_clone.registry import remote_config_parts as app_parts
from posthog_clone.sdk.http import json_response
from posthog_clone.sdk.tokens import team_for_token
from posthog_clone.sdk.views import PublicSDKView

PUBLIC = {"x-public": True}
REMOTE_CONFIG_MAX_AGE = 60
NOT_FOUND = error_body("invalid_request", "not_found", "Not found.")
CONFIG_SUMMARY = "Minimal config (no evaluation)"


def _flags_answer(request: HttpRequest, shape: Shape) -> HttpResponse:
    """Resolve the token, evaluate, and answer in ``shape`` (raises SDKError for a bad request or token)."""
    parsed = parse_flags_request(request)
    team = team_for_token(parsed.token)
    if team is None:
        raise unknown_token()
    has_flags, results = _evaluate(parsed, team.pk)
    flags_part, with_config = shape(results, request.GET.get("v"), request.GET.get("config"))
    body = {
        **flags_part,
        "errorsWhileComputingFlags": False,
        "requestId": str(uuid.uuid4()),
        "evaluatedAt": int(time.time() * 1000),
    }
    if with_config:
        body = {
            **decide_config(team=team, has_feature_flags=has_flags, headers=request.headers),
            **app_parts(team.pk),
            **body,
        }
    return json_response(body)


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


def _remote_config_for(token: str, request: Request) -> dict[str, Any] | None:
    team = team_for_token(token)
    if team is None:
        return None
    has_flags = any(f.active for f in team_flags_get(team_id=team.pk).flags)
    return {**remote_config(team=team, has_feature_flags=has_flags, headers=request.headers), **app_parts(team.pk)}


def _cacheable(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={REMOTE_CONFIG_MAX_AGE}"
    return response


class FlagsPublicView(PublicSDKView):
    openapi_tag = "Feature flags"


class FlagsView(FlagsPublicView):
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
        return _flags_answer(request._request, flags_shape)


class DecideView(FlagsPublicView):
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
        return _flags_answer(request._request, decide_shape)


class RemoteConfigView(FlagsPublicView):
    @validated_request(
        responses={200: CONFIG_RESPONSE, 404: None},
        summary="Remote config (JSON)",
        description="posthog-js's start-up config for the project of `token`; cacheable. Unknown token: 404.",
    )
    @extend_schema(extensions=PUBLIC, auth=[])
    def get(self, request: Request, token: str) -> HttpResponse:
        config = _remote_config_for(token, request)
        if config is None:
            return json_response(NOT_FOUND, status=404)
        return _cacheable(json_response(config))


class RemoteConfigScriptView(FlagsPublicView):
    @validated_request(
        responses={200: SCRIPT_RESPONSE, 404: None},
        summary="Remote config (script)",
        description="A script setting `window._POSTHOG_REMOTE_CONFIG[token] = {config, siteApps}`, which "
        "posthog-js loads on init.",
    )
    @extend_schema(operation_id="array_config_js_retrieve", extensions=PUBLIC, auth=[])
    def get(self, request: Request, token: str) -> HttpResponse:
        config = _remote_config_for(token, request)
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
