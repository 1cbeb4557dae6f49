"""Everyday HogQL beyond the corpus: windows, CASE/if, IN/BETWEEN/LIKE, dates, arrays, JSON functions,
casts, aliased and joined lazy tables, subquery columns, LIMIT forms. Each checks the rows it returns."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from query.runner import hogql_execute
from tests.query.conftest import insert_events, insert_person

T1 = dt.datetime(2024, 5, 6, 10, 0, tzinfo=dt.UTC)  # a Monday
T2 = dt.datetime(2024, 5, 8, 12, 0, tzinfo=dt.UTC)

CASES: list[tuple[str, Any]] = [
    ("SELECT event, row_number() OVER (ORDER BY timestamp) FROM events ORDER BY timestamp", [["a", 1], ["b", 2]]),
    ("SELECT countIf(event = 'a'), if(count() > 1, 'many', 'one'), multiIf(1 = 2, 1, 2 = 2, 2, 3) FROM events",
     [[1, "many", 2]]),
    ("SELECT event FROM events WHERE event IN ('a', 'z') AND timestamp BETWEEN '2024-05-01' AND '2024-05-07'",
     [["a"]]),
    ("SELECT event FROM events WHERE event LIKE 'a%' OR properties.$browser ILIKE '%saf%' ORDER BY event",
     [["a"], ["b"]]),
    ("SELECT toStartOfWeek(timestamp, 1), dateDiff('day', min(timestamp), max(timestamp)) FROM events "
     "GROUP BY 1", [["2024-05-06", 2]]),
    ("SELECT arrayJoin(['x', 'y']) AS x, groupArray(event) FROM events WHERE event = 'a' GROUP BY x ORDER BY x",
     [["x", ["a"]], ["y", ["a"]]]),
    ("SELECT JSONExtractString(properties, '$browser'), properties.$browser IS NULL FROM events ORDER BY event",
     [["Chrome", 0], ["Safari", 0]]),
    ("SELECT DISTINCT event FROM events ORDER BY event DESC NULLS LAST", [["b"], ["a"]]),
    ("SELECT toString(properties.price), CAST(event AS String), tuple(1, 2).1 FROM events ORDER BY event",
     [["3", "a", 1], [None, "b", 1]]),
    ("SELECT e.event, e.properties.$browser, e.person.properties.email, e.pdi.distinct_id FROM events e "
     "ORDER BY e.event", [["a", "Chrome", "x@example.com", "user-1"], ["b", "Safari", "x@example.com", "user-1"]]),
    ("SELECT event, count() FROM events GROUP BY event HAVING count() > 0 ORDER BY 1 DESC", [["b", 1], ["a", 1]]),
    ("SELECT toDate(timestamp) AS d, count() FROM events GROUP BY d ORDER BY d",
     [["2024-05-06", 1], ["2024-05-08", 1]]),
    ("SELECT sum(toFloat(properties.price)), avg(toInt(properties.price)) FROM events", [[3.0, 3.0]]),
    ("SELECT concat(event, '-', properties.missing), lower('AB'), length(event) FROM events WHERE event = 'a'",
     [["a-", "ab", 1]]),
    ("SELECT event FROM events WHERE distinct_id IN (SELECT distinct_id FROM person_distinct_ids "
     "WHERE person.properties.email LIKE '%example%') ORDER BY event", [["a"], ["b"]]),
    ("SELECT p.properties.email, count() FROM events e JOIN persons p ON e.person_id = p.id "
     "GROUP BY p.properties.email", [["x@example.com", 2]]),
    ("SELECT session.$session_duration, session.$entry_current_url, session.$pageview_count FROM events "
     "WHERE event = 'a'", [[180000, "https://a.example/1", 0]]),
    ("SELECT uniq(person_id), uniqExact(distinct_id) FROM events", [[1, 1]]),
    ("SELECT x FROM (SELECT event AS x FROM events) GROUP BY x ORDER BY x", [["a"], ["b"]]),
    ("SELECT sub.properties.$browser FROM (SELECT properties, event FROM events) AS sub ORDER BY sub.event",
     [["Chrome"], ["Safari"]]),
    ("SELECT t.event FROM (SELECT * FROM events) t ORDER BY t.event", [["a"], ["b"]]),
    ("SELECT event, count() AS c FROM events GROUP BY event ORDER BY event LIMIT 1 OFFSET 1", [["b", 1]]),
    ("SELECT event FROM events ORDER BY event LIMIT 1, 1", [["b"]]),
    ("SELECT [1, 2][2], coalesce(properties.missing, 'none'), properties.missing ?? 'dflt', event = 'a' ? 1 : 2 "
     "FROM events WHERE event = 'a'", [[2, "none", "dflt", 1]]),
    ("SELECT count(*), COUNT() FROM events", [[2, 2]]),
    ("SELECT event FROM events WHERE NOT (event = 'a')", [["b"]]),
    ("SELECT formatDateTime(timestamp, '%Y'), toUnixTimestamp(timestamp) FROM events WHERE event = 'a'",
     [["2024", int(T1.timestamp())]]),
    ("WITH 2 AS two, t AS (SELECT event FROM events) SELECT count() * two FROM t", [[4]]),
]  # fmt: skip


@pytest.mark.clickhouse
def test_everyday_queries_return_expected_rows(project: Any, other_project: Any) -> None:
    insert_events(
        project.team.pk,
        [
            {"event": "a", "timestamp": T1, "properties": {"$browser": "Chrome", "price": 3, "$session_id": "s1",
                                                            "$current_url": "https://a.example/1"}},
            {"event": "b", "timestamp": T2, "properties": {"$browser": "Safari", "$session_id": "s1"}},
        ],
    )  # fmt: skip
    insert_events(other_project.team.pk, [{"event": "a", "timestamp": T1, "properties": {"$session_id": "s1"}}])
    insert_person(project.team.pk, ["user-1"], {"email": "x@example.com"})
    insert_person(other_project.team.pk, ["user-1"], {"email": "other@example.com"})
    failures = []
    for query, expected in CASES:
        rows = hogql_execute(team=project.team, query=query).results
        if rows != expected:
            failures.append((query, rows, expected))
    assert not failures, failures


@pytest.mark.clickhouse
def test_property_strings_are_posthogs_raw_values_with_the_quotes_trimmed(project: Any) -> None:
    properties = {"s": "plain", "q": 'say "hi"', "qq": '"', "n": 12, "b": True, "e": "", "z": None, "o": {"a": "b"}}
    properties["arr"] = ["x", 1]
    insert_events(project.team.pk, [{"event": "a", "timestamp": T1, "properties": properties}])
    query = (
        "SELECT properties.s, properties.q, properties.qq, properties.n, properties.b, properties.e, properties.z, "
        "properties.missing, properties.o.a FROM events"
    )
    # escapes stay as stored (PostHog reads the raw JSON and only trims the quotes); "" stays "", null is NULL
    expected = ["plain", 'say \\"hi\\"', '\\"', "12", "true", "", None, None, "b"]
    assert hogql_execute(team=project.team, query=query).results == [expected]
    # every value, objects and arrays included, as PostHog's regexp form gives it
    regexp = "replaceRegexpAll(nullIf(nullIf(JSONExtractRaw(properties, '{}'), ''), 'null'), '^\"|\"$', '')"
    keys = [*properties, "missing"]
    same = ", ".join(f"properties.{k} IS NOT DISTINCT FROM {regexp.format(k)}" for k in keys)
    assert hogql_execute(team=project.team, query=f"SELECT {same} FROM events").results == [[1] * len(keys)]


@pytest.mark.clickhouse
def test_timestamps_compare_with_moments_as_instants_and_with_strings_in_the_project_timezone(project: Any) -> None:
    project.team.timezone = "Asia/Tokyo"  # UTC+9, no DST: T1 (10:00 UTC) is 19:00 there
    project.team.save()
    insert_events(project.team.pk, [{"event": "a", "timestamp": T1}])
    cases = {
        "timestamp >= toDateTime64('2024-05-06 10:00:00', 6, 'UTC')": 1,
        "timestamp < toDateTime64('2024-05-06 10:00:00', 6, 'UTC')": 0,
        "timestamp >= toDateTime('2024-05-06 19:00:00')": 1,  # parsed in the project timezone
        "timestamp > toDateTime('2024-05-06 19:00:00')": 0,
        "timestamp >= '2024-05-06 19:00:00'": 1,  # a string: read in the project timezone too
        "timestamp > '2024-05-06 19:00:00'": 0,
        "timestamp > now() - INTERVAL 100 YEAR": 1,
    }
    got = {
        c: hogql_execute(team=project.team, query=f"SELECT count() FROM events WHERE {c}").results[0][0] for c in cases
    }
    assert got == cases
