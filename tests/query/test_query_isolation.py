"""Isolation: escape attempts through POST /query/. Each is refused with 400 or returns only the caller's
rows. Both projects hold data; the other project's data is marked "theirs" in every column it can reach."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.query.conftest import insert_events, insert_person, run

REFUSED = "refused"
OWN = "own"  # 200, never another project's data
OWN_NONEMPTY = "own_nonempty"  # 200, at least one row, never another project's data

TABLE_FUNCTIONS = [
    "SELECT * FROM system.tables",
    "SELECT * FROM system.one",
    'SELECT * FROM "system"."tables"',
    "SELECT * FROM url('http://127.0.0.1:1/x', CSV, 'a String')",
    "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    "SELECT * FROM remote('127.0.0.1', posthog.events)",
    "SELECT * FROM s3('http://127.0.0.1:1/b/x.csv')",
    "SELECT * FROM input('a String')",
    "SELECT * FROM executable('cat /etc/passwd', TSV, 'a String')",
    "SELECT * FROM cluster('default', system.one)",
    "SELECT * FROM merge('posthog', '.*')",
    "SELECT * FROM mysql('127.0.0.1:3306', 'db', 't', 'u', 'p')",
    "SELECT * FROM generateRandom('a String')",
    "SELECT * FROM posthog.events",
    "SELECT * FROM default.events",
    "SELECT * FROM events.events",
    "SELECT * FROM person",
    "SELECT * FROM person_distinct_id2",
    "SELECT dictGet('d', 'a', toUInt64(1))",
    "SELECT currentDatabase()",
    "SELECT sleep(3)",
    "SELECT event FROM events WHERE event IN events",
]
STATEMENTS = [
    "SELECT * FROM events SETTINGS readonly=0",
    "SELECT 1; DROP TABLE events",
    "SELECT 1; SELECT * FROM events",
    "DROP TABLE events",
    "INSERT INTO events SELECT * FROM events",
    "ALTER TABLE events DELETE WHERE 1",
    "SELECT * FROM events FORMAT JSON",
    "SELECT * FROM events INTO OUTFILE '/tmp/leak.csv'",
    "WITH events AS (SELECT * FROM events) SELECT * FROM events",
    "WITH persons AS (SELECT 1) SELECT * FROM persons",
    "SELECT event FROM events AS team_id",
    "SELECT 1 AS team_id FROM events",
    "SELECT {hogql_val_0:String}",
    "SELECT * FROM events LEFT JOIN events AS e2 USING distinct_id",
    "SELECT * FROM (WITH person AS (SELECT 1 AS x) SELECT x FROM person) AS a, person",
    "WITH person AS (SELECT * FROM person) SELECT * FROM person",
    "SELECT * FROM __hogql_cte_person",
    "SELECT system.* FROM events",
    "SELECT posthog.events.* FROM events",
    "WITH t AS (SELECT 1 AS x) SELECT x FROM t WHERE x IN person",
]


def _cases(mine: int, theirs: int) -> list[tuple[str, str, dict[str, Any]]]:
    own = [
        ("SELECT event FROM events -- AND team_id = {theirs}\n WHERE 1", OWN_NONEMPTY, {}),
        ("SELECT event FROM events /* team_id = {theirs} */ WHERE 1 = 1", OWN_NONEMPTY, {}),
        ("SELECT event, distinct_id FROM events WHERE team_id = {theirs}", OWN, {}),
        ("SELECT event, distinct_id FROM events WHERE team_id = {theirs} OR 1 = 1", OWN_NONEMPTY, {}),
        ("SELECT event, distinct_id FROM events WHERE team_id IN ({mine}, {theirs})", OWN_NONEMPTY, {}),
        ("SELECT event FROM events PREWHERE team_id = {theirs} OR 1", OWN, {}),
        ("WITH e AS (SELECT event, distinct_id FROM events) SELECT * FROM e", OWN_NONEMPTY, {}),
        ("WITH e AS (SELECT event FROM events WHERE team_id = {theirs}) SELECT * FROM e", OWN, {}),
        ("WITH person AS (SELECT distinct_id FROM events) SELECT * FROM (SELECT * FROM person)", OWN_NONEMPTY, {}),
        ("WITH t AS (SELECT event FROM events) SELECT * FROM t UNION ALL SELECT * FROM t", OWN_NONEMPTY, {}),
        ("WITH top AS (SELECT event, count() AS c FROM events GROUP BY event) SELECT * FROM top", OWN_NONEMPTY, {}),
        (
            "WITH ids AS (SELECT distinct_id FROM events WHERE team_id = {theirs} OR 1) "
            "SELECT event, distinct_id FROM events WHERE distinct_id IN ids",
            OWN_NONEMPTY,
            {},
        ),
        ("WITH (SELECT groupArray(distinct_id) FROM events) AS ids SELECT ids UNION ALL SELECT ids", OWN_NONEMPTY, {}),
        ("SELECT a.*, p.* FROM events a JOIN persons p ON a.person_id = p.id", OWN_NONEMPTY, {}),
        ("SELECT * FROM (SELECT person.properties.email, distinct_id FROM events)", OWN_NONEMPTY, {}),
        ("SELECT e.event, e.distinct_id FROM events AS e", OWN_NONEMPTY, {}),
        (
            "SELECT a.event, b.distinct_id FROM events a JOIN events b ON a.distinct_id = b.distinct_id",
            OWN_NONEMPTY,
            {},
        ),
        ("SELECT a.event, b.distinct_id FROM events a LEFT JOIN events b ON 1 = 1", OWN_NONEMPTY, {}),
        ("SELECT a.event, b.distinct_id FROM events a FULL OUTER JOIN events b ON a.uuid = b.uuid", OWN, {}),
        ("SELECT a.event, b.distinct_id FROM events a RIGHT JOIN events b ON a.uuid = b.uuid", OWN, {}),
        ("SELECT a.event, b.distinct_id FROM events a, events b", OWN_NONEMPTY, {}),
        ("SELECT a.event, b.key FROM events a CROSS JOIN raw_groups b", OWN, {}),
        ("SELECT event FROM events UNION ALL SELECT distinct_id FROM events", OWN_NONEMPTY, {}),
        ("SELECT event FROM events UNION DISTINCT SELECT distinct_id FROM person_distinct_ids", OWN_NONEMPTY, {}),
        ("SELECT event FROM events INTERSECT SELECT event FROM events", OWN_NONEMPTY, {}),
        ("SELECT event FROM events EXCEPT SELECT 'x'", OWN_NONEMPTY, {}),
        ("SELECT event FROM events WHERE distinct_id IN (SELECT distinct_id FROM events)", OWN_NONEMPTY, {}),
        ("SELECT (SELECT groupArray(distinct_id) FROM events) AS ids", OWN_NONEMPTY, {}),
        (
            "SELECT event, count() AS c FROM events GROUP BY event HAVING c > (SELECT count() - 1000 FROM events)",
            OWN_NONEMPTY,
            {},
        ),
        ("SELECT event FROM events ORDER BY (SELECT any(distinct_id) FROM events)", OWN_NONEMPTY, {}),
        ("SELECT event FROM events GROUP BY event, (SELECT 1 FROM events LIMIT 1)", OWN_NONEMPTY, {}),
        ("SELECT event FROM events LIMIT (SELECT count() FROM events)", OWN_NONEMPTY, {}),
        ("SELECT distinct_id FROM (SELECT * FROM (SELECT * FROM events))", OWN_NONEMPTY, {}),
        ("SELECT x FROM events ARRAY JOIN (SELECT groupArray(distinct_id) FROM events) AS x", OWN_NONEMPTY, {}),
        ("SELECT event FROM events WHERE event = {v}", OWN, {"v": "x' OR 1=1 OR '"}),
        ("SELECT event FROM events WHERE event = {v}", OWN, {"v": "'); SELECT * FROM system.tables; --"}),
        ("SELECT {v}", OWN_NONEMPTY, {"v": "system.tables"}),
        ("SELECT {v} FROM events", OWN_NONEMPTY, {"v": "1) OR team_id = {theirs} OR (1"}),
        ("SELECT * FROM persons", OWN_NONEMPTY, {}),
        ("SELECT properties.email, id FROM raw_persons", OWN_NONEMPTY, {}),
        ("SELECT * FROM person_distinct_ids", OWN_NONEMPTY, {}),
        ("SELECT distinct_id FROM raw_person_distinct_ids", OWN_NONEMPTY, {}),
        ("SELECT * FROM groups", OWN, {}),
        ("SELECT * FROM sessions", OWN_NONEMPTY, {}),
        ("SELECT distinct_id, person.properties.email, person_id FROM events", OWN_NONEMPTY, {}),
        ("SELECT session.distinct_id, session.$urls FROM events", OWN_NONEMPTY, {}),
        ("SELECT group_0.properties FROM events", OWN, {}),
        ("SELECT number FROM numbers(5)", OWN_NONEMPTY, {}),
        ("SELECT distinct_id FROM events SAMPLE 1", OWN_NONEMPTY, {}),
    ]

    def fill(text: str) -> str:
        return text.replace("{mine}", str(mine)).replace("{theirs}", str(theirs))

    return [(fill(q), e, {k: fill(x) for k, x in v.items()}) for q, e, v in own]


def _seed(mine: int, theirs: int) -> None:
    insert_events(mine, [{"event": "mine-event", "distinct_id": "mine-1", "properties": {"$session_id": "s-mine"}}])
    insert_events(
        theirs,
        [
            {
                "event": "theirs-event",
                "distinct_id": "theirs-1",
                "properties": {"$session_id": "theirs-s", "$group_0": "theirs-g"},
            }
        ],
    )
    insert_person(mine, ["mine-1"], {"email": "mine@example.com"})
    insert_person(theirs, ["theirs-1", "mine-1"], {"email": "theirs@example.com"}, version=5)


@pytest.mark.clickhouse
@pytest.mark.parametrize("query", TABLE_FUNCTIONS + STATEMENTS)
def test_escape_attempt_is_refused(query: str, project: Any, other_project: Any) -> None:
    _seed(project.team.pk, other_project.team.pk)
    response = run(project, query)
    assert response.status_code == 400, (query, response.content)
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["code"] in {"hogql_syntax_error", "hogql_query_error"}
    assert "theirs" not in response.content.decode()


@pytest.mark.clickhouse
def test_escape_attempts_return_only_own_rows(project: Any, other_project: Any) -> None:
    mine, theirs = project.team.pk, other_project.team.pk
    _seed(mine, theirs)
    cases = _cases(mine, theirs)
    assert len(cases) + len(TABLE_FUNCTIONS) + len(STATEMENTS) >= 40
    for query, expect, values in cases:
        response = run(project, query, query_extra={"values": values} if values else {})
        assert response.status_code == 200, (query, response.content)
        results = response.json()["results"]
        assert "theirs" not in json.dumps(results), (query, results)
        if expect == OWN_NONEMPTY:
            assert results, query
    # The other project sees its own data through the same queries (the data exists; the guard hides it).
    response = run(other_project, "SELECT event, person.properties.email FROM events")
    assert response.json()["results"] == [["theirs-event", "theirs@example.com"]]


@pytest.mark.clickhouse
def test_same_query_text_for_two_projects_returns_each_its_own_rows(project: Any, other_project: Any) -> None:
    _seed(project.team.pk, other_project.team.pk)
    sql = "SELECT event, person.properties.email FROM events"
    for _ in range(2):  # the second round reuses compiled SQL; the project id is part of its key
        assert run(project, sql, refresh=True).json()["results"] == [["mine-event", "mine@example.com"]]
        assert run(other_project, sql, refresh=True).json()["results"] == [["theirs-event", "theirs@example.com"]]
