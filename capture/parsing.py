"""From decoded JSON to queue envelopes (capture reference §3–§5, §8, §9). Pure: no Django, no database.

``capture_events_build`` takes the decoded payload and the request facts (path kind, query, form, now,
client ip) and returns the envelopes, or raises SDKError for the whole request: one bad event fails
it. The project is resolved through the injected ``team_for_token`` so the function stays pure.
"""

from __future__ import annotations

import json
import re
import uuid as uuid_lib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from ingestion.envelope import CapturedEvent
from posthog_clone.sdk.decoding import parse_json, unwrap_base64
from posthog_clone.sdk.errors import (
    SDKError,
    bad_token_shape,
    invalid_payload,
    invalid_token,
    malformed,
    missing_api_key,
    no_data,
    too_large,
)
from posthog_clone.utils import uuid7

MAX_DISTINCT_ID_CHARS = 200
MAX_TOKEN_CHARS = 64
FUTURE_EVENT_LIMIT = timedelta(hours=23)
DROPPED_EVENTS = frozenset({"$performance_event"})
_EPOCH_2021_MS = 1_609_459_200_000  # `_` values before 2021 are seconds, not ms (ignored, §8)
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_KEPT_FIELDS = ("timestamp", "offset", "$set", "$set_once")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class RawRequest:
    """The request-level parts of a decoded payload (§3)."""

    events: list[Any]
    token: Any  # the batch-level api_key/token when the shape has one (wins over per-event tokens)
    has_token: bool
    sent_at: Any
    historical_migration: bool


def capture_events_build(
    *,
    payload: Any,
    engage: bool,
    query: Mapping[str, str],
    form: Mapping[str, str],
    now: datetime,
    ip: str | None,
    max_event_bytes: int,
    team_for_token: Callable[[str], int | None],
) -> list[CapturedEvent]:
    """The envelopes of one capture request; raises SDKError (400/401/413) for the whole request."""
    raw = request_shape_read(payload=payload, engage=engage)
    events = [event for event in raw.events if event.get("event") not in DROPPED_EVENTS]
    token = capture_token_extract(raw=raw, events=events, query=query, form=form)
    team_id = team_for_token(token)
    if team_id is None:
        raise invalid_token()
    sent_at = sent_at_resolve(body_sent_at=raw.sent_at, query=query, form=form)
    now_text = iso(now)
    sent_at_text = iso(sent_at) if sent_at else None
    built: list[CapturedEvent] = []
    for event in events:
        name = event.get("event")
        if name == "":
            continue  # PostHog's Django capture skips nameless events and still answers 200
        properties = _properties(event)
        distinct_id = distinct_id_extract(event=event, properties=properties)
        event_uuid = uuid_resolve(event.get("uuid"))
        if name == "$snapshot":
            _check_snapshot(name, properties)
        timestamp = timestamp_resolve(event=event, properties=properties, now=now, sent_at=sent_at)
        data: dict[str, Any] = {"event": name, "distinct_id": distinct_id, "properties": properties}
        data["uuid"] = event_uuid
        for key in _KEPT_FIELDS:
            if key in event:
                data[key] = event[key]
        built.append(
            CapturedEvent(
                uuid=event_uuid,
                distinct_id=distinct_id,
                ip=ip,
                data=_dump_event(data, max_event_bytes),
                now=now_text,
                sent_at=sent_at_text,
                token=token,
                team_id=team_id,
                event=name,
                timestamp=iso(timestamp),
                historical_migration=raw.historical_migration,
            )
        )
    return built


def request_shape_read(*, payload: Any, engage: bool) -> RawRequest:
    """Array, batch object, `{api_key, data}` form object, single event, or engage object (§3)."""
    token: Any = None
    has_token = False
    sent_at: Any = None
    historical = False
    if isinstance(payload, list):
        events = payload
    elif isinstance(payload, dict):
        if not payload:
            raise no_data()
        has_token = "api_key" in payload or "token" in payload
        token = payload["api_key"] if "api_key" in payload else payload.get("token")
        sent_at = payload.get("sent_at")
        if "batch" in payload:
            events = payload["batch"]
            historical = payload.get("historical_migration") is True
        elif "data" in payload and "event" not in payload:
            events = _embedded_data(payload["data"])
        else:
            events = [_single_event(payload, engage)]
            has_token, token = False, None  # a single event's own token is read per event
    else:
        raise invalid_payload("the body must be a JSON object or array of events")
    if not isinstance(events, list):
        raise invalid_payload('"batch" must be a list of events')
    if not events:
        raise no_data()
    for event in events:
        if event is None:
            raise invalid_payload("some events are null")
        if not isinstance(event, dict):
            raise invalid_payload("events must be JSON objects")
        if "event" not in event:
            if not engage:
                raise invalid_payload('All events must have the event name field "event"!')
        elif not isinstance(event["event"], str):
            raise invalid_payload('Event field "event" must be a string!')
    if engage:
        events = [event if "event" in event else {**event, "event": "$identify"} for event in events]
    return RawRequest(events, token, has_token, sent_at, historical)


def _embedded_data(data: Any) -> list[Any]:
    if isinstance(data, str):
        data = parse_json(unwrap_base64(data.encode("utf-8", "surrogatepass"), max_bytes=len(data) * 4 + 16))
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    raise invalid_payload('"data" must be an event, a list of events or their JSON text')


def _single_event(payload: dict[str, Any], engage: bool) -> dict[str, Any]:
    if "event" not in payload and not engage:
        raise invalid_payload('All events must have the event name field "event"!')
    return payload


def capture_token_extract(
    *, raw: RawRequest, events: list[dict[str, Any]], query: Mapping[str, str], form: Mapping[str, str]
) -> str:
    """Batch-level key wins, then each event's token/$token/api_key, then properties.token (§4)."""
    if raw.has_token and raw.token is not None:
        return token_validate(raw.token)
    found: set[str] = set()
    for event in events:
        value = _event_token(event)
        if value is not None:
            found.add(token_validate(value))
    if len(found) > 1:
        raise invalid_payload("batch submitted with inconsistent api_key values")
    if found:
        return found.pop()
    for source, key in ((query, "token"), (query, "api_key"), (form, "api_key"), (form, "token")):
        if source.get(key):
            return token_validate(source[key])
    raise missing_api_key()


def _event_token(event: dict[str, Any]) -> Any:
    for key in ("token", "$token", "api_key"):
        value = event.get(key)
        if value is not None and value != "":
            return value
    properties = event.get("properties")
    if isinstance(properties, dict):
        value = properties.get("token")
        if isinstance(value, str) and value:
            return value
    return None


def token_validate(value: Any) -> str:
    """Trimmed token, or 401 with the shape reason: empty, not_string, too_long, not_ascii, personal_api_key."""
    if not isinstance(value, str):
        raise bad_token_shape("not_string")
    token = value.strip()
    if not token:
        raise bad_token_shape("empty")
    if len(token) > MAX_TOKEN_CHARS:
        raise bad_token_shape("too_long")
    if not token.isascii():
        raise bad_token_shape("not_ascii")
    if token.startswith("phx_"):
        raise bad_token_shape("personal_api_key")
    if "\x00" in token:
        raise bad_token_shape("null_byte")
    return token


def _properties(event: dict[str, Any]) -> dict[str, Any]:
    properties = event.get("properties")
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise invalid_payload(f"Properties must be a JSON object, received {_json_type(properties)}!")
    return properties


def distinct_id_extract(*, event: dict[str, Any], properties: dict[str, Any]) -> str:
    """Top-level distinct_id / $distinct_id, else properties.distinct_id; non-strings as JSON text (§5)."""
    given = event.get("distinct_id")
    if type(given) is str and len(given) <= MAX_DISTINCT_ID_CHARS and "\x00" not in given and given.strip():
        return given  # what SDKs send: kept as it is
    present = False
    value: Any = None
    for source, key in ((event, "distinct_id"), (event, "$distinct_id"), (properties, "distinct_id")):
        if key in source:
            present = True
            value = source[key]
            if value is not None:
                break
    if not present:
        raise invalid_payload('All events must have the event field "distinct_id"!')
    if value is None:
        raise invalid_payload('Event field "distinct_id" should not be blank!')
    text = value if isinstance(value, str) else _json_text(value)
    if not text.strip():
        raise invalid_payload('Event field "distinct_id" should not be blank!')
    return text.replace("\x00", "\ufffd")[:MAX_DISTINCT_ID_CHARS]


def uuid_resolve(value: Any) -> str:
    """The client's uuid in canonical text, or a fresh UUIDv7 when missing or empty (§9)."""
    if value is None or value == "":
        return str(uuid7())
    if not isinstance(value, str):
        raise invalid_payload('Event field "uuid" is not a valid UUID!')
    if _CANONICAL_UUID.fullmatch(value):  # already canonical (what SDKs send): 6x cheaper than a round trip
        return value
    try:
        return str(uuid_lib.UUID(value))
    except ValueError:
        raise invalid_payload('Event field "uuid" is not a valid UUID!') from None


def _check_snapshot(name: str, properties: dict[str, Any]) -> None:
    if name == "$snapshot" and "$snapshot_data" not in properties:
        raise invalid_payload('$snapshot events must contain property "$snapshot_data"!')


def sent_at_resolve(*, body_sent_at: Any, query: Mapping[str, str], form: Mapping[str, str]) -> datetime | None:
    """Body `sent_at` (ISO) wins, then query `_`/`sent_at` as integer ms, then form `sent_at` (§8)."""
    for value in (body_sent_at, form.get("sent_at")):
        if value is not None and value != "":
            parsed = parse_timestamp(value) if isinstance(value, str) else None
            if parsed is None:
                raise malformed_sent_at(value)
            return parsed
    for key in ("_", "sent_at"):
        value = query.get(key)
        if value and len(value) <= 16 and value.isascii() and value.isdigit() and int(value) >= _EPOCH_2021_MS:
            parsed = _from_epoch(int(value) / 1000)
            if parsed is not None:
                return parsed
    return None


def malformed_sent_at(value: Any) -> SDKError:
    return SDKError(400, "validation_error", "invalid_payload", f"Malformed request data, invalid sent at: {value!r}")


def timestamp_resolve(
    *, event: dict[str, Any], properties: dict[str, Any], now: datetime, sent_at: datetime | None
) -> datetime:
    """now / timestamp adjusted by the client clock skew / offset, future clamp at 23 h (§8)."""
    offset = _offset(event.get("offset"))
    _offset(properties.get("offset"))  # a non-integer properties.offset is a 400, as in PostHog
    resolved = now
    timestamp = parse_timestamp(event.get("timestamp")) if event.get("timestamp") is not None else None
    try:
        if timestamp is not None:
            if sent_at is not None and properties.get("$ignore_sent_at") is not True:
                resolved = now + (timestamp - sent_at)
            else:
                resolved = timestamp
        if offset:
            resolved = now - timedelta(milliseconds=offset)
    except OverflowError:  # outside years 1–9999: fall back to the receive time (as PostHog's ingestion)
        resolved = now
    if resolved - now > FUTURE_EVENT_LIMIT:
        resolved = now
    return resolved


def _offset(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_payload('Event field "offset" must be an integer!')
    if isinstance(value, float):
        if not value.is_integer():
            raise invalid_payload('Event field "offset" must be an integer!')
        value = int(value)
    if abs(value) > 10**15:
        raise invalid_payload('Event field "offset" must be an integer!')
    return value


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 / RFC 3339 (with `+HH`, space separator, date only), slash dates, RFC 2822, epoch numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _from_epoch(value / 1000 if abs(value) >= 10**11 else value)
    if not isinstance(value, str):
        return None
    if value[4:5] == "-" and "/" not in value:  # ISO 8601 as SDKs send it: the C parser first (a dash: no number)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass  # slash dates, spaces, RFC 2822 … below
        else:
            if parsed.tzinfo is UTC:
                return parsed
            return _utc(parsed)
    text = value.strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):
        number = float(text)
        return _from_epoch(number / 1000 if abs(number) >= 10**11 else number)
    candidate = text.replace("/", "-") if text[:4].isdigit() else text
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return _utc(parsed)


def _utc(parsed: datetime) -> datetime | None:
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


def _from_epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds (truncated) and Z. %-formatted from the fields: ``isoformat()`` asks
    the tzinfo for its offset even on UTC (1.1 µs sliced, 0.74 µs this way; ``astimezone`` only off UTC)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031 (format specs: 1.34 µs)
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond // 1000
    )  # fmt: skip


def _dump_event(data: dict[str, Any], max_event_bytes: int) -> str:
    try:
        text = orjson.dumps(data)
    except orjson.JSONEncodeError as exc:
        raise malformed(f"Invalid JSON: {exc}") from None
    if len(text) > max_event_bytes:
        raise too_large()
    return text.decode()


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # integers past 64 bits (read by the stdlib fallback parser)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
