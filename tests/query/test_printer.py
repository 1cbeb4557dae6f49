"""Table-driven printer tests (no ClickHouse): HogQL in, ClickHouse SQL out, for each pass's decision."""

from __future__ import annotations

import contextlib

import pytest

from query.hogql.ast import HogQLContext
from query.hogql.compiler import compile_hogql
from query.hogql.errors import HogQLQueryError, HogQLSyntaxError
from query.hogql.passes.limits import LIMIT_CONTEXTS

CTX = HogQLContext(team_id=42, timezone="Europe/Paris", database="db", values={"v": "x"})


def compile_sql(hogql: str, *, paginate: tuple[int, int] | None = None) -> tuple[str, dict]:
    compiled = compile_hogql(hogql, CTX, limit_context=LIMIT_CONTEXTS["query"], paginate=paginate, settings={})
    return compiled.clickhouse, compiled.params


CASES = [
    ("select 1 + 2", 'SELECT 1 + 2 AS "1 + 2" LIMIT 100'),
    ("select event from events",
     "SELECT events.event AS event FROM db.events AS events WHERE equals(events.team_id, 42) LIMIT 100"),
    ("select 1 from events as e where event = {v}",
     'SELECT 1 AS "1" FROM db.events AS e WHERE and(equals(e.team_id, 42), e.event = {hogql_val_0:String}) LIMIT 100'),
    ("select 1 from events where 1 == 2",
     'SELECT 1 AS "1" FROM db.events AS events WHERE and(equals(events.team_id, 42), 0) LIMIT 100'),
    ("select event == null from events",
     'SELECT isNull(events.event) AS "event = NULL" FROM db.events AS events '
     "WHERE equals(events.team_id, 42) LIMIT 100"),
    ("select 1 from events limit 1000000",
     'SELECT 1 AS "1" FROM db.events AS events WHERE equals(events.team_id, 42) LIMIT 50000'),
    ("select 1 from events limit (select 7)",
     'SELECT 1 AS "1" FROM db.events AS events WHERE equals(events.team_id, 42) LIMIT min2(50000, (SELECT 7))'),
    ("select 1 from events e left join events e2 on e.uuid = e2.uuid",
     'SELECT 1 AS "1" FROM db.events AS e LEFT JOIN db.events AS e2 ON and(equals(e2.team_id, 42), e.uuid = e2.uuid) '
     "WHERE equals(e.team_id, 42) LIMIT 100"),
    ("select timestamp from events",
     "SELECT toTimeZone(events.timestamp, {hogql_val_0:String}) AS timestamp FROM db.events AS events "
     "WHERE equals(events.team_id, 42) LIMIT 100"),
    ("select case when 1 then 2 else 3 end", 'SELECT if(1, 2, 3) AS "if(1, 2, 3)" LIMIT 100'),
    ("select toInt('1')",  # HogQL text with quotes is not used as an alias
     "SELECT accurateCastOrNull({hogql_val_0:String}, {hogql_val_1:String}) LIMIT 100"),
    ("select number from numbers(3)", "SELECT numbers.number AS number FROM numbers(3) AS numbers LIMIT 100"),
    ("with t as (select 1 as a) select a from t",
     'WITH __hogql_cte_t AS (SELECT 1 AS a) SELECT t.a AS a FROM __hogql_cte_t AS t LIMIT 100'),
]  # fmt: skip


@pytest.mark.parametrize(("hogql", "expected"), CASES)
def test_prints_clickhouse_sql(hogql: str, expected: str) -> None:
    sql, _ = compile_sql(hogql)
    assert sql == expected


def test_paginator_asks_for_one_more_row() -> None:
    sql, _ = compile_sql("select event from events", paginate=(100, 200))
    assert sql.endswith("LIMIT 101 OFFSET 200")


def test_union_branches_are_each_guarded_and_limited() -> None:
    sql, _ = compile_sql("select event from events union all select event from events")
    assert sql.count("equals(events.team_id, 42)") == 2
    assert sql.count("LIMIT 100") == 2


def test_string_constants_are_parameters() -> None:
    sql, params = compile_sql("select 'it''s', properties.$browser from events")
    assert "it's" not in sql and "$browser'" not in sql
    assert "it's" in params.values() and "$browser" in params.values()


def test_person_fields_join_deduplicated_subqueries_each_guarded() -> None:
    sql, _ = compile_sql("select person.properties.email from events")
    assert "INNER JOIN (SELECT pdi.distinct_id AS distinct_id" in sql
    assert "AS events__pdi ON equals(events.distinct_id, events__pdi.distinct_id)" in sql
    assert "AS events__pdi__person ON equals(events__pdi.person_id, events__pdi__person.id)" in sql
    assert sql.count("team_id, 42)") == 3


@pytest.mark.parametrize(
    ("hogql", "error", "message"),
    [
        ("select 1; select 2", HogQLSyntaxError, "mismatched input ';' expecting <EOF>"),
        ("select * from system.tables", HogQLQueryError, "Unknown table `system.tables`."),
        ("select * from url('x')", HogQLQueryError, "Unknown table `url`."),
        ("select 1 settings readonly=0", HogQLSyntaxError, "SETTINGS"),
        ("select hamburger(1)", HogQLQueryError, "Unsupported function call 'hamburger(...)'."),
        ("select quantile(0.5, 0.9)(1)", HogQLQueryError, "Aggregation 'quantile' expects 1 parameter, found 2"),
        ("select sparkline()", HogQLQueryError, "Unsupported function call 'sparkline(...)'"),
        ("select countIf()", HogQLQueryError, "Aggregation 'countIf' expects at least 1 argument, found 0"),
        ("select x.0 from (select tuple(1) as x)", HogQLQueryError, "SQL indexes start from one, not from zero"),
        ("select 1 as `as%d`", HogQLQueryError, 'The HogQL identifier "as%d" is not permitted'),
        ("select 1 from events array join [1, 2]", HogQLQueryError, "ARRAY JOIN arrays must have an alias"),
    ],
)
def test_refuses(hogql: str, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        compile_sql(hogql)
    assert message in str(info.value)


def test_deeply_nested_and_oversized_queries_are_refused_cleanly() -> None:
    for depth in (300, 3000):
        # Refused as a user error (never a crash); shallower nesting simply compiles.
        with contextlib.suppress(HogQLQueryError, HogQLSyntaxError):
            compile_sql("select " + "(" * depth + "1" + ")" * depth)
    with pytest.raises(HogQLSyntaxError, match="Query is too long"):
        compile_sql("select 1 -- " + "x" * 1_048_576)


def test_dedicated_event_columns_replace_json_extraction() -> None:
    sql, _ = compile_sql("select properties.$session_id, e.properties.$group_0 from events e")
    assert 'nullIf(nullIf(events."$session_id"' not in sql  # aliased table
    assert 'nullIf(nullIf(e."$session_id", {hogql_val_0:String}), {hogql_val_1:String})' in sql
    assert 'nullIf(nullIf(e."$group_0"' in sql
    assert "JSONExtractRaw" not in sql


@pytest.mark.parametrize(
    ("condition", "wrapped"),
    [
        ("timestamp >= now() - INTERVAL 7 DAY", False),
        ("timestamp < toDateTime64('2024-01-01 00:00:00', 6, 'UTC')", False),
        ("toDateTime('2024-01-01 10:00:00') <= timestamp", False),
        ("timestamp > now() - toIntervalDay(3)", False),
        # strings and dates are read in the column's timezone: the project's, which the wrapper gives it
        ("timestamp >= '2024-01-01'", True),
        ("timestamp > toDate('2024-01-01')", True),
    ],
)
def test_datetime_compared_with_a_moment_is_unwrapped_for_the_sorting_key(condition: str, wrapped: bool) -> None:
    sql, _ = compile_sql(f"select 1 from events where {condition}")
    where = sql.split(" WHERE ", 1)[1]
    assert ("toTimeZone(events.timestamp" in where) is wrapped
    assert ("events.timestamp" in where) is True


@pytest.mark.parametrize(
    ("hogql", "clickhouse"),
    [
        ("select uniqExactState(event) from events", "uniqExactState(events.event)"),
        ("select quantileMerge(0.5)(s) from (select quantileState(0.5)(1) as s)", "quantileMerge(0.5)(s)"),
        ("select finalizeAggregation(s) from (select countState() as s)", "finalizeAggregation(s)"),
    ],
)
def test_aggregate_states_and_merges_of_allowed_aggregates(hogql: str, clickhouse: str) -> None:
    sql, _ = compile_sql(hogql)
    assert clickhouse in sql


def test_states_of_unknown_functions_are_refused() -> None:
    with pytest.raises(HogQLQueryError, match="Unsupported function call 'sleepState"):
        compile_sql("select sleepState(1)")
    with pytest.raises(HogQLQueryError, match="Aggregation 'uniqExactMerge' expects 1 argument, found 2"):
        compile_sql("select uniqExactMerge(1, 2)")
