"""The RetentionQuery case of `python -m bench.query`: weekly recurring retention of `$pageview`, 7 cohorts
(`totalIntervals: 7`, no date_from: the 7 weeks up to the one holding today, Sunday weeks, UTC project),
through the RetentionQuery kind (runner and /query/) versus one hand-written ClickHouse statement, which must
give the same table before anything is timed.

The hand statement groups the events once by (person, week) — persons resolved through person_distinct_id2,
as HogQL's `person_id` —, collects each person's weeks, and counts, per cohort week, the person's weeks from
it on (ARRAY JOIN twice).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

NAME = "retention weekly x7"
WEEKS = 7

Answer = dict[tuple[str, int], int]
"""(cohort week start, offset) → actors, zero cells left out."""


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)  # Sunday weeks (team week_start_day 0)


def retention_query(today: dt.date) -> dict[str, Any]:
    return {
        "kind": "RetentionQuery",
        "dateRange": {"date_to": today.isoformat()},
        "retentionFilter": {
            "period": "Week",
            "totalIntervals": WEEKS,
            "retentionType": "retention_recurring",
            "targetEntity": {"id": "$pageview", "type": "events"},
            "returningEntity": {"id": "$pageview", "type": "events"},
        },
    }


def hand_sql(*, events: str, pdi: str, team_id: int, today: dt.date) -> str:
    end = week_start(today) + dt.timedelta(days=7)
    start = end - dt.timedelta(days=7 * WEEKS)
    return f"""
WITH pdi AS (
    SELECT distinct_id, argMax(person_id, version) AS person_id
    FROM {pdi} WHERE team_id = {team_id}
    GROUP BY distinct_id HAVING argMax(is_deleted, version) = 0
),
weeks AS (
    SELECT person_id, groupArray(week) AS active
    FROM (
        SELECT pdi.person_id AS person_id, toStartOfWeek(e.timestamp, 0, 'UTC') AS week
        FROM {events} AS e INNER JOIN pdi ON e.distinct_id = pdi.distinct_id
        WHERE e.team_id = {team_id} AND e.event = '$pageview'
          AND e.timestamp >= toDateTime('{start} 00:00:00', 'UTC') AND e.timestamp < toDateTime('{end} 00:00:00', 'UTC')
        GROUP BY person_id, week
    )
    GROUP BY person_id
)
SELECT cohort, intDiv(toUInt32(returned - cohort), 7) AS offset, count() AS actors
FROM weeks ARRAY JOIN active AS cohort ARRAY JOIN arrayFilter(w -> w >= cohort, active) AS returned
GROUP BY cohort, offset
"""


def answer_from_rows(rows: list[Any]) -> Answer:
    return {(str(cohort)[:10], int(offset)): int(n) for cohort, offset, n in rows if n}


def answer_from_results(results: list[dict[str, Any]]) -> Answer:
    answer: Answer = {}
    for row in results:
        for k, value in enumerate(row["values"]):
            if value["count"]:
                answer[(row["date"][:10], k)] = int(value["count"])
    return answer


def check_equal(path: Answer, hand: Answer, label: str) -> None:
    if not hand:
        raise SystemExit(f"{NAME}: the hand SQL found no retention at all")
    if path != hand:
        diff = sorted(set(path.items()) ^ set(hand.items()))[:5]
        raise SystemExit(f"{NAME}: {label} differs from the hand SQL: {diff}")


def run_case(bench: Any) -> bool:
    """Check the runner and /query/ against the hand SQL, then time /query/ against it (each first in turn)."""
    import statistics

    from posthog_clone.clickhouse import table
    from query.kinds import KINDS

    today = dt.datetime.now(dt.UTC).date()
    query = retention_query(today)
    hand = hand_sql(events=table("events"), pdi=table("person_distinct_id2"), team_id=bench.team.pk, today=today)
    expected = answer_from_rows(bench._raw(hand)[1].rows)  # noqa: SLF001
    check_equal(answer_from_results(KINDS["RetentionQuery"].run(bench.team, query, "query")["results"]), expected,
                "the RetentionQuery runner")  # fmt: skip
    check_equal(answer_from_results(bench._post(query)[1]["results"]), expected, "/query/")  # noqa: SLF001
    import query.kinds.retention as retention_kind
    from bench.query.trends import SqlRecorder

    with SqlRecorder(retention_kind) as recorder:
        KINDS["RetentionQuery"].run(bench.team, query, "query")
    [(compiled, params)] = recorder.compiled
    if bench.args.show_sql:
        print(f"\n-- RetentionQuery compiled\n{compiled}\n\n-- hand-written\n{hand}")
    runs = {
        "raw": lambda: bench._raw(hand)[0],  # noqa: SLF001
        "api": lambda: bench._post(query)[0],  # noqa: SLF001
        "own": lambda: bench._raw(compiled, params)[0],  # noqa: SLF001
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(bench.args.repeat):
        for name in list(runs)[i % 3 :] + list(runs)[: i % 3]:
            times[name].append(runs[name]())
    api_ms, raw_ms, own_ms = (statistics.median(times[n]) * 1000 for n in ("api", "raw", "own"))
    ok = api_ms <= 1.2 * raw_ms + 5
    print(
        f"{NAME:<28}{api_ms:>12.1f}{raw_ms:>13.1f}{api_ms / raw_ms:>8.2f}{api_ms - raw_ms:>13.1f}{'-':>17}  "
        f"{'ok' if ok else 'MISS'}\n{'':<4}raw = the hand SQL; target ≤ 1.2 × raw + 5 = {1.2 * raw_ms + 5:.1f} ms\n"
        f"{'':<4}the runner's compiled query run directly: {own_ms:.1f} ms ({own_ms / raw_ms:.2f} × raw)"
    )
    return ok
