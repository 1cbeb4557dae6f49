"""From a listing row to PostHog's recording object (replay reference §1.7): the person, viewed state, the
retention fields, and the list query's parameters (JSON-decoded, validated, turned into ``RecordingFilters``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from django.utils import timezone
from rest_framework import exceptions

from persons.models import Person, PersonDistinctId
from posthog_clone.accounts.models import Team
from replay.matching import session_subqueries
from replay.models import SessionRecordingViewed
from replay.selectors import HAVING_KEYS, ONGOING_WINDOW, OPERATORS, ORDERS, RecordingFilters, parse_date

__all__ = ["RecordingFilters", "list_filters", "recordings_payload"]

QUERY_KEYS = frozenset({
    "kind", "date_from", "date_to", "person_uuid", "distinct_ids", "session_ids", "events", "actions", "properties",
    "having_predicates", "console_log_filters", "filter_test_accounts", "operand", "order", "order_direction",
    "limit", "offset", "after", "user_modified_filters", "response", "modifiers", "tags",
})  # fmt: skip
DROPPED_KEYS = frozenset({"as_query", "version", "hogql_filtering", "format"})
UNSUPPORTED_FILTERS = ("console_log_filters",)
MAX_LIMIT = 1000


def _invalid(detail: str, attr: str | None = None) -> exceptions.ValidationError:
    return exceptions.ValidationError({attr or "non_field_errors": [detail]} if attr else detail)


def _decoded(raw: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


def _string_list(value: Any, attr: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise _invalid("Must be a list of strings.", attr)
    return [str(v) for v in value]


def _int(value: Any, attr: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(f"Must be an integer from {low} to {high}.", attr)
    return value


def list_filters(team: Team, query: Any, now: dt.datetime | None = None) -> RecordingFilters:
    """Each parameter JSON-decoded when it parses, then checked (unknown keys are a 400, as in PostHog)."""
    now = now or timezone.now()
    params = {key: _decoded(query.get(key)) for key in query if key not in DROPPED_KEYS}
    unknown = sorted(set(params) - QUERY_KEYS)
    if unknown:
        raise _invalid(f"Extra inputs are not permitted: {', '.join(unknown)}", unknown[0])
    for key in UNSUPPORTED_FILTERS:
        if params.get(key) not in (None, [], ""):
            raise _invalid(f"Filtering recordings by {key} is not supported by this server yet.", key)
    dates = {}
    for key, default in (("date_from", "-3d"), ("date_to", None)):
        value = params.get(key, default)
        if value is None:
            dates[key] = None
            continue
        parsed = parse_date(str(value), now) if isinstance(value, (str, int)) else None
        if parsed is None:
            raise _invalid("Must be a relative date such as -3d or an ISO 8601 date.", key)
        dates[key] = parsed
    distinct_ids = _string_list(params["distinct_ids"], "distinct_ids") if "distinct_ids" in params else None
    if params.get("person_uuid") not in (None, ""):
        person_ids = person_distinct_ids(team, str(params["person_uuid"]))
        distinct_ids = person_ids if distinct_ids is None else [d for d in distinct_ids if d in person_ids]
    session_ids = _string_list(params["session_ids"], "session_ids") if "session_ids" in params else None
    having, sources = [], None
    predicates = params.get("having_predicates") or []
    if not isinstance(predicates, list):
        raise _invalid("Must be a list of recording filters.", "having_predicates")
    for predicate in predicates:
        if not isinstance(predicate, dict):
            raise _invalid("Must be a list of recording filters.", "having_predicates")
        key, operator, value = predicate.get("key"), predicate.get("operator", "exact"), predicate.get("value")
        if key == "snapshot_source":
            sources = _string_list(value, "having_predicates")
        elif key in HAVING_KEYS and operator in OPERATORS and isinstance(value, (int, float)):
            having.append((HAVING_KEYS[key], OPERATORS[operator], value))
        else:
            raise _invalid(f"Unsupported recording filter: {orjson.dumps(predicate).decode()}", "having_predicates")
    order = params.get("order", "start_time")
    if order not in ORDERS:
        raise _invalid(f"Must be one of: {', '.join(ORDERS)}.", "order")
    direction = params.get("order_direction", "DESC")
    if direction not in ("ASC", "DESC"):
        raise _invalid("Must be ASC or DESC.", "order_direction")
    matching, operand = session_subqueries(team, params, dates["date_from"], dates["date_to"])
    return RecordingFilters(
        date_from=dates["date_from"],
        date_to=dates["date_to"],
        distinct_ids=distinct_ids,
        session_ids=session_ids,
        having=tuple(having),
        snapshot_sources=sources,
        matching=matching,
        operand=operand,
        order=order,
        direction=direction,
        limit=_int(params.get("limit", 50), "limit", low=1, high=MAX_LIMIT),
        offset=_int(params.get("offset", 0), "offset", low=0, high=10**9),
    )


def person_distinct_ids(team: Team, person_uuid: str) -> list[str]:
    return list(
        PersonDistinctId.objects.filter(team=team, person__uuid__iexact=person_uuid).values_list(
            "distinct_id", flat=True
        )
    ) if _is_uuid(person_uuid) else []  # fmt: skip


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _person_payload(person: Person | None, distinct_id: str) -> dict[str, Any]:
    if person is None:
        return {
            "id": None,
            "name": None,
            "distinct_ids": [distinct_id],
            "properties": {},
            "created_at": None,
            "uuid": None,
        }
    ids = [d.distinct_id for d in person.distinct_ids.all()][:10]
    return {
        "id": person.pk,
        "name": person.properties.get("email") or person.properties.get("name") or (ids[0] if ids else distinct_id),
        "distinct_ids": ids,
        "properties": person.properties,
        "created_at": _iso(person.created_at),
        "uuid": str(person.uuid),
    }


def recordings_payload(team: Team, user: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = timezone.now()
    distinct_ids = {row["distinct_id"] for row in rows}
    persons = {
        link.distinct_id: link.person
        for link in PersonDistinctId.objects.filter(team=team, distinct_id__in=distinct_ids)
        .select_related("person")
        .prefetch_related("person__distinct_ids")
    }
    session_ids = [row["id"] for row in rows]
    viewed_by: dict[str, list[str]] = {}
    mine: set[str] = set()
    for session_id, user_id, email in SessionRecordingViewed.objects.filter(
        team=team, session_id__in=session_ids
    ).values_list("session_id", "user_id", "user__email"):
        if user_id == getattr(user, "pk", None):
            mine.add(session_id)
        else:
            viewed_by.setdefault(session_id, []).append(email)
    return [
        recording_payload(row, persons.get(row["distinct_id"]), row["id"] in mine, viewed_by.get(row["id"], []), now)
        for row in rows
    ]


def recording_payload(
    row: dict[str, Any], person: Person | None, viewed: bool, viewers: list[str], now: dt.datetime
) -> dict[str, Any]:
    start = row["start_time"].replace(tzinfo=dt.UTC) if row["start_time"].tzinfo is None else row["start_time"]
    end = row["end_time"].replace(tzinfo=dt.UTC) if row["end_time"].tzinfo is None else row["end_time"]
    retention = row["retention_period_days"] or 30
    expiry = start.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=retention)
    inserted = row["last_inserted"]
    inserted = inserted.replace(tzinfo=dt.UTC) if inserted.tzinfo is None else inserted
    return {
        "id": row["id"],
        "distinct_id": row["distinct_id"],
        "viewed": viewed,
        "viewers": sorted(viewers),
        "recording_duration": int(row["recording_duration"]),
        "active_seconds": int(row["active_seconds"]),
        "inactive_seconds": int(row["inactive_seconds"]),
        "start_time": _iso(start),
        "end_time": _iso(end),
        "click_count": row["click_count"],
        "keypress_count": row["keypress_count"],
        "mouse_activity_count": row["mouse_activity_count"],
        "console_log_count": row["console_log_count"],
        "console_warn_count": row["console_warn_count"],
        "console_error_count": row["console_error_count"],
        "start_url": row["start_url"],
        "person": _person_payload(person, row["distinct_id"]),
        "retention_period_days": retention,
        "expiry_time": _iso(expiry),
        "recording_ttl": max((expiry - now).days, 0),
        "snapshot_source": row["snapshot_source"] or "web",
        "snapshot_library": row["snapshot_library"] or None,
        "ongoing": inserted >= now - ONGOING_WINDOW,
        "activity_score": float(row["activity_score"]),
        "has_summary": False,
        "summary_outcome": None,
        "external_references": [],
        "matches_filters": None,
        "storage": "object_storage",
    }
