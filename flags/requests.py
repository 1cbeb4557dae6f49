"""Reading a /flags or /decide request: decode the body (the SDK endpoints' decoder), then pick out the fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from posthog_clone.sdk.errors import SDKError, invalid_token, malformed, missing_api_key
from posthog_clone.sdk.http import request_decode

MAX_DISTINCT_ID_CHARS = 200


def missing_distinct_id() -> SDKError:
    return SDKError(400, "validation_error", "missing_distinct_id", "The distinct_id field is required.")


def unknown_token() -> SDKError:
    """/flags and /decide name an unknown project API key `invalid_api_key` (capture: `invalid_token`)."""
    return invalid_token(code="invalid_api_key")


@dataclass(frozen=True)
class FlagsRequest:
    token: str
    distinct_id: str
    groups: dict[str, str] = field(default_factory=dict)
    person_properties: dict[str, Any] = field(default_factory=dict)
    group_properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    device_id: str | None = None
    flag_keys: list[str] | None = None
    disable_flags: bool = False


def _first(payload: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = payload.get(name)
        if value is not None and value != "":
            return value
    return None


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _distinct_id(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)):
        text = json.dumps(value)
    else:
        return None
    return text[:MAX_DISTINCT_ID_CHARS] if text.strip() else None


def flags_request_from_payload(payload: Any, query: Mapping[str, str]) -> FlagsRequest:
    """Pure: the decoded body (and query string) → a FlagsRequest, or an SDKError."""
    if not isinstance(payload, dict):
        raise malformed("the body must be a JSON object")
    token = _first(payload, "token", "$token", "api_key") or query.get("token") or query.get("api_key")
    if not isinstance(token, str) or not token.strip():
        raise missing_api_key()
    distinct_id = _distinct_id(_first(payload, "distinct_id", "$distinct_id"))
    if distinct_id is None:
        raise missing_distinct_id()
    groups = {str(k): str(v) for k, v in _dict(payload.get("groups")).items() if v is not None}
    group_properties = {str(k): _dict(v) for k, v in _dict(payload.get("group_properties")).items()}
    flag_keys = payload.get("flag_keys")
    device_id = _first(payload, "$device_id", "device_id")
    return FlagsRequest(
        token=token.strip(),
        distinct_id=distinct_id,
        groups=groups,
        person_properties=_dict(payload.get("person_properties")),
        group_properties=group_properties,
        device_id=str(device_id) if device_id is not None else None,
        flag_keys=[str(k) for k in flag_keys] if isinstance(flag_keys, list) else None,
        disable_flags=payload.get("disable_flags") is True,
    )


def decode_flags_body(request: HttpRequest) -> Any:
    """JSON, gzip (hinted or by magic bytes, any content type), base64, lz64 or a `data=` form: the decoder of
    every SDK endpoint (capture.md §2), so /flags accepts exactly what the event endpoints accept."""
    return request_decode(request).payload


def parse_flags_request(request: HttpRequest) -> FlagsRequest:
    return flags_request_from_payload(decode_flags_body(request), request.GET)
