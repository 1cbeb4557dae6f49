"""Cohorts in queries: HogQL `IN COHORT` (static members, dynamic members at the cohort's current version only,
removed static members, NOT IN, by name), the `cohort` property filter in every kind (Trends, Stickiness,
Lifecycle, Events, Actors, HogQL `{filters}`, test-account filters), Trends cohort breakdowns (values, labels,
their actors), errors, deleted cohorts and isolation: another project's cohort never resolves and its member rows
never count. Cohort rows are made with the ORM and members inserted into ClickHouse directly; every expected
number was worked out by hand from the events listed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from posthog import Posthog

from cohorts.models import Cohort
from ingestion.worker import flush
from posthog_clone.clickhouse import get_client, table
from tests.query.conftest import insert_events, insert_person, query_url, run
from tests.query.test_lifecycle_query import TV8_RANGE, by_status, load_tv8
from tests.query.test_stickiness_query import MAR_1_5
from tests.query.test_stickiness_query import load as load_tv9

UTC = dt.UTC
JAN_7_9 = {"date_from": "2024-01-07", "date_to": "2024-01-09"}
# (distinct_id, day of January 2024, hour): u1 [2, 1, 0] per day, u2 [1, 0, 1], u3 [0, 1, 0], u4 [0, 0, 1]
EVENTS = [("u1", 7, 9), ("u1", 7, 15), ("u1", 8, 10), ("u2", 7, 11), ("u2", 9, 12), ("u3", 8, 13), ("u4", 9, 14)]
EARLIER, LATER = dt.datetime(2024, 2, 1, tzinfo=UTC), dt.datetime(2024, 2, 2, tzinfo=UTC)


def load(team_id: int) -> dict[str, str]:
    """The events and one person per distinct id (properties.name = the distinct id); distinct id → person id."""
    insert_events(
        team_id,
        [{"distinct_id": d, "timestamp": dt.datetime(2024, 1, day, hour, tzinfo=UTC)} for d, day, hour in EVENTS],
    )
    return {d: insert_person(team_id, [d], {"name": d}) for d in ("u1", "u2", "u3", "u4")}


def _rows(name: str, rows: list[dict[str, Any]]) -> None:
    get_client().insert_json_rows(table(name), "\n".join(json.dumps(r) for r in rows).encode())


def static_rows(team_id: int, cohort_id: int, person_id: str, *, removed: bool = False, at: dt.datetime = EARLIER):
    stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f")
    row = {"team_id": team_id, "cohort_id": cohort_id, "person_id": person_id, "is_deleted": int(removed)}
    _rows("person_static_cohort", [{**row, "_timestamp": stamp}])


def version_rows(team_id: int, cohort_id: int, version: int, person_ids: list[str]) -> None:
    _rows(
        "cohortpeople",
        [{"team_id": team_id, "cohort_id": cohort_id, "person_id": p, "version": version} for p in person_ids],
    )


def static_cohort(team: Any, name: str, person_ids: list[str], **fields: Any) -> Cohort:
    cohort = Cohort.objects.create(team=team, name=name, is_static=True, cohort_type="static", **fields)
    for person_id in person_ids:
        static_rows(team.pk, cohort.pk, person_id)
    return cohort


def dynamic_cohort(team: Any, name: str, versions: dict[int, list[str]], version: int | None, **fields: Any):
    cohort = Cohort.objects.create(team=team, name=name, version=version, pending_version=version, **fields)
    for number, person_ids in versions.items():
        version_rows(team.pk, cohort.pk, number, person_ids)
    return cohort


@pytest.fixture
def world(project: Any, other_project: Any) -> dict[str, Any]:
    """Both projects hold the dataset. Ours: `static` {u1, u3} (u2 added then removed, u3 removed then added
    back), `dynamic` at version 2 = {u2, u3} (version 1 = {u1, u4} is stale; a person is never at two versions
    here, as merges of the ReplacingMergeTree would drop the older row at any time), `uncalculated` (rows at a pending
    version only: nobody), `deleted` (a static cohort of u4, deleted). Theirs: a static cohort of their u1, and
    rows naming *our* cohorts' ids with our persons under their team id, which must never count."""
    mine, theirs = load(project.team.pk), load(other_project.team.pk)
    team = project.team
    static = static_cohort(team, "Static VIPs", [mine["u1"]])
    static_rows(team.pk, static.pk, mine["u2"], at=EARLIER)
    static_rows(team.pk, static.pk, mine["u2"], removed=True, at=LATER)
    static_rows(team.pk, static.pk, mine["u3"], removed=True, at=EARLIER)
    static_rows(team.pk, static.pk, mine["u3"], at=LATER)
    dynamic = dynamic_cohort(team, "Power users", {1: [mine["u1"], mine["u4"]], 2: [mine["u2"], mine["u3"]]}, 2)
    uncalculated = dynamic_cohort(team, "Never calculated", {1: [mine["u1"]]}, None)
    deleted = static_cohort(team, "Gone", [mine["u4"]], deleted=True)
    other = other_project.team
    foreign = static_cohort(other, "Theirs", [theirs["u1"]])
    static_rows(other.pk, static.pk, mine["u4"])  # their team id, our cohort id and person
    version_rows(other.pk, dynamic.pk, 2, [mine["u1"], mine["u4"]])
    return {
        "mine": mine,
        "static": static.pk,
        "dynamic": dynamic.pk,
        "uncalculated": uncalculated.pk,
        "deleted": deleted.pk,
        "foreign": foreign.pk,
    }


def hogql_rows(project: Any, sql: str, **extra: Any) -> list[list[Any]]:
    response = run(project, sql, **extra)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def distinct_ids(project: Any, condition: str, **extra: Any) -> list[str]:
    sql = f"SELECT distinct_id FROM events WHERE {condition} GROUP BY distinct_id ORDER BY distinct_id"
    return [row[0] for row in hogql_rows(project, sql, **extra)]


def post(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    return project.client().post(query_url(project), {"query": node, **extra}, format="json")


def cohort_filter(cohort_id: Any, operator: str | None = None) -> dict[str, Any]:
    return {"type": "cohort", "key": "id", "value": cohort_id, **({"operator": operator} if operator else {})}


def trends(project: Any, **node: Any) -> list[dict[str, Any]]:
    series = node.pop("series", [{"kind": "EventsNode", "event": "$pageview"}])
    response = post(project, {"kind": "TrendsQuery", "series": series, "dateRange": JAN_7_9, **node})
    assert response.status_code == 200, response.content
    return response.json()["results"]


# ---------------------------------------------------------------------------------------------------
# HogQL IN COHORT


@pytest.mark.clickhouse
def test_in_cohort_reads_current_members(project: Any, world: dict[str, Any]) -> None:
    static, dynamic, uncalculated = world["static"], world["dynamic"], world["uncalculated"]
    assert distinct_ids(project, f"person_id IN COHORT {static}") == ["u1", "u3"]
    assert distinct_ids(project, f"person_id IN COHORT {dynamic}") == ["u2", "u3"]  # version 2 only
    assert distinct_ids(project, f"person_id NOT IN COHORT {dynamic}") == ["u1", "u4"]
    assert distinct_ids(project, f"person_id not in cohort {static}") == ["u2", "u4"]
    assert distinct_ids(project, f"person_id IN COHORT {uncalculated}") == []
    assert distinct_ids(project, f"person_id NOT IN COHORT {uncalculated}") == ["u1", "u2", "u3", "u4"]
    assert distinct_ids(project, "person_id IN COHORT 'Power users'") == ["u2", "u3"]
    assert distinct_ids(project, f"person_id IN COHORT {static} AND person_id IN COHORT {dynamic}") == ["u3"]
    assert distinct_ids(project, "event = 'IN COHORT 5' OR person.id IN COHORT'Static VIPs'") == ["u1", "u3"]


@pytest.mark.clickhouse
def test_in_cohort_takes_any_expression_and_reads_persons(project: Any, world: dict[str, Any]) -> None:
    static, dynamic = world["static"], world["dynamic"]
    names = hogql_rows(project, f"SELECT properties.name FROM persons WHERE id IN COHORT {dynamic} ORDER BY 1")
    assert names == [["u2"], ["u3"]]
    flags = hogql_rows(
        project,
        f"SELECT distinct_id, (person_id IN COHORT {static}) AS vip, count() FROM events "
        "GROUP BY distinct_id, vip ORDER BY distinct_id",
    )
    assert flags == [["u1", 1, 3], ["u2", 0, 2], ["u3", 1, 1], ["u4", 0, 1]]
    nested = hogql_rows(
        project,
        f"SELECT count() FROM (SELECT person_id AS p FROM events) WHERE p IN COHORT {dynamic}",
    )
    assert nested == [[3]]  # u2's two events and u3's one
    response = run(project, f"SELECT count() FROM events WHERE person_id IN COHORT {dynamic}")
    # `hogql` shows what ran: the cohort's members at its version, as matchesAction shows the action's condition
    expanded = f"person_id IN (SELECT person_id FROM cohort_people WHERE and(equals(cohort_id, {dynamic}), "
    assert expanded + "equals(version, 2)))" in response.json()["hogql"]


@pytest.mark.clickhouse
def test_the_cohort_tables(project: Any, world: dict[str, Any]) -> None:
    """`static_cohort_people` holds each static cohort's current members; `cohort_people` every calculation's
    rows; both only this project's."""
    static, dynamic, deleted = world["static"], world["dynamic"], world["deleted"]
    mine = world["mine"]
    rows = hogql_rows(project, "SELECT cohort_id, person.properties.name FROM static_cohort_people ORDER BY 1, 2")
    assert rows == [[static, "u1"], [static, "u3"], [deleted, "u4"]]
    rows = hogql_rows(project, "SELECT version, count() FROM cohort_people GROUP BY version ORDER BY version")
    assert rows == [[1, 3], [2, 2]]  # dynamic's two and uncalculated's one at version 1
    rows = hogql_rows(project, f"SELECT person_id FROM cohort_people WHERE cohort_id = {dynamic} AND version = 2")
    assert sorted(r[0] for r in rows) == sorted([mine["u2"], mine["u3"]])


@pytest.mark.parametrize(
    ("condition", "detail"),
    [
        ("person_id IN COHORT 999999", "Could not find cohort with ID 999999"),
        ("person_id IN COHORT 99999999999999999999999", "Could not find cohort with ID 99999999999999999999999"),
        ("person_id IN COHORT 'Nope'", "Could not find a cohort with the name 'Nope'"),
        ("person_id IN COHORT 'Theirs'", "Could not find a cohort with the name 'Theirs'"),
        ("person_id IN COHORT 'Twins'", "Found multiple cohorts with name 'Twins'"),
        ("person_id IN COHORT 'Gone'", "Could not find a cohort with the name 'Gone'"),
        ("person_id IN COHORT {deleted}", "Could not find cohort with ID {deleted}"),
        ("person_id IN COHORT {foreign}", "Could not find cohort with ID {foreign}"),
        ("person_id NOT IN COHORT {foreign}", "Could not find cohort with ID {foreign}"),
        ("person_id IN __hogql_cohort(distinct_id)", "IN COHORT takes only constant arguments"),
    ],
)
@pytest.mark.clickhouse
def test_in_cohort_errors(project: Any, world: dict[str, Any], condition: str, detail: str) -> None:
    Cohort.objects.create(team=project.team, name="Twins", is_static=True)
    Cohort.objects.create(team=project.team, name="Twins")
    names = {"{deleted}": str(world["deleted"]), "{foreign}": str(world["foreign"])}
    for name, value in names.items():
        condition, detail = condition.replace(name, value), detail.replace(name, value)
    response = run(project, f"SELECT count() FROM events WHERE {condition}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == detail and body["type"] == "validation_error", body


@pytest.mark.clickhouse
def test_a_recalculation_shows_at_once(project: Any, world: dict[str, Any]) -> None:
    """The compiled SQL inlines the cohort's version: it is never reused once the cohort moved on."""
    dynamic = world["dynamic"]
    assert distinct_ids(project, f"person_id IN COHORT {dynamic}") == ["u2", "u3"]
    Cohort.objects.filter(pk=dynamic).update(version=1)
    assert distinct_ids(project, f"person_id IN COHORT {dynamic}", refresh="force_blocking") == ["u1", "u4"]
    Cohort.objects.filter(pk=dynamic).update(deleted=True)
    response = run(project, f"SELECT 1 FROM events WHERE person_id IN COHORT {dynamic}", refresh="force_blocking")
    assert response.status_code == 400 and "Could not find cohort" in response.json()["detail"]


# ---------------------------------------------------------------------------------------------------
# the cohort property filter


@pytest.mark.clickhouse
def test_trends_cohort_filters(project: Any, world: dict[str, Any]) -> None:
    static, dynamic = world["static"], world["dynamic"]
    assert [i["data"] for i in trends(project)] == [[3, 2, 2]]
    assert [i["data"] for i in trends(project, properties=[cohort_filter(static)])] == [[2, 2, 0]]
    assert [i["data"] for i in trends(project, properties=[cohort_filter(str(dynamic), "in")])] == [[1, 1, 1]]
    assert [i["data"] for i in trends(project, properties=[cohort_filter(dynamic, "not_in")])] == [[2, 1, 1]]
    both = {"type": "OR", "values": [cohort_filter(static), cohort_filter(dynamic)]}
    assert [i["data"] for i in trends(project, properties=both)] == [[3, 2, 1]]  # u1, u2, u3
    series = [{"kind": "EventsNode", "event": "$pageview", "math": "dau", "properties": [cohort_filter(static)]}]
    items = trends(project, series=series)
    assert [i["data"] for i in items] == [[1, 2, 0]]


@pytest.mark.clickhouse
def test_cohorts_inside_hogql_filters_and_actions(project: Any, world: dict[str, Any]) -> None:
    """A `hogql` property filter may say IN COHORT; an action step's cohort filter is expanded inside the
    action's condition (matchesAction and ActionsNode series)."""
    hogql = {"type": "hogql", "key": "person_id IN COHORT 'Static VIPs'"}
    assert [i["data"] for i in trends(project, properties=[hogql])] == [[2, 2, 0]]
    response = project.client().post(
        f"/api/projects/{project.team.pk}/actions/",
        {"name": "Powered", "steps": [{"event": "$pageview", "properties": [cohort_filter(world["dynamic"])]}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert distinct_ids(project, "matchesAction('Powered')") == ["u2", "u3"]
    series = [{"kind": "ActionsNode", "id": response.json()["id"]}]
    assert [i["data"] for i in trends(project, series=series)] == [[1, 1, 1]]


@pytest.mark.clickhouse
def test_test_account_filters_may_exclude_a_cohort(project: Any, world: dict[str, Any]) -> None:
    project.team.test_account_filters = [cohort_filter(world["static"], "not_in")]
    project.team.save()
    assert [i["data"] for i in trends(project, filterTestAccounts=True)] == [[1, 0, 2]]  # u2 and u4
    rows = distinct_ids(project, "{filters}", query_extra={"filters": {"filterTestAccounts": True}})
    assert rows == ["u2", "u4"]


@pytest.mark.clickhouse
def test_hogql_filters_placeholder(project: Any, world: dict[str, Any]) -> None:
    filters = {"properties": [cohort_filter(world["dynamic"])], "dateRange": {"date_from": "2024-01-08"}}
    assert distinct_ids(project, "{filters}", query_extra={"filters": filters}) == ["u2", "u3"]
    filters = {"properties": [cohort_filter(world["foreign"])]}
    response = run(project, "SELECT 1 FROM events WHERE {filters}", query_extra={"filters": filters})
    assert (
        response.status_code == 400 and response.json()["detail"] == f"Could not find cohort with ID {world['foreign']}"
    )


@pytest.mark.clickhouse
def test_events_query_cohort_filter(project: Any, world: dict[str, Any]) -> None:
    node = {
        "kind": "EventsQuery",
        "select": ["distinct_id", "count()"],
        "after": "2024-01-01",
        "orderBy": ["distinct_id"],
        "properties": [cohort_filter(world["static"])],
    }
    response = post(project, node)
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [["u1", 3], ["u3", 1]]
    response = post(project, {**node, "properties": [cohort_filter(world["dynamic"], "not_in")]})
    assert response.json()["results"] == [["u1", 3], ["u4", 1]]


@pytest.mark.clickhouse
def test_actors_query_cohort_filter_is_person_scoped(project: Any, world: dict[str, Any]) -> None:
    node = {"kind": "ActorsQuery", "select": ["properties.name"], "orderBy": ["properties.name"]}
    for filters, expected in [
        ([cohort_filter(world["static"])], ["u1", "u3"]),
        ([cohort_filter(world["dynamic"])], ["u2", "u3"]),
        ([cohort_filter(world["dynamic"], "not_in")], ["u1", "u4"]),
        ([cohort_filter(world["uncalculated"])], []),
        ({"type": "AND", "values": [cohort_filter(world["static"]), cohort_filter(world["dynamic"])]}, ["u3"]),
    ]:
        response = post(project, {**node, "properties": filters})
        assert response.status_code == 200, response.content
        assert [row[0] for row in response.json()["results"]] == expected, filters
    response = post(project, {**node, "properties": [cohort_filter(world["foreign"])]})
    assert response.status_code == 400 and "Could not find cohort with ID" in response.json()["detail"]


@pytest.mark.clickhouse
def test_stickiness_cohort_filter(project: Any) -> None:
    # TV-9: u1 active on 3 days, u2 on 1, u3 on 2, u4 on 1 (1-5 Mar)
    persons = load_tv9(project.team.pk)
    cohort = static_cohort(project.team, "u1 and u3", [persons["u1"], persons["u3"]])
    node = {"kind": "StickinessQuery", "series": [{"kind": "EventsNode", "event": "$pageview"}], "dateRange": MAR_1_5}
    for operator, expected in [("in", [0, 1, 1, 0, 0]), ("not_in", [2, 0, 0, 0, 0])]:
        response = post(project, {**node, "properties": [cohort_filter(cohort.pk, operator)]})
        assert response.status_code == 200, response.content
        assert response.json()["results"][0]["data"] == expected, operator


@pytest.mark.clickhouse
def test_lifecycle_cohort_filter(project: Any) -> None:
    """TV-8 narrowed to p1 (active 11, 12, 13, 15, 17, 19 Jan, created the 11th) and p3 (active and created on
    the 12th)."""
    persons = load_tv8(project.team.pk)
    cohort = dynamic_cohort(project.team, "p1 and p3", {3: [persons["p1"], persons["p3"]]}, 3)
    got = by_status(project, {"interval": "day", "dateRange": TV8_RANGE, "properties": [cohort_filter(cohort.pk)]})
    assert got == {
        "new": [1, 0, 0, 0, 0, 0, 0, 0],
        "returning": [1, 1, 0, 0, 0, 0, 0, 0],
        "resurrecting": [0, 0, 0, 1, 0, 1, 0, 1],
        "dormant": [0, -1, -1, 0, -1, 0, -1, 0],
    }


@pytest.mark.parametrize(
    ("item", "detail", "attr"),
    [
        ({"type": "cohort", "key": "id", "value": "abc"}, "Cohort property value must be a cohort ID", "value"),
        ({"type": "cohort", "key": "id", "value": None}, "Cohort property value must be a cohort ID", "value"),
        ({"type": "cohort", "key": "id", "value": True}, "Cohort property value must be a cohort ID", "value"),
        ({"type": "cohort", "key": "id", "value": [3]}, "Cohort property value must be a cohort ID", "value"),
        ({"type": "cohort", "key": "id", "value": 0}, "Cohort property value must be a cohort ID", "value"),
        ({"type": "cohort", "key": "name", "value": 3}, 'key must be "id"', "key"),
        (cohort_filter(3, "icontains"), "operator must be in or not_in, not icontains", "operator"),
        ({**cohort_filter(3), "negation": True}, "Unknown field 'negation' in a cohort property filter", "negation"),
    ],
)
def test_bad_cohort_filters_are_a_400(project: Any, item: dict[str, Any], detail: str, attr: str) -> None:
    response = post(project, {"kind": "EventsQuery", "select": ["event"], "properties": [item]})
    assert response.status_code == 400, response.content
    body = response.json()
    assert detail in body["detail"] and body["attr"] == f"query__properties__0__{attr}", body


# ---------------------------------------------------------------------------------------------------
# cohort breakdowns


@pytest.mark.clickhouse
def test_trends_cohort_breakdown(project: Any, world: dict[str, Any]) -> None:
    static, dynamic, uncalculated = world["static"], world["dynamic"], world["uncalculated"]
    breakdown = {"breakdown_type": "cohort", "breakdown": [dynamic, "all", str(static), uncalculated]}
    items = trends(project, breakdownFilter=breakdown)
    got = [(i["breakdown_value"], i["label"], i["data"], i["count"]) for i in items]
    assert got == [
        (dynamic, "Power users", [1, 1, 1], 3.0),
        ("all", "all users", [3, 2, 2], 7.0),
        (static, "Static VIPs", [2, 2, 0], 4.0),
        (uncalculated, "Never calculated", [0, 0, 0], 0.0),
    ]
    assert items[0]["filter"]["breakdown_type"] == "cohort"
    assert items[0]["filter"]["breakdown"] == breakdown["breakdown"]
    two = [{"kind": "EventsNode", "event": "$pageview"}, {"kind": "EventsNode", "event": "$pageview", "math": "dau"}]
    items = trends(project, series=two, breakdownFilter={"breakdown_type": "cohort", "breakdown": [static]})
    assert [(i["label"], i["breakdown_value"], i["data"]) for i in items] == [
        ("$pageview - Static VIPs", static, [2, 2, 0]),
        ("$pageview - Static VIPs", static, [1, 2, 0]),
    ]
    total = trends(project, breakdownFilter=breakdown, trendsFilter={"display": "BoldNumber"})
    assert [(i["breakdown_value"], i["aggregated_value"]) for i in total] == [
        (dynamic, 3), ("all", 7), (static, 4), (uncalculated, 0)
    ]  # fmt: skip
    formula = trends(
        project,
        series=two,
        breakdownFilter={"breakdown_type": "cohort", "breakdown": [static, "all"]},
        trendsFilter={"formulaNodes": [{"formula": "A - B"}]},
    )
    assert sorted((str(i["breakdown_value"]), i["data"]) for i in formula) == sorted(
        [(str(static), [1, 0, 0]), ("all", [1, 0, 0])]
    )  # all: [3, 2, 2] - [2, 2, 2]


@pytest.mark.clickhouse
def test_cohort_breakdown_actors_and_options(project: Any, world: dict[str, Any]) -> None:
    static, dynamic = world["static"], world["dynamic"]
    source = {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "$pageview"}],
        "dateRange": JAN_7_9,
        "breakdownFilter": {"breakdown_type": "cohort", "breakdown": [static, dynamic, "all"]},
    }

    def names(**params: Any) -> list[str]:
        node = {"kind": "ActorsQuery", "select": ["properties.name"], "orderBy": ["properties.name"]}
        response = post(project, {**node, "source": {"kind": "InsightActorsQuery", "source": source, **params}})
        assert response.status_code == 200, response.content
        return [row[0] for row in response.json()["results"]]

    assert names(breakdown=dynamic) == ["u2", "u3"]
    assert names(breakdown=dynamic, day="2024-01-07") == ["u2"]
    assert names(breakdown=str(static), day="2024-01-08") == ["u1", "u3"]
    assert names(breakdown="all", day="2024-01-09") == ["u2", "u4"]
    node = {"kind": "ActorsQuery", "source": {"kind": "InsightActorsQuery", "source": source, "breakdown": "Chrome"}}
    response = post(project, node)
    assert response.status_code == 400 and 'breakdown must be a cohort ID or "all"' in response.json()["detail"]
    response = post(
        project, {"kind": "InsightActorsQueryOptions", "source": {"kind": "InsightActorsQuery", "source": source}}
    )
    assert response.status_code == 200, response.content
    assert response.json()["breakdown"] == [
        {"label": "Static VIPs", "value": static},
        {"label": "Power users", "value": dynamic},
        {"label": "all users", "value": "all"},
    ]


@pytest.mark.clickhouse
@pytest.mark.parametrize("which", ["deleted", "foreign"])
def test_a_cohort_breakdown_on_a_missing_cohort_is_a_400(project: Any, world: dict[str, Any], which: str) -> None:
    node = {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "$pageview"}],
        "breakdownFilter": {"breakdown_type": "cohort", "breakdown": [world["static"], world[which]]},
    }
    response = post(project, node)
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == f"Could not find cohort with ID {world[which]}"


@pytest.mark.parametrize(
    "breakdown",
    [
        {"breakdown_type": "cohort", "breakdown": ["x"]},
        {"breakdown_type": "cohort", "breakdown": [1, None]},
        {"breakdown_type": "cohort", "breakdown": [True]},
        {"breakdown_type": "cohort", "breakdown": {"id": 1}},
    ],
)
def test_bad_cohort_breakdowns_are_a_400(project: Any, breakdown: dict[str, Any]) -> None:
    node = {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "$pageview"}],
        "breakdownFilter": breakdown,
    }
    response = post(project, node)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["attr"] == "query__breakdownFilter" and 'list of cohort IDs or "all"' in body["detail"], body


# ---------------------------------------------------------------------------------------------------
# isolation, and events through capture


@pytest.mark.clickhouse
def test_their_rows_never_count_and_their_cohorts_never_resolve(
    project: Any, other_project: Any, world: dict[str, Any]
) -> None:
    """Their cohortpeople / person_static_cohort rows name our cohort ids and persons (u4 in our static cohort,
    u1 and u4 in our dynamic one) under their team id: never members. Our ids do not resolve for them."""
    assert distinct_ids(project, f"person_id IN COHORT {world['static']}") == ["u1", "u3"]
    assert distinct_ids(project, f"person_id IN COHORT {world['dynamic']}") == ["u2", "u3"]
    assert hogql_rows(
        project,
        "SELECT count() FROM static_cohort_people WHERE person_id = {p}",
        query_extra={"values": {"p": world["mine"]["u4"]}},
    ) == [[1]]  # fmt: skip (the deleted cohort)
    assert distinct_ids(other_project, "person_id IN COHORT 'Theirs'") == ["u1"]
    for cohort in ("static", "dynamic"):
        response = run(other_project, f"SELECT 1 FROM events WHERE person_id IN COHORT {world[cohort]}")
        assert response.json()["detail"] == f"Could not find cohort with ID {world[cohort]}"
        response = post(
            other_project,
            {"kind": "TrendsQuery", "series": [{"kind": "EventsNode"}], "properties": [cohort_filter(world[cohort])]},
        )
        assert response.status_code == 400, response.content
    their_rows = hogql_rows(
        other_project, "SELECT cohort_id, count() FROM static_cohort_people GROUP BY cohort_id ORDER BY 1"
    )
    assert their_rows == [[world["static"], 1], [world["foreign"], 1]]  # only rows under their team id


@pytest.mark.clickhouse
def test_cohorts_over_what_the_sdk_captured(live_server: Any, project: Any, other_project: Any) -> None:
    """Events and persons made by capture and the ingestion worker (an alias merged into one person): a static
    cohort of that person counts both of its distinct ids' events."""

    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    sdk.capture("$pageview", distinct_id="anon-c")
    sdk.alias(previous_id="anon-c", distinct_id="user-c")
    sdk.capture("$pageview", distinct_id="user-c")
    sdk.capture("$pageview", distinct_id="other-d")
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    theirs.capture("$pageview", distinct_id="user-c")
    theirs.shutdown()
    flush()

    [[person_id]] = hogql_rows(project, "SELECT person_id FROM person_distinct_ids WHERE distinct_id = 'user-c'")
    cohort = static_cohort(project.team, "C", [person_id])
    assert distinct_ids(project, f"person_id IN COHORT {cohort.pk}") == ["anon-c", "user-c"]
    node = {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "$pageview"}],
        "trendsFilter": {"display": "BoldNumber"},
        "breakdownFilter": {"breakdown_type": "cohort", "breakdown": [cohort.pk, "all"]},
    }
    response = post(project, node)
    assert response.status_code == 200, response.content
    assert [(i["breakdown_value"], i["aggregated_value"]) for i in response.json()["results"]] == [
        (cohort.pk, 2), ("all", 3)
    ]  # fmt: skip
