"""Reads of recordings from ClickHouse's `session_replay_events` (replay reference §1.5, §1.7): the listing
query with its filters and ordering, one recording, a session's blocks in order (the `snapshots` sources).

Every read takes `FINAL` (a replayed block replaces its first copy) and aggregates the blocks per session.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from posthog_clone.clickhouse import get_client, table

ONGOING_WINDOW = dt.timedelta(minutes=5)
ORDERS = {
    "start_time": "start_time",
    "duration": "recording_duration",
    "recording_duration": "recording_duration",
    "inactive_seconds": "inactive_seconds",
    "active_seconds": "active_seconds",
    "console_error_count": "console_error_count",
    "click_count": "click_count",
    "keypress_count": "keypress_count",
    "mouse_activity_count": "mouse_activity_count",
    "activity_score": "activity_score",
    "recording_ttl": "expiry_day",
}
HAVING_KEYS = {
    "duration": "recording_duration",
    "active_seconds": "active_seconds",
    "inactive_seconds": "inactive_seconds",
}
OPERATORS = {"gt": ">", "lt": "<", "gte": ">=", "lte": "<=", "exact": "=", "is_not": "!="}

_AGGREGATES = """
    session_id,
    any(distinct_id) AS distinct_id,
    min(min_first_timestamp) AS start_time,
    max(max_last_timestamp) AS end_time,
    dateDiff('second', start_time, end_time) AS recording_duration,
    sum(active_milliseconds) / 1000 AS active_seconds,
    recording_duration - active_seconds AS inactive_seconds,
    argMinIf(first_url, min_first_timestamp, first_url IS NOT NULL) AS start_url,
    sum(click_count) AS click_count,
    sum(keypress_count) AS keypress_count,
    sum(mouse_activity_count) AS mouse_activity_count,
    sum(console_log_count) AS console_log_count,
    sum(console_warn_count) AS console_warn_count,
    sum(console_error_count) AS console_error_count,
    sum(size) AS size,
    sum(event_count) AS event_count,
    argMin(snapshot_source, min_first_timestamp) AS snapshot_source,
    argMin(snapshot_library, min_first_timestamp) AS snapshot_library,
    max(retention_period_days) AS retention_period_days,
    max(_timestamp) AS last_inserted,
    toDate(start_time) + toIntervalDay(coalesce(retention_period_days, 30)) AS expiry_day,
    if(mouse_activity_count + recording_duration + console_error_count + console_log_count + console_warn_count = 0,
       0,
       round((active_seconds + click_count + keypress_count + console_error_count)
             / (mouse_activity_count + recording_duration + console_error_count + console_log_count
                + console_warn_count) * 100, 2)) AS activity_score
"""
RECORDING_COLUMNS = (
    "id", "distinct_id", "start_time", "end_time", "recording_duration", "active_seconds", "inactive_seconds",
    "start_url", "click_count", "keypress_count", "mouse_activity_count", "console_log_count", "console_warn_count",
    "console_error_count", "size", "event_count", "snapshot_source", "snapshot_library", "retention_period_days",
    "last_inserted", "expiry_day", "activity_score",
)  # fmt: skip


@dataclass(frozen=True)
class SessionSubquery:
    """Compiled ClickHouse SQL (`{name:Type}` parameters, its own team guards) selecting one column: session ids
    (`by="session_id"`) or distinct ids (`by="distinct_id"`, a session matching when one of its blocks has one);
    `settings` to run the listing with."""

    by: str
    sql: str
    params: dict[str, Any]
    settings: dict[str, Any]


@dataclass(frozen=True)
class RecordingFilters:
    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None
    distinct_ids: list[str] | None = None
    session_ids: list[str] | None = None
    having: tuple[tuple[str, str, Any], ...] = ()  # (column, SQL operator, value)
    snapshot_sources: list[str] | None = None
    matching: tuple[SessionSubquery, ...] = ()  # the event/person filters' subqueries (replay.matching)
    operand: str = "AND"  # how `matching` combine
    order: str = "start_time"
    direction: str = "DESC"
    limit: int = 50
    offset: int = 0


_RELATIVE = re.compile(r"^-?(\d+)([hdwmyHDWMY])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_date(value: str, now: dt.datetime) -> dt.datetime | None:
    """`-3d`/`-24h`/`-2w`/`-1m`/`-1y` before now (days start at midnight UTC), or an ISO date/time."""
    text = value.strip()
    match = _RELATIVE.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        if unit == "h":
            return now - dt.timedelta(hours=amount)
        days = amount * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
        return (now - dt.timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    if text in ("dStart", "mStart", "yStart"):
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return (
            start.replace(day=1) if text == "mStart" else start.replace(month=1, day=1) if text == "yStart" else start
        )
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def ch_time(moment: dt.datetime) -> str:
    """ClickHouse's text of a DateTime64(6, 'UTC') value."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_HOGQL_PARAM = re.compile(r"\{(hogql_val_\d+):")


def _matching_condition(filters: RecordingFilters, params: dict[str, Any]) -> str:
    """`session_id IN (…)` for each subquery (its parameters renamed apart), joined by the operand."""
    conditions = []
    for i, sub in enumerate(filters.matching):
        renamed = {f"m{i}_{name}": value for name, value in sub.params.items()}
        if not set(renamed) <= {f"m{i}_{name}" for name in _HOGQL_PARAM.findall(sub.sql)}:
            raise ValueError(f"unexpected parameters in a compiled subquery: {sorted(sub.params)}")
        sql = _HOGQL_PARAM.sub(lambda match, i=i: f"{{m{i}_{match.group(1)}:", sub.sql)
        params.update(renamed)
        if sub.by == "distinct_id":
            sql = (
                f"SELECT session_id FROM {table('session_replay_events')} "
                f"WHERE team_id = {{team_id:Int64}} AND distinct_id IN ({sql})"
            )
        conditions.append(f"session_id IN ({sql})")
    return f" {'OR' if filters.operand == 'OR' else 'AND'} ".join(conditions)


def recordings_list(team_id: int, filters: RecordingFilters) -> tuple[list[dict[str, Any]], bool]:
    """A page of the project's recordings and whether there is another."""
    where = ["team_id = {team_id:Int64}"]
    having = ["1"]
    params: dict[str, Any] = {"team_id": team_id, "limit": filters.limit + 1, "offset": filters.offset}
    if filters.session_ids is not None:
        where.append("session_id IN {session_ids:Array(String)}")
        params["session_ids"] = filters.session_ids
    if filters.distinct_ids is not None:
        where.append("distinct_id IN {distinct_ids:Array(String)}")
        params["distinct_ids"] = filters.distinct_ids
    if filters.date_from is not None:
        where.append("min_first_timestamp >= {date_from:DateTime64(6, 'UTC')} - toIntervalDay(1)")
        having.append("start_time >= {date_from:DateTime64(6, 'UTC')}")
        params["date_from"] = ch_time(filters.date_from)
    if filters.date_to is not None:
        having.append("start_time <= {date_to:DateTime64(6, 'UTC')}")
        params["date_to"] = ch_time(filters.date_to)
    for i, (column, operator, value) in enumerate(filters.having):
        having.append(f"{column} {operator} {{h{i}:Float64}}")
        params[f"h{i}"] = float(value)
    if filters.snapshot_sources is not None:
        having.append("snapshot_source IN {sources:Array(String)}")
        params["sources"] = filters.snapshot_sources
    settings: dict[str, Any] = {}
    matching = f"({_matching_condition(filters, params)})" if filters.matching else None
    if matching is not None:
        where.append(matching)
        for sub in filters.matching:
            settings.update(sub.settings)
    order = ORDERS[filters.order]
    direction = "ASC" if filters.direction == "ASC" else "DESC"
    if order == "start_time" and not filters.having and filters.snapshot_sources is None:
        # The default listing: the page's sessions first, from their start alone (two columns, no FINAL: a
        # replayed block does not move a minimum), then the whole aggregate of just those, reading only blocks
        # from the page's earliest start on (no block of a session is older than the session).
        ids_sql = (
            f"SELECT session_id, min(min_first_timestamp) AS start_time FROM {table('session_replay_events')} "
            f"WHERE {' AND '.join(where)} GROUP BY session_id HAVING {' AND '.join(having)} "
            f"ORDER BY start_time {direction}, session_id {direction} LIMIT {{limit:UInt32}} OFFSET {{offset:UInt32}}"
        )
        page = get_client().query(ids_sql, params, settings).rows
        if not page:
            return [], False
        where = [w for w in where if w is not matching]  # the page's sessions matched already
        where += ["session_id IN {page_ids:Array(String)}", "min_first_timestamp >= {page_from:DateTime64(6, 'UTC')}"]
        params.update(page_ids=[row[0] for row in page], page_from=ch_time(min(row[1] for row in page)), offset=0)
    sql = (
        f"SELECT {_AGGREGATES} FROM (SELECT * FROM {table('session_replay_events')} FINAL "
        f"WHERE {' AND '.join(where)}) GROUP BY session_id HAVING {' AND '.join(having)} "
        f"ORDER BY {order} {direction}, session_id {direction} LIMIT {{limit:UInt32}} OFFSET {{offset:UInt32}}"
    )
    rows = [dict(zip(RECORDING_COLUMNS, row, strict=True)) for row in get_client().query(sql, params, settings).rows]
    return rows[: filters.limit], len(rows) > filters.limit


def recording_get(team_id: int, session_id: str) -> dict[str, Any] | None:
    rows, _ = recordings_list(team_id, RecordingFilters(session_ids=[session_id], limit=1))
    return rows[0] if rows else None


def recordings_existing(team_id: int, session_ids: list[str]) -> set[str]:
    sql = (
        f"SELECT DISTINCT session_id FROM {table('session_replay_events')} "
        "WHERE team_id = {team_id:Int64} AND session_id IN {ids:Array(String)}"
    )
    return {row[0] for row in get_client().query(sql, {"team_id": team_id, "ids": session_ids}).rows}


@dataclass(frozen=True)
class StoredBlock:
    start: dt.datetime
    end: dt.datetime
    blob_key: str
    blob_start: int
    blob_end: int


def session_blocks(team_id: int, session_id: str) -> list[StoredBlock]:
    """The session's blocks in time order (all windows; each line names its window)."""
    sql = (
        f"SELECT min_first_timestamp, max_last_timestamp, blob_key, blob_start, blob_end "
        f"FROM {table('session_replay_events')} FINAL "
        "WHERE team_id = {team_id:Int64} AND session_id = {session_id:String} "
        "ORDER BY min_first_timestamp, max_last_timestamp, block_id"
    )
    rows = get_client().query(sql, {"team_id": team_id, "session_id": session_id}).rows
    return [StoredBlock(*row) for row in rows]
