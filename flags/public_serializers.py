"""OpenAPI documentation of the public SDK endpoints (/flags, /decide, remote config).

The bodies are decoded by hand (JSON, gzip or a base64 form), so these serializers only describe them;
the responses depend on `v` and `config`, so they are documented as JSON schemas, not serializers.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class FlagsBodySerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Project API key (phc_). Aliases: `$token`, `api_key`.")
    distinct_id = serializers.CharField(help_text="Who to evaluate for (string or number). Alias: `$distinct_id`.")
    groups = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="Group type → group key, for group flags."
    )
    person_properties = serializers.DictField(
        required=False, help_text="Person properties; they override the stored ones."
    )
    group_properties = serializers.DictField(required=False, help_text="Group type → properties of that group.")
    flag_keys = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Only evaluate these flags."
    )
    disable_flags = serializers.BooleanField(required=False, help_text="Skip evaluation (config only).")
    device_id = serializers.CharField(required=False, help_text="`$device_id`, used by flags bucketing on the device.")


class FlagsQuerySerializer(serializers.Serializer):
    v = serializers.CharField(required=False, help_text="Response version: 1 legacy, 2+ `flags` with details.")
    config = serializers.CharField(required=False, help_text="`true` merges the remote config into the answer.")
    compression = serializers.CharField(required=False, help_text="Body compression hint (gzip, base64).")


_FLAG_DETAIL = {
    "type": "object",
    "properties": {
        "key": {"type": "string"},
        "enabled": {"type": "boolean"},
        "variant": {"type": "string", "nullable": True},
        "reason": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "condition_index": {"type": "integer", "nullable": True},
                "description": {"type": "string"},
            },
        },
        "metadata": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "version": {"type": "integer"},
                "description": {"type": "string", "nullable": True},
                "payload": {},
                "has_experiment": {"type": "boolean"},
            },
        },
    },
}

FLAGS_RESPONSE = OpenApiResponse(
    response={
        "type": "object",
        "description": "v≥2: `flags`; v=1: `featureFlags` and `featureFlagPayloads`; config fields when asked.",
        "properties": {
            "flags": {"type": "object", "additionalProperties": _FLAG_DETAIL},
            "featureFlags": {"type": "object", "additionalProperties": {}},
            "featureFlagPayloads": {"type": "object", "additionalProperties": {}},
            "errorsWhileComputingFlags": {"type": "boolean"},
            "requestId": {"type": "string", "format": "uuid"},
            "evaluatedAt": {"type": "integer"},
        },
        "additionalProperties": True,
    },
    description="Flag values for the distinct id.",
)

CONFIG_RESPONSE = OpenApiResponse(
    response={"type": "object", "additionalProperties": True},
    description="The remote config (supportedCompression, hasFeatureFlags, switched-off products…).",
)

SCRIPT_RESPONSE = OpenApiResponse(
    response={"type": "string"}, description="JavaScript that registers the remote config for posthog-js."
)

ERROR_RESPONSES = {
    400: OpenApiResponse(description="Missing distinct_id or an undecodable body."),
    401: OpenApiResponse(description="Missing or unknown project API key."),
    413: OpenApiResponse(description="The body is too large (as sent or once decompressed)."),
}
