"""The TrendsQuery case of `python -m bench.query`: DAU of `$pageview` by day over 30 days, broken down by
`$browser` (top 25 values + other), through the TrendsQuery kind (its runner and the /query/ endpoint)
versus one hand-written ClickHouse statement run on the client, which must give the same answer.

The hand statement scans the events once: it groups (day, value) with `uniqExactState` of the person ids
(resolved through person_distinct_id2, as HogQL's `person_id`), ranks the values by their summed DAU (null
last, then by value, as the trends runner does) with a window, and merges the states of the values past the
top 25 into the other bucket, so the other bucket's persons stay distinct.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

NAME = "trends dau x $browser 30d"
BREAKDOWN_NULL = "$$_posthog_breakdown_null_$$"
BREAKDOWN_OTHER = "$$_posthog_breakdown_other_$$"
TOP = 25

Answer = dict[str, dict[str, int]]
"""breakdown value → day (ISO) → DAU, zero days left out."""


def trends_query(today: dt.date) -> dict[str, Any]:
    """The insight: explicit dates (the 30 days before `today` and today), so a run crossing midnight keeps
    comparing the same grid."""
    return {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "$pageview", "math": "dau"}],
        "interval": "day",
        "dateRange": {"date_from": (today - dt.timedelta(days=30)).isoformat(), "date_to": today.isoformat()},
        "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"},
    }


_RAW = "nullIf(nullIf(JSONExtractRaw(e.properties, '$browser'), ''), 'null')"
POSTHOG_READ = f"substring({_RAW}, 1 + startsWith({_RAW}, '\"'), length({_RAW}) - 2 * startsWith({_RAW}, '\"'))"
"""`$browser` as PostHog's HogQL reads any property: the raw JSON value with a string's quotes trimmed (escapes
kept; numbers and booleans as their text) — the same answer as JSONExtractString for any data, not just ours."""


def hand_sql(
    *, events: str, pdi: str, team_id: int, today: dt.date, timezone: str, read: str = "JSONExtractString"
) -> str:
    """The same answer in one ClickHouse statement: rows (day, breakdown value, DAU). `read` is how `$browser`
    is read: JSONExtractString (what one writes by hand; our data holds plain strings only) or POSTHOG_READ."""
    start = today - dt.timedelta(days=30)
    end = today + dt.timedelta(days=1)
    tz = timezone.replace("'", "")
    value = "JSONExtractString(e.properties, '$browser')" if read == "JSONExtractString" else read
    return f"""
WITH pdi AS (
    SELECT distinct_id, argMax(person_id, version) AS person_id
    FROM {pdi} WHERE team_id = {team_id}
    GROUP BY distinct_id HAVING argMax(is_deleted, version) = 0
),
per_value AS (
    SELECT toDate(e.timestamp, '{tz}') AS day,
           ifNull(nullIf({value}, ''), '{BREAKDOWN_NULL}') AS value,
           uniqExactState(pdi.person_id) AS persons
    FROM {events} AS e INNER JOIN pdi ON e.distinct_id = pdi.distinct_id
    WHERE e.team_id = {team_id} AND e.event = '$pageview'
      AND e.timestamp >= toDateTime('{start} 00:00:00', '{tz}') AND e.timestamp < toDateTime('{end} 00:00:00', '{tz}')
    GROUP BY day, value
),
ranked AS (
    SELECT day, value, persons,
           dense_rank() OVER (ORDER BY value = '{BREAKDOWN_NULL}', total DESC, value) AS place
    FROM (SELECT *, sum(finalizeAggregation(persons)) OVER (PARTITION BY value) AS total FROM per_value)
)
SELECT day, if(place <= {TOP}, value, '{BREAKDOWN_OTHER}') AS breakdown_value, uniqExactMerge(persons) AS dau
FROM ranked GROUP BY day, breakdown_value
"""


def answer_from_rows(rows: list[Any]) -> Answer:
    answer: Answer = {}
    for day, value, dau in rows:
        if dau:
            answer.setdefault(value, {})[str(day)[:10]] = int(dau)
    return answer


def answer_from_items(items: list[dict[str, Any]]) -> Answer:
    answer: Answer = {}
    for item in items:
        days = {day: int(v) for day, v in zip(item["days"], item["data"], strict=True) if v}
        answer[item["breakdown_value"]] = days
    return answer


def check_equal(path: Answer, hand: Answer, label: str) -> None:
    """Raise naming the first difference; an answer without an other bucket proves nothing about the merge."""
    if BREAKDOWN_OTHER not in hand:
        raise SystemExit(f"{NAME}: the loaded data has no other bucket (fewer than {TOP + 1} browsers)")
    for value in sorted(set(path) | set(hand)):
        if path.get(value) != hand.get(value):
            differs = f"{path.get(value)} != {hand.get(value)}"
            raise SystemExit(f"{NAME}: {label} differs from the hand SQL for {value!r}: {differs}")


class SqlRecorder:
    """Wraps `hogql_execute` where the trends kind calls it and keeps the compiled ClickHouse SQL (and its
    parameters) of each query the runner sends, to show it and time it on the client directly."""

    def __init__(self, module: Any):
        self.module = module
        self.original: Callable[..., Any] = module.hogql_execute
        self.compiled: list[tuple[str, dict[str, Any]]] = []

    def __enter__(self) -> SqlRecorder:
        def recording(**kwargs: Any) -> Any:
            result = self.original(**kwargs)
            self.compiled.append((result.clickhouse, _params(kwargs["team"], kwargs["query"], kwargs)))
            return result

        self.module.hogql_execute = recording
        return self

    def __exit__(self, *exc: object) -> None:
        self.module.hogql_execute = self.original


def _params(team: Any, query: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The parameters of the compiled SQL: `hogql_execute` does not return them, the same compile does."""
    from django.conf import settings

    from query.hogql.ast import HogQLContext
    from query.hogql.compiler import compile_hogql
    from query.hogql.passes.limits import LIMIT_CONTEXTS
    from query.runner import query_settings
    from query.selectors import property_types_for_team

    context = kwargs.get("limit_context", "query")
    ctx = HogQLContext(
        team_id=team.pk,
        timezone=team.timezone or "UTC",
        database=settings.CLICKHOUSE_DATABASE,
        property_types=property_types_for_team(team=team),
    )
    limit = kwargs.get("limit")
    page = min(limit if limit is not None else LIMIT_CONTEXTS[context].default, LIMIT_CONTEXTS[context].maximum)
    compiled = compile_hogql(
        query, ctx, limit_context=LIMIT_CONTEXTS[context], paginate=(page, 0), settings=query_settings(context)
    )
    return compiled.params
