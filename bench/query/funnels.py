"""The FunnelsQuery case of `python -m bench.query`: an ordered 3-step funnel `$pageview` → `signup` →
`purchase` over 30 days (14-day window), through the FunnelsQuery kind (its runner and the /query/ endpoint)
versus one hand-written ClickHouse statement run on the client, which must give the same answer.

The hand statement resolves person ids through person_distinct_id2 (as HogQL's `person_id`), gathers each
person's step events in time order and folds them (`arrayFold` over a tuple of scalars) keeping, per step, the
latest entry that reached it (its timestamps) and the first path to reach the furthest step; then counts and
averages / medians the step times. `windowFunnel` over the same events cross-checks the counts (the same
ordered semantics, natively).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

NAME = "funnel 3 steps 30d"
STEPS = ("$pageview", "signup", "purchase")
WINDOW_DAYS = 14

Answer = list[tuple[int, float | None, float | None]]
"""Per step: (count, average, median conversion time, seconds rounded to 3 dp)."""


def funnels_query(today: dt.date) -> dict[str, Any]:
    return {
        "kind": "FunnelsQuery",
        "series": [{"kind": "EventsNode", "event": event} for event in STEPS],
        "funnelsFilter": {"funnelWindowInterval": WINDOW_DAYS, "funnelWindowIntervalUnit": "day"},
        "dateRange": {"date_from": (today - dt.timedelta(days=30)).isoformat(), "date_to": today.isoformat()},
    }


def _per_person(*, events: str, pdi: str, team_id: int, today: dt.date, timezone: str) -> str:
    start, end = today - dt.timedelta(days=30), today + dt.timedelta(days=1)
    tz = timezone.replace("'", "")
    steps = ", ".join(f"'{s}'" for s in STEPS)
    return f"""
WITH pdi AS (
    SELECT distinct_id, argMax(person_id, version) AS person_id
    FROM {pdi} WHERE team_id = {team_id}
    GROUP BY distinct_id HAVING argMax(is_deleted, version) = 0
)
SELECT pdi.person_id AS person, toUnixTimestamp64Milli(e.timestamp) AS ts, indexOf([{steps}], e.event) - 1 AS step,
       e.timestamp AS timestamp
FROM {events} AS e INNER JOIN pdi ON e.distinct_id = pdi.distinct_id
WHERE e.team_id = {team_id} AND e.event IN ({steps})
  AND e.timestamp >= toDateTime64('{start} 00:00:00', 6, '{tz}')
  AND e.timestamp < toDateTime64('{end} 00:00:00', 6, '{tz}')
"""


def hand_sql(**where: Any) -> str:
    """Rows (step, count, avg seconds, median seconds). The fold's state, written out for 3 steps: the latest
    entry at step 0 (p00), at step 1 (p10, p11), at step 2 (p20, p21, p22), the best path (b0, b1, b2) and its
    length; each event is one step (e.2)."""
    w = WINDOW_DAYS * 86400 * 1000
    m1 = f"(e.2 = 1 AND s.1 > 0 AND e.1 - s.1 <= {w} AND s.2 != s.1)"
    m2 = f"(e.2 = 2 AND s.2 > 0 AND e.1 - s.2 <= {w} AND s.4 != s.2)"
    level = f"multiIf({m2}, 3, {m1}, 2, e.2 = 0, 1, 0)"
    better = f"{level} > s.10"
    fold = f"""arrayFold((s, e) -> if(s.10 = 3, s, (
        if(e.2 = 0, e.1, s.1), if({m1}, s.1, s.2), if({m1}, e.1, s.3),
        if({m2}, s.2, s.4), if({m2}, s.3, s.5), if({m2}, e.1, s.6),
        if({better}, multiIf({m2}, s.2, {m1}, s.1, e.1), s.7),
        if({better}, multiIf({m2}, s.3, {m1}, e.1, 0), s.8),
        if({better}, multiIf({m2}, e.1, 0), s.9),
        greatest(s.10, {level}))),
      arraySort(e -> (e.1, e.2), groupArray((ts, step))),
      (toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0),
       toInt64(0)))"""
    n = len(STEPS)
    times = ", ".join(f"(path[{k + 1}] - path[{k}]) / 1000" for k in range(1, n))
    return f"""
SELECT arrayJoin(range({n})) AS k, countIf(length(path) > k),
       avgIf(t[k + 1], length(path) > k AND t[k + 1] > 0),
       quantileExactInclusiveIf(0.5)(t[k + 1], length(path) > k AND t[k + 1] > 0)
FROM (SELECT path, [0, {times}] AS t FROM (
    SELECT arraySlice([f.7, f.8, f.9], 1, f.10) AS path FROM (
        SELECT {fold} AS f FROM ({_per_person(**where)}) GROUP BY person)))
GROUP BY k ORDER BY k
"""


def window_funnel_sql(**where: Any) -> str:
    """Counts per step by ClickHouse's own windowFunnel (seconds)."""
    conditions = ", ".join(f"step = {k}" for k in range(len(STEPS)))
    return f"""
SELECT level, count() FROM (
  SELECT person, windowFunnel({WINDOW_DAYS * 86400})(toDateTime(timestamp), {conditions}) AS level
  FROM ({_per_person(**where)}) GROUP BY person)
WHERE level > 0 GROUP BY level ORDER BY level
"""


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if value != value else round(value, 3)


def answer_from_rows(rows: list[Any]) -> Answer:
    return [(int(c), _seconds(a) if k else None, _seconds(m) if k else None) for k, c, a, m in rows]


def answer_from_items(items: list[dict[str, Any]]) -> Answer:
    return [
        (int(i["count"]), _seconds(i["average_conversion_time"]), _seconds(i["median_conversion_time"])) for i in items
    ]


def counts_from_levels(rows: list[Any]) -> list[int]:
    at_least = [0] * len(STEPS)
    for level, actors in rows:
        for k in range(int(level)):
            at_least[k] += int(actors)
    return at_least


def check_equal(path: Answer, hand: Answer, label: str) -> None:
    if not hand or hand[-1][0] == 0:
        raise SystemExit(f"{NAME}: the loaded data converts nobody: it proves nothing")
    for k, (ours, theirs) in enumerate(zip(path, hand, strict=True)):
        same_times = all(
            (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= max(1e-6 * abs(b), 1e-3))
            for a, b in zip(ours[1:], theirs[1:], strict=True)
        )
        if ours[0] != theirs[0] or not same_times:
            raise SystemExit(f"{NAME}: {label} differs from the hand SQL at step {k}: {ours} != {theirs}")
