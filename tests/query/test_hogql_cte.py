"""WITH, subqueries and `*` expansion: every form PostHog's HogQL accepts compiles to SQL chDB runs.

One fixed dataset (expected rows worked out by hand below) and a second project holding look-alike rows
(its own pageviews, a `leak` event, a person with the same distinct id): any read that escapes the team
guard changes a count or adds a row. Each passing case also checks the SQL itself: every real table read,
at any depth (CTE, FROM subquery, IN subquery, scalar subquery, lazy join), carries this project's guard.

Dataset (project timezone UTC):
    1  pageview  u1  2024-05-06 10:00  {$browser: Chrome, n: 1}
    2  pageview  u2  2024-05-06 11:00  {$browser: Safari, n: 2}
    3  click     u1  2024-05-07 10:00  {$browser: Chrome, n: 3}
    4  signup    u3  2024-05-08 09:00  {n: 4}
    5  pageview  u1  2024-05-08 12:00  {$browser: Chrome, n: 5}
    persons: u1 → a@x.io (plan pro), u2 → b@x.io (plan free); u3 has no person.
So: pageview 3, click 1, signup 1; u1 has 3 events, u2 1, u3 1; max(n) = 5.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from query.hogql.errors import HogQLQueryError, HogQLSyntaxError
from query.runner import hogql_execute
from tests.query.conftest import insert_events, insert_person

EVENTS = [
    ("pageview", "u1", dt.datetime(2024, 5, 6, 10, tzinfo=dt.UTC), {"$browser": "Chrome", "n": 1}),
    ("pageview", "u2", dt.datetime(2024, 5, 6, 11, tzinfo=dt.UTC), {"$browser": "Safari", "n": 2}),
    ("click", "u1", dt.datetime(2024, 5, 7, 10, tzinfo=dt.UTC), {"$browser": "Chrome", "n": 3}),
    ("signup", "u3", dt.datetime(2024, 5, 8, 9, tzinfo=dt.UTC), {"n": 4}),
    ("pageview", "u1", dt.datetime(2024, 5, 8, 12, tzinfo=dt.UTC), {"$browser": "Chrome", "n": 5}),
]
THEIRS = [
    ("pageview", "u1", dt.datetime(2024, 5, 6, 10, tzinfo=dt.UTC), {"$browser": "Chrome", "n": 9}),
    ("pageview", "u1", dt.datetime(2024, 5, 7, 10, tzinfo=dt.UTC), {"$browser": "Chrome", "n": 9}),
    ("click", "u1", dt.datetime(2024, 5, 7, 11, tzinfo=dt.UTC), {"n": 9}),
    ("leak", "u9", dt.datetime(2024, 5, 8, 9, tzinfo=dt.UTC), {"n": 9}),
]

TOP = "WITH top AS (SELECT event, count() AS c FROM events GROUP BY event) "
PER_USER = "(SELECT distinct_id, count() AS c FROM events GROUP BY distinct_id)"
EMAILS = "(SELECT id, properties.email AS email FROM persons)"

# (query, expected rows) — or (query, expected rows, expected columns)
CASES: list[tuple[Any, ...]] = [
    # WITH name AS (SELECT …)
    (TOP + "SELECT * FROM top ORDER BY c DESC LIMIT 1", [["pageview", 3]], ["event", "c"]),
    (TOP + "SELECT * FROM top ORDER BY c DESC, event", [["pageview", 3], ["click", 1], ["signup", 1]]),
    (TOP + "SELECT event FROM top WHERE c > 1", [["pageview"]]),
    (TOP + "SELECT top.* FROM top WHERE top.c = 1 ORDER BY top.event", [["click", 1], ["signup", 1]]),
    (TOP + "SELECT t.* FROM top AS t ORDER BY t.c DESC LIMIT 1", [["pageview", 3]]),
    (TOP + "SELECT t.event, t.c * 2 AS double FROM top t ORDER BY double DESC LIMIT 1", [["pageview", 6]]),
    (TOP + "SELECT sum(c) FROM top", [[5]]),
    ("WITH e AS (SELECT * FROM events WHERE event = 'signup') SELECT e.event, e.distinct_id, e.properties.n FROM e",
     [["signup", "u3", "4"]]),
    ("WITH e AS (SELECT event, timestamp FROM events WHERE event = 'signup') SELECT * FROM e",
     [["signup", "2024-05-08T09:00:00Z"]]),
    ("WITH e AS (SELECT event, timestamp FROM events) SELECT toDate(timestamp) AS d, count() FROM e "
     "GROUP BY d ORDER BY d", [["2024-05-06", 2], ["2024-05-07", 1], ["2024-05-08", 2]]),
    ("WITH p AS (SELECT properties.email AS email, properties.plan AS plan FROM persons) "
     "SELECT * FROM p ORDER BY email", [["a@x.io", "pro"], ["b@x.io", "free"]]),
    ("WITH ev AS (SELECT event, person.properties.email AS email FROM events) "
     "SELECT email, count() FROM ev GROUP BY email ORDER BY email", [["a@x.io", 3], ["b@x.io", 1]]),
    # several CTEs, one referring to an earlier one
    ("WITH a AS (SELECT event, distinct_id FROM events WHERE event != 'signup'), "
     "b AS (SELECT distinct_id, count() AS c FROM a GROUP BY distinct_id) SELECT * FROM b ORDER BY distinct_id",
     [["u1", 3], ["u2", 1]]),
    ("WITH pv AS (SELECT distinct_id FROM events WHERE event = 'pageview'), "
     "cl AS (SELECT distinct_id FROM events WHERE event = 'click') "
     "SELECT (SELECT count() FROM pv), (SELECT count() FROM cl)", [[3, 1]]),
    ("WITH a AS (SELECT event FROM events), b AS (SELECT event FROM a WHERE event = 'click'), "
     "c AS (SELECT count() AS n FROM b) SELECT n FROM c", [[1]]),
    ("WITH u AS " + PER_USER + " SELECT a.distinct_id, b.c FROM u AS a JOIN u AS b "
     "ON a.distinct_id = b.distinct_id ORDER BY a.distinct_id", [["u1", 3], ["u2", 1], ["u3", 1]]),
    ("WITH buyers AS (SELECT distinct_id FROM events WHERE event = 'click') SELECT e.event, count() "
     "FROM events e JOIN buyers b ON e.distinct_id = b.distinct_id GROUP BY e.event ORDER BY e.event",
     [["click", 1], ["pageview", 2]]),
    ("WITH buyers AS (SELECT distinct_id FROM events WHERE event = 'click') "
     "SELECT count() FROM events WHERE distinct_id IN (SELECT distinct_id FROM buyers)", [[3]]),
    ("WITH a AS (SELECT event FROM events WHERE event = 'click') SELECT event FROM a UNION ALL SELECT event FROM a",
     [["click"], ["click"]]),
    ("SELECT n FROM (WITH x AS (SELECT event FROM events) SELECT count() AS n FROM x)", [[5]]),
    ("WITH x AS (SELECT event FROM events) SELECT n FROM (SELECT count() AS n FROM x)", [[5]]),
    # WITH expr AS alias
    ("WITH 2 AS k SELECT event, count() * k FROM events GROUP BY event ORDER BY event",
     [["click", 2], ["pageview", 6], ["signup", 2]]),
    ("WITH (SELECT count() FROM events) AS total SELECT event, count() / total FROM events "
     "GROUP BY event ORDER BY event", [["click", 0.2], ["pageview", 0.6], ["signup", 0.2]]),
    ("WITH toDate(timestamp) AS day SELECT day, count() FROM events GROUP BY day ORDER BY day",
     [["2024-05-06", 2], ["2024-05-07", 1], ["2024-05-08", 2]]),
    ("WITH 'click' AS wanted, top AS (SELECT event, count() AS c FROM events GROUP BY event) "
     "SELECT c FROM top WHERE event = wanted", [[1]]),
    ("WITH count() AS c SELECT event, c FROM events GROUP BY event ORDER BY c DESC, event LIMIT 1",
     [["pageview", 3]]),
    # subqueries in FROM
    ("SELECT event, c FROM (SELECT event, count() AS c FROM events GROUP BY event) ORDER BY c DESC, event",
     [["pageview", 3], ["click", 1], ["signup", 1]]),
    ("SELECT s.event FROM (SELECT event FROM events WHERE distinct_id = 'u2') AS s", [["pageview"]]),
    ("SELECT * FROM (SELECT * FROM (SELECT event, distinct_id FROM events WHERE event = 'click'))",
     [["click", "u1"]], ["event", "distinct_id"]),
    ("SELECT count() FROM (SELECT event FROM events UNION ALL SELECT event FROM events)", [[10]]),
    ("SELECT count() FROM (SELECT * FROM events)", [[5]]),
    ("SELECT s.event FROM (SELECT e.* FROM events e) s WHERE s.distinct_id = 'u3'", [["signup"]]),
    ("SELECT s.properties.$browser FROM (SELECT * FROM events) AS s WHERE s.event = 'click'", [["Chrome"]]),
    ("SELECT sum(c) FROM " + PER_USER, [[5]]),
    # JOINs between subqueries, CTEs and tables
    ("SELECT a.distinct_id, a.c, b.m FROM " + PER_USER + " a JOIN (SELECT distinct_id, max(toInt(properties.n)) "
     "AS m FROM events GROUP BY distinct_id) b ON a.distinct_id = b.distinct_id ORDER BY a.distinct_id",
     [["u1", 3, 5], ["u2", 1, 2], ["u3", 1, 4]]),
    ("SELECT e.distinct_id, s.c FROM events e LEFT JOIN (SELECT distinct_id, count() AS c FROM events "
     "WHERE event = 'click' GROUP BY distinct_id) s ON e.distinct_id = s.distinct_id WHERE e.event = 'click'",
     [["u1", 1]]),
    ("SELECT p.email, count() FROM events e JOIN " + EMAILS + " p ON e.person_id = p.id "
     "GROUP BY p.email ORDER BY p.email", [["a@x.io", 3], ["b@x.io", 1]]),
    ("SELECT u.distinct_id, u.c FROM " + PER_USER + " u JOIN events e ON u.distinct_id = e.distinct_id "
     "WHERE e.event = 'signup'", [["u3", 1]]),
    ("WITH u AS " + PER_USER + " SELECT u.c, p.email FROM u JOIN (SELECT distinct_id, person.properties.email "
     "AS email FROM events) p ON u.distinct_id = p.distinct_id WHERE p.email = 'b@x.io'", [[1, "b@x.io"]]),
    # subqueries in IN (...) and as scalar expressions
    ("SELECT event FROM events WHERE distinct_id IN (SELECT distinct_id FROM events WHERE event = 'click') "
     "ORDER BY timestamp", [["pageview"], ["click"], ["pageview"]]),
    ("SELECT count() FROM events WHERE distinct_id NOT IN (SELECT distinct_id FROM events WHERE event = 'click')",
     [[2]]),
    ("SELECT count() FROM events WHERE (event, distinct_id) IN "
     "(SELECT event, distinct_id FROM events WHERE distinct_id = 'u1' AND event = 'pageview')", [[2]]),
    ("SELECT count() FROM events WHERE distinct_id IN "
     "(SELECT * FROM (SELECT distinct_id FROM events WHERE event = 'signup'))", [[1]]),
    ("SELECT count() FROM events WHERE person_id IN (SELECT id FROM persons WHERE properties.plan = 'pro')",
     [[3]]),
    ("SELECT event, (SELECT count() FROM persons) FROM events WHERE event = 'signup'", [["signup", 2]]),
    ("SELECT event FROM events WHERE toInt(properties.n) = (SELECT max(toInt(properties.n)) FROM events)",
     [["pageview"]]),
    ("SELECT (SELECT count() FROM events) - (SELECT count() FROM events WHERE event = 'pageview')", [[2]]),
    # * next to other columns, over function tables, with clashing names
    ("SELECT *, 1 AS one FROM (SELECT event FROM events WHERE event = 'click')", [["click", 1]]),
    ("SELECT * FROM numbers(2)", [[0], [1]], ["number"]),
    ("SELECT event, email FROM (SELECT e.*, p.* FROM events e JOIN " + EMAILS + " p ON e.person_id = p.id) "
     "WHERE event = 'click'", [["click", "a@x.io"]]),
    ("SELECT * FROM (SELECT distinct_id, event FROM events WHERE event = 'signup') a JOIN " + PER_USER + " b "
     "ON a.distinct_id = b.distinct_id", [["u3", "signup", "u3", 1]], ["distinct_id", "event", "distinct_id", "c"]),
    ("SELECT *, event FROM events WHERE event = 'signup' AND 0", [],
     ["uuid", "event", "properties", "timestamp", "distinct_id", "elements_chain", "created_at", "$session_id",
      "$window_id", "person_mode", "$group_0", "$group_1", "$group_2", "$group_3", "$group_4", "event"]),
    ("SELECT * FROM persons WHERE 0", [], ["id", "created_at", "properties", "is_identified"]),
    ("SELECT e.*, p.* FROM events e JOIN persons p ON e.person_id = p.id WHERE 0", [],
     ["uuid", "event", "properties", "timestamp", "distinct_id", "elements_chain", "created_at", "$session_id",
      "$window_id", "person_mode", "$group_0", "$group_1", "$group_2", "$group_3", "$group_4", "id", "created_at",
      "properties", "is_identified"]),
    ("SELECT count(*) FROM (SELECT * FROM persons)", [[2]]),
    ("SELECT p.* FROM (SELECT properties.email AS email FROM persons) AS p, (SELECT 1 AS one) AS o "
     "ORDER BY p.email", [["a@x.io"], ["b@x.io"]]),
    ("SELECT * FROM (SELECT 1 AS a), (SELECT 2 AS b)", [[1, 2]]),
    ("SELECT email FROM (SELECT person.properties.email FROM events WHERE event = 'click')", [["a@x.io"]]),
    ("SELECT * FROM (SELECT properties.$browser FROM events WHERE event = 'click')", [["Chrome"]]),
    ("SELECT all.c FROM (SELECT count() AS c FROM events) AS all", [[5]]),
    ("WITH cube AS (SELECT DISTINCT event FROM events) SELECT count() FROM cube", [[3]]),
    ("SELECT events.c FROM (SELECT count() AS c FROM events) AS events", [[5]]),
    ("SELECT count() FROM events e JOIN (SELECT distinct_id FROM events WHERE event = 'click') s USING distinct_id",
     [[3]]),
    ("SELECT * FROM (SELECT event FROM events WHERE event = 'click' UNION ALL "
     "SELECT event FROM events WHERE event = 'signup') ORDER BY event", [["click"], ["signup"]]),
    ("WITH u AS (SELECT event FROM events WHERE event = 'click' UNION ALL "
     "SELECT event FROM events WHERE event = 'signup') SELECT * FROM u ORDER BY event", [["click"], ["signup"]]),
    ("WITH x AS (SELECT 1 AS a) SELECT * FROM (WITH x AS (SELECT 2 AS a) SELECT a FROM x)", [[2]]),
    ("WITH t AS (SELECT count() AS n FROM events), (SELECT n FROM t) AS total SELECT total", [[5]]),
    ("WITH t AS (SELECT distinct_id, timestamp FROM events) SELECT distinct_id, "
     "row_number() OVER (PARTITION BY distinct_id ORDER BY timestamp) AS r FROM t WHERE distinct_id = 'u1' "
     "ORDER BY r", [["u1", 1], ["u1", 2], ["u1", 3]]),
    ("SELECT person.properties.email, distinct_id, c FROM events e JOIN (SELECT distinct_id AS d, count() AS c "
     "FROM events GROUP BY d) s ON e.distinct_id = s.d WHERE event = 'click'", [["a@x.io", "u1", 3]]),
    ("SELECT a.*, b.c FROM (SELECT distinct_id, event FROM events WHERE event = 'signup') a JOIN " + PER_USER
     + " b ON a.distinct_id = b.distinct_id", [["u3", "signup", 1]]),
    ("SELECT s.e, s.n FROM (SELECT event AS e, n FROM events ARRAY JOIN [1, 2] AS n WHERE event = 'click') s "
     "ORDER BY s.n", [["click", 1], ["click", 2]]),
    ("SELECT count() FROM events WHERE distinct_id IN (WITH b AS (SELECT distinct_id FROM events "
     "WHERE event = 'click') SELECT distinct_id FROM b)", [[3]]),
    ("WITH b AS (SELECT distinct_id FROM events WHERE event = 'click') "
     "SELECT count() FROM events WHERE distinct_id IN b", [[3]]),
    ("WITH b AS (SELECT distinct_id FROM events WHERE event = 'click') "
     "SELECT count() FROM events WHERE distinct_id NOT IN b", [[2]]),
    ("SELECT * FROM (SELECT count() FROM events)", [[5]], ["count()"]),
    ("SELECT * FROM (SELECT toDate(timestamp), upper(event) FROM events WHERE event = 'signup')",
     [["2024-05-08", "SIGNUP"]], ["toDate(timestamp)", "upper(event)"]),
    ("WITH t AS (SELECT event, count() FROM events GROUP BY event) SELECT `count()` FROM t WHERE event = 'click'",
     [[1]]),
    ("SELECT count() FROM events WHERE EXISTS (SELECT 1 FROM persons WHERE properties.plan = 'pro')", [[5]]),
    ("SELECT event FROM events GROUP BY event HAVING count() > (SELECT count() FROM events) / 3", [["pageview"]]),
    ("WITH t AS (SELECT event, (SELECT count() FROM events) AS total FROM events) SELECT DISTINCT total FROM t",
     [[5]]),
    ("WITH b AS (SELECT distinct_id FROM events WHERE event = 'click') SELECT e.person.properties.email, "
     "count() FROM events e JOIN b ON e.distinct_id = b.distinct_id GROUP BY 1", [["a@x.io", 3]]),
    ("SELECT b.c, e.person.properties.email FROM " + PER_USER + " b JOIN events e "
     "ON b.distinct_id = e.distinct_id WHERE e.event = 'click'", [[3, "a@x.io"]]),
    ("WITH 2 AS a, a * 3 AS b SELECT b", [[6]]),
    ("SELECT * FROM (SELECT 1, 2)", [[1, 2]], ["1", "2"]),
    ("WITH t AS (SELECT DISTINCT person_id FROM events) SELECT p.properties.email FROM t "
     "JOIN persons p ON t.person_id = p.id ORDER BY 1", [["a@x.io"], ["b@x.io"]]),
    ("WITH t AS (SELECT event FROM events) SELECT * FROM t WHERE event IN (SELECT event FROM t WHERE event = 'click')",
     [["click"]]),
    ("SELECT arraySort(arrayFilter(x -> x > 3, ns)) FROM (SELECT groupArray(toInt(properties.n)) AS ns FROM events)",
     [[[4, 5]]]),
    ("SELECT * FROM (SELECT event AS e FROM events) WHERE e = 'signup'", [["signup"]]),
    ("WITH m AS (SELECT distinct_id, person_id FROM person_distinct_ids) SELECT count() FROM m", [[2]]),
    ("WITH t AS (SELECT groupArray(event) AS evs FROM events) SELECT e FROM t ARRAY JOIN evs AS e WHERE e = 'click'",
     [["click"]]),
    (TOP + "SELECT count() FROM events WHERE event IN (SELECT event FROM top WHERE c = 1)", [[2]]),
    ("SELECT top.event FROM events AS top WHERE top.event = 'click'", [["click"]]),
    # shapes the insight query kinds build: series arrays, zero-filled days, an alias named like its function
    ("SELECT groupArray(day), groupArray(total) FROM (SELECT toDate(timestamp) AS day, count() AS total "
     "FROM events GROUP BY day ORDER BY day)", [[["2024-05-06", "2024-05-07", "2024-05-08"], [2, 1, 2]]]),
    ("SELECT days.d, counts.c FROM (SELECT toDate('2024-05-05') + number AS d FROM numbers(4)) AS days "
     "LEFT JOIN (SELECT toDate(timestamp) AS day, count() AS c FROM events GROUP BY day) AS counts "
     "ON days.d = counts.day ORDER BY days.d",
     [["2024-05-05", 0], ["2024-05-06", 2], ["2024-05-07", 1], ["2024-05-08", 2]]),
    ("SELECT sum(count) FROM (SELECT event, count() AS count FROM events GROUP BY event)", [[5]]),
    # * EXCEPT / REPLACE (ClickHouse's column transformers)
    ("SELECT * EXCEPT (uuid, properties, timestamp, elements_chain, created_at, $session_id, $window_id, "
     "person_mode, $group_0, $group_1, $group_2, $group_3, $group_4) FROM events WHERE event = 'signup'",
     [["signup", "u3"]], ["event", "distinct_id"]),
    ("SELECT t.* EXCEPT (c) FROM (SELECT event, count() AS c FROM events GROUP BY event) AS t ORDER BY event",
     [["click"], ["pageview"], ["signup"]]),
    (TOP + "SELECT * REPLACE (upper(event) AS event) FROM top ORDER BY c DESC LIMIT 1", [["PAGEVIEW", 3]],
     ["event", "c"]),
    ("WITH 2 AS k SELECT * FROM (SELECT k AS v)", [[2]]),
    ("WITH 2 AS k, t AS (SELECT event, k AS v FROM events WHERE event = 'click') SELECT * FROM t", [["click", 2]]),
    ("WITH 'signup' AS wanted SELECT count() FROM events WHERE distinct_id IN "
     "(SELECT distinct_id FROM events WHERE event = wanted)", [[1]]),
    ("SELECT * FROM (WITH 'click' AS wanted, a AS (SELECT event FROM events) SELECT count() AS n FROM a "
     "WHERE event = wanted UNION ALL SELECT count() FROM a) ORDER BY n", [[1], [5]]),
    # EXCEPT keeps duplicates (ClickHouse's default EXCEPT ALL): u1 ×3 minus u1 ×2 leaves one u1
    ("SELECT * FROM (WITH a AS (SELECT distinct_id FROM events) SELECT distinct_id FROM a EXCEPT "
     "SELECT distinct_id FROM events WHERE event = 'pageview') ORDER BY distinct_id", [["u1"], ["u3"]]),
    ("SELECT * FROM (WITH 2 AS k SELECT k AS v UNION ALL SELECT k + 1) ORDER BY v", [[2], [3]]),
    ("SELECT * FROM (WITH (SELECT count() FROM events) AS n SELECT n AS v UNION ALL SELECT n * 2) ORDER BY v",
     [[5], [10]]),
    ("SELECT c FROM events e JOIN (SELECT distinct_id AS d, count() AS c FROM events GROUP BY d) s "
     "ON e.distinct_id = s.d WHERE e.event = 'signup'", [[1]]),
    ("SELECT * FROM sessions WHERE 0", [],
     ["session_id", "distinct_id", "$start_timestamp", "$end_timestamp", "$session_duration", "$urls",
      "$num_uniq_urls", "$entry_current_url", "$entry_pathname", "$end_current_url", "$end_pathname",
      "$entry_referring_domain", "$entry_utm_source", "$entry_utm_campaign", "$entry_utm_medium",
      "$pageview_count", "$autocapture_count", "$screen_count", "$is_bounce"]),
    ("SELECT * FROM raw_groups WHERE 0", [], ["index", "key", "created_at", "updated_at", "properties"]),
    ("SELECT events.* FROM (SELECT event FROM events WHERE event = 'signup') AS events", [["signup"]]),
]  # fmt: skip

ERRORS: list[tuple[str, type, str]] = [
    ("SELECT x.* FROM events", HogQLQueryError, "Unable to resolve field: x"),
    ("SELECT nope FROM (SELECT event FROM events)", HogQLQueryError, "Unable to resolve field: nope"),
    ("SELECT s.nope FROM (SELECT event FROM events) AS s", HogQLQueryError, "Field not found: nope"),
    ("WITH x AS (SELECT event FROM events) SELECT x FROM x", HogQLQueryError,
     "Can't select a table when a column is expected: x"),
    ("SELECT a FROM (WITH x AS (SELECT 1 AS a) SELECT a FROM x) AS s, x", HogQLQueryError, "Unknown table `x`."),
    ("WITH events AS (SELECT 1 AS a) SELECT a FROM events", HogQLQueryError,
     "A CTE cannot be named like the table `events`."),
    ("WITH timestamp AS t SELECT t FROM events UNION ALL SELECT 1", HogQLQueryError,
     "Unable to resolve field: timestamp"),
    ("SELECT * RENAME (event AS e) FROM events", HogQLQueryError, "* RENAME is not supported"),
    ("SELECT distinct_id FROM events e JOIN " + PER_USER + " s ON e.distinct_id = s.distinct_id", HogQLQueryError,
     "Ambiguous query. Found multiple sources for field: distinct_id"),
    ("SELECT *", HogQLQueryError, "Cannot use '*' without a FROM clause"),
    ("WITH RECURSIVE r AS (SELECT 1 AS a) SELECT a FROM r", HogQLSyntaxError, "WITH RECURSIVE is not supported"),
]  # fmt: skip

_REAL_READ = re.compile(r'(?:posthog\.|"posthog"\.)"?(?:events|person|person_distinct_id2|groups)"? AS "?(\w+)"?')


def _seed(team_id: int, other_team_id: int) -> None:
    def rows(items: list[tuple[str, str, dt.datetime, dict[str, Any]]]) -> list[dict[str, Any]]:
        return [{"event": e, "distinct_id": d, "timestamp": t, "properties": p} for e, d, t, p in items]

    insert_events(team_id, rows(EVENTS))
    insert_events(other_team_id, rows(THEIRS))
    insert_person(team_id, ["u1"], {"email": "a@x.io", "plan": "pro"})
    insert_person(team_id, ["u2"], {"email": "b@x.io", "plan": "free"})
    insert_person(other_team_id, ["u1", "u3"], {"email": "theirs@x.io", "plan": "pro"})


def _assert_guarded(sql: str, team_id: int) -> None:
    reads = _REAL_READ.findall(sql)
    assert reads, sql
    for alias in reads:
        assert re.search(rf'equals\("?{alias}"?\.team_id, {team_id}\)', sql), (alias, sql)
    assert len(re.findall(rf"team_id, {team_id}\)", sql)) >= len(reads), sql


@pytest.mark.clickhouse
def test_with_subqueries_and_star_return_expected_rows(project: Any, other_project: Any) -> None:
    team = project.team
    _seed(team.pk, other_project.team.pk)
    failures = []
    for query, expected, *columns in CASES:
        try:
            result = hogql_execute(team=team, query=query)
        except Exception as error:  # collect every failing case, not just the first
            failures.append((query, repr(error)))
            continue
        rows = [[pytest.approx(v) if isinstance(v, float) else v for v in row] for row in result.results]
        if rows != expected or (columns and result.columns != columns[0]):
            failures.append((query, result.results, result.columns, expected))
            continue
        if re.search(r"\b(events|persons)\b", query):
            _assert_guarded(result.clickhouse, team.pk)
        assert f"team_id, {other_project.team.pk})" not in result.clickhouse
    assert not failures, "\n".join(map(str, failures))


@pytest.mark.clickhouse
@pytest.mark.parametrize(("query", "error_type", "message"), ERRORS, ids=[e[2] for e in ERRORS])
def test_rejected_forms(query: str, error_type: type, message: str, project: Any) -> None:
    with pytest.raises(error_type) as info:
        hogql_execute(team=project.team, query=query)
    assert message in str(info.value)


TZ_CASES: list[tuple[str, Any]] = [
    ("WITH e AS (SELECT event, timestamp FROM events WHERE event = 'signup') SELECT * FROM e",
     [["signup", "2024-05-08T05:00:00-04:00"]]),
    ("SELECT toDate(timestamp), toHour(timestamp) FROM (SELECT * FROM events WHERE event = 'pageview') "
     "ORDER BY timestamp", [["2024-05-06", 6], ["2024-05-06", 7], ["2024-05-08", 8]]),
    ("WITH toDate(timestamp) AS day SELECT day, count() FROM events GROUP BY day ORDER BY day",
     [["2024-05-06", 2], ["2024-05-07", 1], ["2024-05-08", 2]]),
    ("SELECT toString(d), count() FROM (SELECT toStartOfDay(timestamp) AS d FROM events WHERE distinct_id = 'u1') "
     "GROUP BY d ORDER BY d", [["2024-05-06 00:00:00", 1], ["2024-05-07 00:00:00", 1], ["2024-05-08 00:00:00", 1]]),
]  # fmt: skip


@pytest.mark.clickhouse
def test_timestamps_through_ctes_and_subqueries_stay_in_the_project_timezone(project: Any, other_project: Any) -> None:
    """DateTimes are shown in the project timezone once, where the table is read, never twice or not at all."""
    team = project.team
    team.timezone = "America/New_York"  # UTC-4 in May
    team.save()
    _seed(team.pk, other_project.team.pk)
    failures = []
    for query, expected in TZ_CASES:
        result = hogql_execute(team=team, query=query)
        if result.results != expected:
            failures.append((query, result.results, expected))
    assert not failures, "\n".join(map(str, failures))
