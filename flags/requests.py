"""Reading a /flags or /decide request: decode the body (capture's decoder), then pick out the fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from capture.decoding import decode_payload
from capture.errors import CaptureError

MAX_DISTINCT_ID_CHARS = 200


class FlagsRequestError(Exception):
    def __init__(self, status: int, error_type: str, code: str, detail: str):
        super().__init__(detail)
        self.status, self.error_type, self.code, self.detail = status, error_type, code, detail

    @classmethod
    def missing_token(cls) -> FlagsRequestError:
        return cls(
            401,
            "authentication_error",
            "missing_api_key",
            "API key not provided. You can find your project API key in PostHog project settings.",
        )

    @classmethod
    def unknown_token(cls) -> FlagsRequestError:
        return cls(
            401,
            "authentication_error",
            "invalid_api_key",
            "Project API key invalid. You can find your project API key in PostHog project settings.",
        )

    @classmethod
    def bad_body(cls, why: str) -> FlagsRequestError:
        return cls(400, "validation_error", "invalid_payload", f"Malformed request data: {why}")

    @classmethod
    def missing_distinct_id(cls) -> FlagsRequestError:
        return cls(400, "validation_error", "missing_distinct_id", "The distinct_id field is required.")


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
    """Pure: the decoded body (and query string) → a FlagsRequest, or a FlagsRequestError."""
    if not isinstance(payload, dict):
        raise FlagsRequestError.bad_body("the body must be a JSON object")
    token = _first(payload, "token", "$token", "api_key") or query.get("token") or query.get("api_key")
    if not isinstance(token, str) or not token.strip():
        raise FlagsRequestError.missing_token()
    distinct_id = _distinct_id(_first(payload, "distinct_id", "$distinct_id"))
    if distinct_id is None:
        raise FlagsRequestError.missing_distinct_id()
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
    """JSON, gzip (hinted or by magic bytes, any content type), base64, lz64 or a `data=` form: capture's
    decoder (capture.md §2), so /flags accepts exactly what the event endpoints accept."""
    try:
        return decode_payload(
            body=request.body,
            query=request.GET,
            form=None,
            content_type=request.content_type or "",
            content_encoding=request.headers.get("Content-Encoding", ""),
            legacy=False,
            max_bytes=settings.CAPTURE_MAX_DECOMPRESSED_BYTES,
        )
    except CaptureError as exc:
        raise FlagsRequestError(exc.status, exc.type, exc.code, exc.detail) from exc


def parse_flags_request(request: HttpRequest) -> FlagsRequest:
    return flags_request_from_payload(decode_flags_body(request), request.GET)
