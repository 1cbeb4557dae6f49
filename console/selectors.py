"""Reads of the console: events through the query layer's HogQL runner, flags and keys from their apps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from posthog_clone.accounts.models import PersonalAPIKey, Team, User
from query.runner import hogql_execute

ACTIVITY_LIMIT = 100


@dataclass(frozen=True)
class EventRow:
    uuid: str
    event: str
    distinct_id: str
    timestamp: str
    properties: list[tuple[str, str]] | None = None  # None: not read (the Activity list)


def property_rows(raw: Any) -> list[tuple[str, str]]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    if not isinstance(raw, dict):
        return []
    return sorted((str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in raw.items())


# The Activity page's time ranges (PostHog's events table shows the last 24 hours by default: EventsQuery's
# `after` is "-24h"); the value is the HogQL interval, "" for all time.
ACTIVITY_RANGES = {"1h": "1 HOUR", "24h": "24 HOUR", "7d": "7 DAY", "30d": "30 DAY", "all": ""}
ACTIVITY_DEFAULT_RANGE = "24h"


def recent_events(*, team: Team, event: str = "", distinct_id: str = "", within: str = "") -> list[EventRow]:
    """The project's latest events in the time range ``within`` (a key of ACTIVITY_RANGES), newest first,
    optionally of one event name and/or one distinct id; without their properties (``event_get``).

    The properties are left out because they are what costs: the events of the last hour lie scattered over the
    whole day's granules (the table is sorted by day, then event and distinct id), so reading 100 events'
    properties decompresses most of a day's ``properties`` column (~0.3 s over 10M events, against ~30 ms for
    this read). A reader opens the few events they want (see ``event_get``).
    """
    where, values = ["timestamp <= now() + toIntervalSecond(5)"], {}
    interval = ACTIVITY_RANGES.get(within, ACTIVITY_RANGES[ACTIVITY_DEFAULT_RANGE])
    if interval:
        where.append(f"timestamp > now() - INTERVAL {interval}")
    if event:
        where.append("event = {event}")
        values["event"] = event
    if distinct_id:
        where.append("distinct_id = {distinct_id}")
        values["distinct_id"] = distinct_id
    query = (
        "SELECT toString(uuid), event, distinct_id, toString(timestamp) FROM events "
        f"WHERE {' AND '.join(where)} ORDER BY timestamp DESC LIMIT {ACTIVITY_LIMIT}"
    )
    result = hogql_execute(team=team, query=query, values=values, limit=ACTIVITY_LIMIT)
    return [EventRow(uuid=row[0], event=row[1], distinct_id=row[2], timestamp=row[3]) for row in result.results]


def event_get(*, team: Team, uuid: str, timestamp: str) -> EventRow | None:
    """One event with its properties, by id and time (the time narrows the read to its day)."""
    result = hogql_execute(
        team=team,
        query=(
            "SELECT toString(uuid), event, distinct_id, toString(timestamp), properties FROM events "
            "WHERE timestamp = {timestamp} AND uuid = {uuid} LIMIT 1"
        ),
        values={"uuid": uuid, "timestamp": timestamp},
        limit=1,
    )
    if not result.results:
        return None
    row = result.results[0]
    return EventRow(uuid=row[0], event=row[1], distinct_id=row[2], timestamp=row[3], properties=property_rows(row[4]))


def personal_api_keys(*, user: User) -> list[PersonalAPIKey]:
    return list(user.personal_api_keys.order_by("-created_at"))
