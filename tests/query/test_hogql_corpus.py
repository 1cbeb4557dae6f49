"""The reference's 25-case acceptance corpus (§10): each HogQL input compiles to SQL that returns the
expected rows on chDB, or fails with the expected error. Compared semantically (rows, guards, params),
never string-for-string. Every case runs with a second project holding look-alike data."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from posthog_clone.clickhouse import get_client, table
from query.hogql.errors import HogQLQueryError, HogQLSyntaxError
from query.runner import hogql_execute
from tests.query.conftest import insert_events, insert_person

UUID_A = "0b9b5a1e-0000-4000-8000-00000000000a"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
OLD = dt.datetime(2020, 1, 1, 12, 0, tzinfo=dt.UTC)


@dataclass
class Case:
    name: str
    query: str
    rows: Any = None  # expected rows (list of lists), or a callable(rows) -> bool
    error: tuple[type, str] | None = None
    values: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, Any] | None = None
    sql_has: tuple[str, ...] = ()  # semantic markers in the ClickHouse SQL (guards, params, caps)
    sql_lacks: tuple[str, ...] = ()
    columns: list[str] | None = None
    ordered: bool = True


def _seed(team_id: int, other_team_id: int) -> None:
    mine = [
        {"event": "random event", "distinct_id": "d1", "properties": {"random_uuid": UUID_A, "bla": "x"}},
        {
            "event": "random event",
            "distinct_id": "d1",
            "properties": {"random_uuid": UUID_A, "a": {"b": {"c": "deep"}}},
        },
        {"event": "name", "distinct_id": "d2", "properties": {"$browser": "Chrome", "bla": 5}},
        {"event": "Else", "distinct_id": "d2", "properties": {"$browser": "Firefox"}, "timestamp": OLD},
    ]
    for i, item in enumerate(mine):
        item.setdefault("timestamp", NOW - dt.timedelta(hours=i + 1))
    insert_events(team_id, mine)
    # The other project reuses the same values: any leak shows up as extra rows.
    theirs = [
        {"event": "random event", "distinct_id": "d1", "properties": {"random_uuid": UUID_A}},
        {"event": "leak", "distinct_id": "d9", "properties": {"$browser": "Chrome"}, "timestamp": OLD},
    ]
    insert_events(other_team_id, theirs)
    insert_person(team_id, ["d1"], {"email": "one@example.com", "random_uuid": UUID_A, "sneaky_mail": "s@x.io"})
    insert_person(team_id, ["d2"], {"email": "two@example.com"})
    insert_person(other_team_id, ["d1"], {"email": "other@example.com", "random_uuid": UUID_A, "sneaky_mail": "no"})
    groups = [
        {
            "group_type_index": 0,
            "group_key": "org-1",
            "created_at": "2024-01-01 00:00:00",
            "team_id": t,
            "group_properties": "{}",
            "_timestamp": "2024-01-01 00:00:00",
        }
        for t in (team_id, other_team_id)
    ]
    get_client().insert_json_rows(table("groups"), "\n".join(json.dumps(g) for g in groups).encode())


def _approx(expected: list[list[Any]]) -> Any:
    def check(rows: list[list[Any]]) -> bool:
        return len(rows) == len(expected) and all(
            a == pytest.approx(b)
            for row, exp_row in zip(rows, expected, strict=True)
            for a, b in zip(row, exp_row, strict=True)
        )

    return check


CASES = [
    Case(
        "1 arithmetic",
        "select 1 + 2, -1 - 2 / (3 + 4), 1.0 % 2.66 from events limit 1",
        rows=_approx([[3, -1 - 2 / 7, 1.0]]),
    ),
    Case(
        "2 string constant is a parameter",
        "select 'string', coalesce(NULL, 'lol', 'hoo') from events limit 1",
        rows=[["string", "lol"]],
        sql_has=("{hogql_val_0:String}", "{hogql_val_2:String}"),
        sql_lacks=("'lol'",),
    ),
    Case(
        "3 null comparisons",
        "select event == null, 1 == null, 1 != null from events limit 1",
        rows=[[0, 0, 1]],
        sql_has=("isNull(events.event)",),
    ),
    Case(
        "4 property forms",
        "select properties.bla, properties['bla'], properties.a.b.c from events "
        "where event = 'random event' order by timestamp desc",
        rows=[["x", "x", None], [None, None, "deep"]],
        sql_has=("JSONExtractRaw(events.properties",),
    ),
    Case(
        "5 $ and spaced keys",
        "select properties.$browser, properties['$browser with a space'] from events where event = 'name'",
        rows=[["Chrome", None]],
        columns=["properties.$browser", "properties.`$browser with a space`"],
    ),
    Case(
        "6 default limit and guard",
        "select 1 from events",
        rows=[[1]] * 4,
        sql_has=("equals(events.team_id, {team})", "LIMIT 101 OFFSET 0"),
    ),
    Case("7 guard uses the alias", "select 1 from events as e", rows=[[1]] * 4, sql_has=("equals(e.team_id, {team})",)),
    Case(
        "8 where and constant folding",
        "select event from events where event='name'",
        rows=[["name"]],
        sql_has=("equals(events.team_id, {team})",),
    ),
    Case("8b where 1 == 2 folds to 0", "select event from events where 1 == 2", rows=[], sql_has=(", 0)",)),
    Case(
        "9 order by qualified, timestamp in tz",
        "select event from events order by event desc, timestamp",
        rows=[["random event"], ["random event"], ["name"], ["Else"]],
        sql_has=("toTimeZone(events.timestamp",),
    ),
    Case("10 cap constant limit", "select 1 from events limit 1000000", rows=[[1]] * 4, sql_has=("LIMIT 50000",)),
    Case(
        "10b cap expression limit",
        "select 1 from events limit (select 100000000)",
        rows=[[1]] * 4,
        sql_has=("min2(50000",),
    ),
    Case(
        "10c offset alone",
        "select event from events order by timestamp offset 3",
        rows=[["random event"]],
        sql_has=("OFFSET 3",),
    ),
    Case(
        "10d limit by keeps by and adds cap",
        "select event from events order by event limit 1 by event",
        rows=[["Else"], ["name"], ["random event"]],
        sql_has=("BY events.event", "LIMIT 101 OFFSET 0"),
    ),
    Case(
        "11 subquery guarded inside only",
        "SELECT event FROM (select distinct event from events group by event, timestamp) order by event",
        rows=[["Else"], ["name"], ["random event"]],
        sql_has=("equals(events.team_id, {team})",),
    ),
    Case(
        "12 union all, both branches guarded",
        "select event from events where event = 'name' union all select event from events where event = 'Else'",
        rows=[["name"], ["Else"]],
        ordered=False,
    ),
    Case(
        "13 cross join raw_groups",
        "select event, raw_groups.key from events cross join raw_groups where event = 'name'",
        rows=[["name", "org-1"]],
        sql_has=("equals(raw_groups.team_id, {team})",),
    ),
    Case(
        "14 left join guard in ON",
        "select e1.event, e2.event from events e1 left join events e2 on e1.uuid = e2.uuid where e1.event = 'name'",
        rows=[["name", "name"]],
        sql_has=("ON and(equals(e2.team_id, {team})",),
    ),
    Case(
        "15 person via pdi joins",
        "select event, person.properties.email from events where event = 'name'",
        rows=[["name", "two@example.com"]],
        sql_has=("AS events__pdi ", "AS events__pdi__person "),
    ),
    Case(
        "16 persons with a value",
        "select distinct properties.sneaky_mail from persons where properties.random_uuid = {random_uuid}",
        values={"random_uuid": UUID_A},
        rows=[["s@x.io"]],
    ),
    Case(
        "17 count by event",
        "select count(), event from events where properties.random_uuid = {random_uuid} group by event",
        values={"random_uuid": UUID_A},
        rows=[[2, "random event"]],
        columns=["count()", "event"],
    ),
    Case("18a unknown table", "select 1 from other", error=(HogQLQueryError, "Unknown table `other`.")),
    Case(
        "18b unsupported function",
        "select hamburger(event) from events",
        error=(HogQLQueryError, "Unsupported function call 'hamburger(...)'"),
    ),
    Case("18c suggestion", "select noway(event) from events", error=(HogQLQueryError, "Perhaps you meant 'now(...)'?")),
    Case(
        "18d nested aggregation",
        "select avg(avg(properties.bla)) from events",
        error=(HogQLQueryError, "Aggregation 'avg' cannot be nested inside another aggregation 'avg'."),
    ),
    Case(
        "18e reserved alias",
        "select 1 as team_id from events",
        error=(HogQLQueryError, '"team_id" cannot be an alias or identifier, as it\'s a reserved keyword'),
    ),
    Case("18f syntax error", "(", error=(HogQLSyntaxError, "no viable alternative at input '('")),
    Case(
        "18g unresolved field",
        "select chipotle from events",
        error=(HogQLQueryError, "Unable to resolve field: chipotle"),
    ),
    Case(
        "18h arity",
        "select count(1, 2, 3, 4) from events",
        error=(HogQLQueryError, "Aggregation 'count' expects at most 1 argument, found 4"),
    ),
    Case(
        "19 case forms",
        "select case when 1 then 2 else 3 end, case when 0 then 1 when 1 then 4 else 5 end, "
        "case 0 when 1 then 2 when 3 then 4 else 5 end from events limit 1",
        rows=[[2, 4, 5]],
        sql_has=("if(1, 2, 3)", "multiIf(", "transform(0, [1, 3], [2, 4], 5)"),
    ),
    Case(
        "20 lambdas",
        "select arrayMap(x -> x * 2, [1, 2, 3]), arrayMap((x, y) -> x * y, [1, 2], [3, 4]) from events limit 1",
        rows=[[[2, 4, 6], [3, 8]]],
    ),
    Case(
        "21 array join",
        "select 1, a from events array join [1, 2, 3] as a where event = 'name'",
        rows=[[1, 1], [1, 2], [1, 3]],
        sql_has=("ARRAY JOIN [1, 2, 3] AS a",),
    ),
    Case(
        "22 distinct, parametric, safe cast",
        "select count(distinct event), quantile(0.5)(toFloat(properties.bla)), toInt('1'), toInt('nope') from events",
        rows=[[3, 5.0, 1, None]],
        sql_has=("accurateCastOrNull(",),
    ),
    Case(
        "23 {filters} with dateRange and a property",
        "select event from events where {filters}",
        filters={
            "dateRange": {"date_from": "2020-01-01", "date_to": "2020-01-02"},
            "properties": [{"key": "$browser", "value": "Firefox", "operator": "exact", "type": "event"}],
        },
        rows=[["Else"]],
        sql_has=("toDateTime64(",),
    ),
    Case(
        "24 regex and negations",
        "select event ~ 'E', event ~* 'e', event !~ 'E', event not like 'E%', "
        "event not in ('Else') from events where event = 'Else'",
        rows=[[1, 1, 0, 0, 0]],
        sql_has=("match(",),
    ),
    Case(
        "25 boolean folding",
        "select event from events where team_id = {team} and 1 and event = 'name'",
        rows=[["name"]],
    ),
    Case("25b or with true folds to 1", "select count() from events where team_id = 999999 or 1", rows=[[4]]),
]


@pytest.mark.clickhouse
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case, project: Any, other_project: Any) -> None:
    team = project.team
    _seed(team.pk, other_project.team.pk)
    query = case.query.replace("{team}", str(team.pk))
    if case.error is not None:
        error_type, message = case.error
        with pytest.raises(error_type) as info:
            hogql_execute(team=team, query=query, values=case.values, filters=case.filters)
        assert message in str(info.value)
        return
    result = hogql_execute(team=team, query=query, values=case.values, filters=case.filters)
    rows = result.results
    if callable(case.rows):
        assert case.rows(rows), rows
    elif case.ordered:
        assert rows == case.rows
    else:
        assert sorted(rows) == sorted(case.rows)
    for marker in case.sql_has:
        assert marker.replace("{team}", str(team.pk)) in result.clickhouse, (marker, result.clickhouse)
    for marker in case.sql_lacks:
        assert marker not in result.clickhouse
    assert f"team_id, {other_project.team.pk})" not in result.clickhouse
    if case.columns is not None:
        assert result.columns == case.columns
