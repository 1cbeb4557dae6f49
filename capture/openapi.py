"""The capture endpoints in /api/schema/, described by hand (WSGI-native handlers in front of Django, not DRF views).

Registered as a drf-spectacular postprocessing hook in SPECTACULAR_SETTINGS. Mirrors what PostHog's
capture spec documents: JSON, urlencoded-form and text/plain bodies, the `ip` and `compression` query
parameters, and the 200/400/401/413/503 bodies.
"""

from __future__ import annotations

from typing import Any

from posthog_clone.api.schema import RETRY_AFTER, error_response

TAG = "Capture"
PATHS = {
    "/e/": ("capture_e", "Capture events (legacy path used by posthog-js)"),
    "/i/v0/e/": ("capture_i_v0_e", "Capture events"),
    "/capture/": ("capture_capture", "Capture events (legacy alias)"),
    "/track/": ("capture_track", "Capture events (legacy alias)"),
    "/engage/": ("capture_engage", "Capture person updates (a body without `event` becomes `$identify`)"),
    "/batch/": ("capture_batch", "Capture a batch of events (server-side SDKs)"),
    "/s/": (
        "capture_s",
        "Capture session replay snapshots (`$snapshot` events: `$session_id`, `$window_id`, `$snapshot_data`)",
    ),
}
DESCRIPTION = (
    "Send one event, an array of events, or a batch `{api_key, batch, sent_at, historical_migration}`. "
    "The project API key (`phc_...`) goes in the body (`api_key`, `token`, `$token` or "
    "`properties.token`), not in a header. Bodies may be gzip (`Content-Encoding: gzip`, "
    "`compression=gzip|gzip-js`, or detected by its magic bytes), lz-string (`compression=lz64`), "
    "base64, or an LZ4 frame (`compression=lz4`). The whole request fails if one event is invalid. "
    "A 200 means the events are durably queued. Limits: 20 MB per request on /batch/, 25 MB on /s/, 2 MB "
    "elsewhere, about 1 MB per event (not on /s/)."
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = {
    "CaptureEvent": {
        "type": "object",
        "description": "One event. Unknown top-level fields are ignored.",
        "properties": {
            "event": {"type": "string", "description": "Event name, e.g. `$pageview`."},
            "distinct_id": {
                "description": "The person's id (non-strings are stored as their JSON text, cut to 200 "
                "characters). May also be sent as `$distinct_id` or `properties.distinct_id`."
            },
            "properties": {"type": "object", "additionalProperties": True, "description": "Event properties."},
            "uuid": {"type": "string", "format": "uuid", "description": "Event id; generated (UUIDv7) if absent."},
            "timestamp": {"type": "string", "description": "When the event happened (ISO 8601)."},
            "offset": {"type": "integer", "description": "Milliseconds before the request was sent."},
            "api_key": {"type": "string", "description": "Project API key (also `token` / `$token`)."},
            "$set": {"type": "object", "additionalProperties": True, "description": "Person properties to set."},
            "$set_once": {
                "type": "object",
                "additionalProperties": True,
                "description": "Person properties to set if not set yet.",
            },
        },
        "required": ["event"],
    },
    "CaptureBatch": {
        "type": "object",
        "description": "What posthog-python and posthog-node send to /batch/.",
        "properties": {
            "api_key": {"type": "string", "description": "Project API key (or `token`)."},
            "batch": {"type": "array", "items": _ref("CaptureEvent")},
            "sent_at": {"type": "string", "format": "date-time", "description": "When the client sent it."},
            "historical_migration": {"type": "boolean", "description": "Events imported from another system."},
        },
        "required": ["batch"],
    },
    "CaptureRequest": {
        "oneOf": [_ref("CaptureEvent"), {"type": "array", "items": _ref("CaptureEvent")}, _ref("CaptureBatch")],
    },
    "CaptureFormRequest": {
        "type": "object",
        "properties": {
            "data": {"type": "string", "description": "The JSON payload, optionally base64 or lz-string encoded."},
            "compression": {"type": "string", "description": "`base64`, `lz64`, `gzip-js`…"},
        },
        "required": ["data"],
    },
    "CaptureSuccess": {
        "type": "object",
        "properties": {"status": {"type": "integer", "minimum": 0, "maximum": 1, "description": "Always 1."}},
        "required": ["status"],
    },
}

PARAMETERS = [
    {
        "name": "compression",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["gzip", "gzip-js", "lz64", "lz-string", "base64", "b64", "lz4"]},
        "description": "How the body is encoded (gzip is also detected by its magic bytes).",
    },
    {
        "name": "ip",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "Client IP address to record instead of the connection's (must be an IP address).",
    },
    {
        "name": "_",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "Client send time in milliseconds since the epoch (used when the body has no sent_at).",
    },
]


def _operation(operation_id: str, summary: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{operation_id}_{method}",
        "summary": summary,
        "description": DESCRIPTION,
        "tags": [TAG],
        "security": [],
        "x-public": True,
        "parameters": list(PARAMETERS),
        "responses": {
            "200": {
                "description": "Events durably queued.",
                "content": {"application/json": {"schema": _ref("CaptureSuccess")}},
            },
            "400": error_response("Malformed payload (bad JSON, compression, event fields)."),
            "401": error_response("Missing, malformed or unknown project API key."),
            "413": error_response("Request or event too large."),
            "503": error_response(
                "The events could not be stored (nothing was kept); retry after `Retry-After` seconds.", RETRY_AFTER
            ),
        },
    }
    if method == "post":
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": _ref("CaptureRequest")},
                "application/x-www-form-urlencoded": {"schema": _ref("CaptureFormRequest")},
                "text/plain": {"schema": {"type": "string", "description": "JSON text, gzip, base64 or lz64."}},
            },
        }
    else:
        operation["parameters"] = [
            *operation["parameters"],
            {
                "name": "data",
                "in": "query",
                "required": True,
                "schema": {"type": "string"},
                "description": "The JSON payload (optionally base64 or lz-string) for GET/pixel clients.",
            },
        ]
    return operation


def add_capture_paths(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the capture paths and their component schemas."""
    paths = result.setdefault("paths", {})
    for path, (operation_id, summary) in PATHS.items():
        paths[path] = {
            "get": _operation(operation_id, summary, "get"),
            "post": _operation(operation_id, summary, "post"),
        }
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(SCHEMAS)
    tags = result.setdefault("tags", [])
    if not any(tag.get("name") == TAG for tag in tags):
        tags.append({"name": TAG, "description": "Event ingestion endpoints used by the PostHog SDKs."})
    return result
