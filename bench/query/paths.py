"""The PathsQuery case of `python -m bench.query`: `$pageview` paths over 30 days (default stepLimit 5 and
edgeLimit 50; the bench's URLs are `https://example.com/p/<0–49>`), through the PathsQuery kind (runner and
/query/) versus one hand-written ClickHouse statement, which must give the same edges before anything is timed.

The hand statement resolves persons through person_distinct_id2 (as HogQL's `person_id`), sorts each person's
(timestamp, URL) pairs, splits them at 30-minute gaps, collapses repeats (keeping the last), keeps 5 nodes and
turns each path into its edges with one `arrayMap` (the kind ARRAY JOINs nodes instead); the ranking, the
edge limit and the reachability rule are the same.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

NAME = "paths $pageview 30d"

Answer = list[tuple[str, str, int, float]]


def paths_query(today: dt.date) -> dict[str, Any]:
    return {
        "kind": "PathsQuery",
        "dateRange": {"date_from": (today - dt.timedelta(days=30)).isoformat(), "date_to": today.isoformat()},
        "pathsFilter": {"includeEventTypes": ["$pageview"]},
    }


_RAW = "nullIf(nullIf(JSONExtractRaw(e.properties, '$current_url'), ''), 'null')"
_QUOTED = f"startsWith({_RAW}, '\"')"
POSTHOG_READ = f"ifNull(substring({_RAW}, 1 + {_QUOTED}, length({_RAW}) - 2 * {_QUOTED}), '')"
"""`$current_url` as HogQL reads any property (the raw JSON value, a string's quotes trimmed, escapes kept)."""


def hand_sql(*, events: str, pdi: str, team_id: int, today: dt.date, read: str = "JSONExtractString") -> str:
    """The edges in one statement. `read` is how `$current_url` is read: JSONExtractString (what one writes by
    hand; the bench's URLs are plain strings) or POSTHOG_READ (what the kind reads, as every HogQL property)."""
    start, end = today - dt.timedelta(days=30), today + dt.timedelta(days=1)
    value = "JSONExtractString(e.properties, '$current_url')" if read == "JSONExtractString" else read
    url = f"replaceRegexpAll({value}, '(.)/$', '\\\\1')"
    return f"""
WITH pdi AS (
    SELECT distinct_id, argMax(person_id, version) AS person_id
    FROM {pdi} WHERE team_id = {team_id}
    GROUP BY distinct_id HAVING argMax(is_deleted, version) = 0
)
SELECT edge.1 AS source, edge.2 AS target, count() AS value, avg(edge.3) AS ms
FROM (
    SELECT arrayJoin(arrayMap(i -> (concat(toString(i), '_', p[i].2), concat(toString(i + 1), '_', p[i + 1].2),
        toUnixTimestamp64Milli(p[i + 1].1) - toUnixTimestamp64Milli(p[i].1)), range(1, length(p)))) AS edge
    FROM (
        SELECT arraySlice(arrayFilter((e, i) -> i = length(s) OR e.2 != s[i + 1].2, s, arrayEnumerate(s)), 1, 5) AS p
        FROM (
            SELECT arrayJoin(arraySplit((e, gap) -> gap >= 1800000, ev,
                arrayDifference(arrayMap(e -> toUnixTimestamp64Milli(e.1), ev)))) AS s
            FROM (
                SELECT pdi.person_id AS person, arraySort(groupArray((e.timestamp, {url}))) AS ev
                FROM {events} AS e INNER JOIN pdi ON e.distinct_id = pdi.distinct_id
                WHERE e.team_id = {team_id} AND e.event = '$pageview'
                  AND e.timestamp >= toDateTime64('{start} 00:00:00', 6, 'UTC')
                  AND e.timestamp < toDateTime64('{end} 00:00:00', 6, 'UTC')
                GROUP BY person
            )
        )
    )
)
GROUP BY source, target
ORDER BY value DESC, source, target
LIMIT 50
"""


def answer_from_rows(rows: list[Any]) -> Answer:
    from query.kinds.paths import reachable

    kept = reachable([list(row) for row in rows])
    return [(s, t, int(v), round(float(ms), 3)) for s, t, v, ms in kept]


def answer_from_results(results: list[dict[str, Any]]) -> Answer:
    return [(e["source"], e["target"], e["value"], round(e["average_conversion_time"], 3)) for e in results]


def check_equal(path: Answer, hand: Answer, label: str) -> None:
    if not hand:
        raise SystemExit(f"{NAME}: the hand SQL found no edges at all")
    if path != hand:
        diff = [(a, b) for a, b in zip(path, hand, strict=False) if a != b][:3]
        raise SystemExit(f"{NAME}: {label} differs from the hand SQL ({len(path)} vs {len(hand)} edges): {diff}")


def run_case(bench: Any) -> bool:
    """Check the runner and /query/ against the hand SQL (both reads), then time the three, each first in turn.
    The target is ≤ 1.2 × the hand SQL reading `$current_url` as the kind must (escapes kept) + 5 ms: reading it
    with JSONExtractString instead is most of the difference to the plain hand SQL (the bench prints both)."""
    from posthog_clone.clickhouse import table
    from query.kinds import KINDS

    today = dt.datetime.now(dt.UTC).date()
    query = paths_query(today)
    where = {"events": table("events"), "pdi": table("person_distinct_id2"), "team_id": bench.team.pk, "today": today}
    hand, exact = hand_sql(**where), hand_sql(**where, read=POSTHOG_READ)
    expected = answer_from_rows(bench._raw(hand)[1].rows)  # noqa: SLF001
    check_equal(answer_from_rows(bench._raw(exact)[1].rows), expected, "the PostHog-read hand SQL")  # noqa: SLF001
    runner = KINDS["PathsQuery"].run(bench.team, query, "query")
    check_equal(answer_from_results(runner["results"]), expected, "the PathsQuery runner")
    check_equal(answer_from_results(bench._post(query)[1]["results"]), expected, "/query/")  # noqa: SLF001
    if bench.args.show_sql:
        print(f"\n-- PathsQuery HogQL\n{runner['hogql']}\n\n-- hand-written\n{hand}")
    runs = {
        "raw": lambda: bench._raw(hand)[0],  # noqa: SLF001
        "api": lambda: bench._post(query)[0],  # noqa: SLF001
        "exact": lambda: bench._raw(exact)[0],  # noqa: SLF001
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(bench.args.repeat):
        for name in list(runs)[i % 3 :] + list(runs)[: i % 3]:
            times[name].append(runs[name]())
    api_ms, raw_ms, exact_ms = (statistics.median(times[n]) * 1000 for n in ("api", "raw", "exact"))
    ok = api_ms <= 1.2 * exact_ms + 5
    print(
        f"{NAME:<28}{api_ms:>12.1f}{raw_ms:>13.1f}{api_ms / raw_ms:>8.2f}{api_ms - raw_ms:>13.1f}{'-':>17}  "
        f"{'ok' if ok else 'MISS'}\n{'':<4}{len(expected)} edges; raw = the hand SQL (JSONExtractString); the hand "
        f"SQL reading $current_url as HogQL does: {exact_ms:.1f} ms, /query/ is {api_ms / exact_ms:.2f} × that "
        f"(target ≤ 1.2 × + 5 = {1.2 * exact_ms + 5:.1f} ms)"
    )
    return ok
