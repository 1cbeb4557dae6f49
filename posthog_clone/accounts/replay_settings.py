"""The session replay settings of a project: their fields on the projects API, with PostHog's validation
(replay_surveys_experiments.md §1.1). Remote config reads them from the Team (flags app)."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from posthog_clone.accounts.models import MAX_MINIMUM_DURATION_MS, RETENTION_PERIOD_CHOICES

REPLAY_FIELDS = [
    "session_recording_opt_in",
    "session_recording_sample_rate",
    "session_recording_minimum_duration_milliseconds",
    "session_recording_linked_flag",
    "session_recording_network_payload_capture_config",
    "session_recording_masking_config",
    "session_recording_url_trigger_config",
    "session_recording_url_blocklist_config",
    "session_recording_event_trigger_config",
    "session_recording_trigger_match_type_config",
    "session_recording_retention_period",
    "session_replay_config",
    "recording_domains",
    "capture_console_log_opt_in",
    "capture_performance_opt_in",
]
_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?")
_MAX_LIST = 100
_MAX_TEXT = 1000


def _keys(value: Any, *, allowed: dict[str, tuple[type, ...]], what: str) -> dict[str, Any] | None:
    """None, or a dict with only ``allowed`` keys, each of one of its types."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise serializers.ValidationError("Must provide a dictionary or None.")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise serializers.ValidationError(
            f"Must provide a dictionary with only {what} keys (got {', '.join(unknown)})."
        )
    for key, item in value.items():
        _no_nul(item)
        if not isinstance(item, allowed[key]):
            kinds = " or ".join("null" if kind is type(None) else kind.__name__ for kind in allowed[key])
            raise serializers.ValidationError(f"'{key}' must be {kinds}.")
    return value


_URL_ITEM = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "minLength": 1, "maxLength": _MAX_TEXT, "description": "JS regular expression"},
        "matching": {"type": "string", "enum": ["regex"]},
    },
    "required": ["url", "matching"],
    "additionalProperties": False,
}
_SELECTOR = {"type": "string", "nullable": True}


def _json(schema: dict[str, Any]) -> type[serializers.JSONField]:
    """A JSONField documented with ``schema`` (validation stays in the serializer's validate_<field>)."""
    return extend_schema_field({**schema, "nullable": True})(type("JSONField", (serializers.JSONField,), {}))


UrlListField = _json({"type": "array", "items": _URL_ITEM, "maxItems": _MAX_LIST})
StringListField = _json(
    {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": _MAX_TEXT}, "maxItems": _MAX_LIST}
)
LinkedFlagField = _json(
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "key": {"type": "string", "minLength": 1},
            "variant": {"type": "string", "nullable": True},
        },
        "required": ["id", "key"],
        "additionalProperties": False,
    }
)
NetworkPayloadField = _json(
    {
        "type": "object",
        "properties": {"recordHeaders": {"type": "boolean"}, "recordBody": {"type": "boolean"}},
        "additionalProperties": False,
    }
)
MaskingField = _json(
    {
        "type": "object",
        "properties": {"maskAllInputs": {"type": "boolean"}, "maskTextSelector": _SELECTOR, "blockSelector": _SELECTOR},
        "additionalProperties": False,
    }
)
ReplayConfigField = _json(
    {"type": "object", "properties": {"record_canvas": {"type": "boolean"}}, "additionalProperties": False}
)
OriginListField = _json(
    {
        "type": "array",
        "items": {"type": "string", "pattern": f"^{_ORIGIN.pattern}$", "maxLength": _MAX_TEXT},
        "maxItems": _MAX_LIST,
    }
)


class ReplaySettingsFields(serializers.Serializer):
    """Declared here so the read and the update serializers show the same types in the API schema."""

    session_recording_opt_in = serializers.BooleanField(required=False, help_text="Record sessions (posthog-js).")
    session_recording_sample_rate = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=0,
        max_value=1,
        required=False,
        allow_null=True,
        help_text="Share of sessions recorded, 0 to 1 (null or 1: all).",
    )
    session_recording_minimum_duration_milliseconds = serializers.IntegerField(
        min_value=0,
        max_value=MAX_MINIMUM_DURATION_MS,
        required=False,
        allow_null=True,
        help_text="Sessions shorter than this are not sent (0 or null: no minimum).",
    )
    session_recording_linked_flag = LinkedFlagField(
        required=False, allow_null=True, help_text="Record only when this flag is on: {id, key} or {id, key, variant}."
    )
    session_recording_network_payload_capture_config = NetworkPayloadField(
        required=False, allow_null=True, help_text="{recordHeaders?: bool, recordBody?: bool} or null."
    )
    session_recording_masking_config = MaskingField(
        required=False, allow_null=True, help_text="{maskAllInputs?, maskTextSelector?, blockSelector?} or null."
    )
    session_recording_url_trigger_config = UrlListField(
        required=False,
        allow_null=True,
        help_text='Start recording on these URLs: [{"url": "<regex>", "matching": "regex"}].',
    )
    session_recording_url_blocklist_config = UrlListField(
        required=False,
        allow_null=True,
        help_text='Pause recording on these URLs: [{"url": "<regex>", "matching": "regex"}].',
    )
    session_recording_event_trigger_config = StringListField(
        required=False, allow_null=True, help_text="Start recording when one of these events is captured: [event name]."
    )
    session_recording_trigger_match_type_config = serializers.ChoiceField(
        choices=["any", "all"],
        required=False,
        allow_null=True,
        help_text="How triggers combine: all (default, also null) or any.",
    )
    session_recording_retention_period = serializers.ChoiceField(
        choices=[value for value, _ in RETENTION_PERIOD_CHOICES],
        required=False,
        help_text="How long recordings are kept.",
    )
    session_replay_config = ReplayConfigField(
        required=False, allow_null=True, help_text="{record_canvas?: bool} or null."
    )
    recording_domains = OriginListField(
        required=False,
        allow_null=True,
        help_text="Origins whose pages may record, e.g. https://*.example.com ([]: any).",
    )
    capture_console_log_opt_in = serializers.BooleanField(
        required=False, allow_null=True, help_text="Record console logs with sessions."
    )
    capture_performance_opt_in = serializers.BooleanField(
        required=False, allow_null=True, help_text="Capture network timing (and with replay, network requests)."
    )

    def validate_session_recording_linked_flag(self, value: Any) -> dict[str, Any] | None:
        if value is not None and (not isinstance(value, dict) or not {"id", "key"} <= set(value)):
            raise serializers.ValidationError(
                "Must provide a dictionary with only 'id' and 'key' keys, or 'id', 'key' and 'variant'."
            )
        linked = _keys(
            value, allowed={"id": (int,), "key": (str,), "variant": (str, type(None))}, what="id, key, variant"
        )
        if linked is not None and (isinstance(linked["id"], bool) or not linked["key"]):
            raise serializers.ValidationError("'id' must be a flag id and 'key' a flag key.")
        return linked

    def validate_session_recording_network_payload_capture_config(self, value: Any) -> dict[str, Any] | None:
        return _keys(value, allowed={"recordHeaders": (bool,), "recordBody": (bool,)}, what="recordHeaders, recordBody")

    def validate_session_recording_masking_config(self, value: Any) -> dict[str, Any] | None:
        allowed = {"maskAllInputs": (bool,), "maskTextSelector": (str, type(None)), "blockSelector": (str, type(None))}
        return _keys(value, allowed=allowed, what="maskAllInputs, maskTextSelector, blockSelector")

    def validate_session_replay_config(self, value: Any) -> dict[str, Any] | None:
        return _keys(value, allowed={"record_canvas": (bool,)}, what="record_canvas")

    def validate_session_recording_url_trigger_config(self, value: Any) -> list[dict[str, str]]:
        return _url_list(value)

    def validate_session_recording_url_blocklist_config(self, value: Any) -> list[dict[str, str]]:
        return _url_list(value)

    def validate_session_recording_event_trigger_config(self, value: Any) -> list[str]:
        return _string_list(value, what="event names")

    def validate_recording_domains(self, value: Any) -> list[str]:
        domains = _string_list(value, what="origins")
        for domain in domains:
            if not _ORIGIN.fullmatch(domain):
                raise serializers.ValidationError(
                    f"'{domain}' is not an origin like https://example.com or https://*.example.com."
                )
        return domains


def _no_nul(text: Any) -> None:
    """PostgreSQL's jsonb refuses NUL characters: a 400 here, not a 500 at save."""
    if isinstance(text, str) and "\x00" in text:
        raise serializers.ValidationError("Text may not contain NUL characters.")


def _string_list(value: Any, *, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise serializers.ValidationError(f"Must provide a list of {what} (non-empty strings).")
    if len(value) > _MAX_LIST or any(len(item) > _MAX_TEXT for item in value):
        raise serializers.ValidationError(f"At most {_MAX_LIST} {what} of {_MAX_TEXT} characters each.")
    for item in value:
        _no_nul(item)
    return value


def _url_list(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > _MAX_LIST:
        raise serializers.ValidationError(f'Must provide a list of at most {_MAX_LIST} {{"url", "matching"}} items.')
    for item in value:
        if not isinstance(item, dict) or set(item) != {"url", "matching"}:
            raise serializers.ValidationError('Each item must be {"url": "<regex>", "matching": "regex"}.')
        if item["matching"] != "regex":
            raise serializers.ValidationError("'matching' must be 'regex'.")
        if not isinstance(item["url"], str) or not item["url"] or len(item["url"]) > _MAX_TEXT:
            raise serializers.ValidationError(f"'url' must be a regular expression of 1 to {_MAX_TEXT} characters.")
        _no_nul(item["url"])
    return value
