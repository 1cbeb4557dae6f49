"""ActorsQuery (the persons list) on POST /query/: a table over a fixed person dataset (expected rows worked
out by hand: search, every person-property operator family, ordering, paging), the person object, persons
made by capture and ingestion, the shared endpoint machinery (cache, refresh), isolation, bad input and the
auth matrix."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.cache import cache
from posthog import Posthog

from definitions.models import PropertyDefinition
from ingestion.worker import flush
from tests.auth_matrix import assert_auth_matrix
from tests.query.conftest import fill_names, insert_person, poll_query, query_url

UTC = dt.UTC

# k: (distinct ids, properties, created_at). `k` names the person in the expected rows.
PERSONS = {
    "p1": (
        ["alice-1", "alice-anon"],
        {"email": "alice@example.com", "name": "Alice", "age": 30, "plan": "pro", "joined": "2023-06-01"},
        dt.datetime(2024, 1, 1, 10, tzinfo=UTC),
    ),
    "p2": (
        ["bob"],
        {"email": "bob@test.io", "name": "Bob", "age": 25, "plan": "free", "joined": "2024-02-01"},
        dt.datetime(2024, 1, 2, 10, tzinfo=UTC),
    ),
    "p3": (["carol"], {"name": "Carol", "age": 41}, dt.datetime(2024, 1, 3, 10, tzinfo=UTC)),
    "p4": (["dave_x"], {"email": "", "plan": "free", "username": "dave"}, dt.datetime(2024, 1, 4, 10, tzinfo=UTC)),
    "p5": (["eve"], {"username": "zz-eve"}, dt.datetime(2024, 1, 5, 10, tzinfo=UTC)),
}


def actors_query(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    return project.client().post(query_url(project), {"query": {"kind": "ActorsQuery", **node}, **extra}, format="json")


def load(team_id: int, *, theirs: bool = False) -> dict[str, str]:
    """Insert PERSONS (plus a deleted person) for a project; k → person id. Another project's persons share
    the distinct ids and names but carry "theirs" in every property."""
    ids = {}
    for k, (distinct_ids, properties, created_at) in PERSONS.items():
        props = {**properties, "k": k}
        if theirs:
            props = {key: f"{value}-theirs" for key, value in props.items()}
            props["email"] = f"{k}@theirs.io"
        ids[k] = insert_person(team_id, distinct_ids, props, created_at=created_at)
    insert_person(team_id, ["zed"], {"email": "zed@example.com", "k": "deleted"}, deleted=True)
    if theirs:
        insert_person(team_id, ["their-only"], {"email": "x@theirs.io", "k": "theirs"})
    return ids


def person(k: str) -> dict[str, str]:
    return {"type": "person", "key": k}


TABLE = [
    pytest.param({}, ["p5", "p4", "p3", "p2", "p1"], False, id="default-order-created-at-desc-if-selected"),
    pytest.param({"select": ["properties.k"]}, ["p1", "p2", "p3", "p4", "p5"], False, id="else-first-column-asc"),
    pytest.param({"search": "ALICE"}, ["p1"], False, id="search-name-and-email-case-insensitive"),
    pytest.param({"search": "example.com"}, ["p1"], False, id="search-email-substring-deleted-person-hidden"),
    pytest.param({"search": "anon"}, ["p1"], False, id="search-any-distinct-id"),
    pytest.param({"search": "dave_"}, ["p4"], False, id="search-underscore-is-literal"),
    pytest.param({"search": "a%e"}, [], False, id="search-percent-is-literal"),
    pytest.param({"search": "ro"}, ["p3"], False, id="search-name-carol"),
    pytest.param({"search": ""}, ["p5", "p4", "p3", "p2", "p1"], False, id="empty-search-is-everyone"),
    pytest.param({"properties": [{**person("email"), "value": "bob@test.io"}]}, ["p2"], False, id="exact"),
    pytest.param(
        {"properties": [{**person("plan"), "operator": "exact", "value": ["pro", "free"]}]},
        ["p4", "p2", "p1"],
        False,
        id="exact-list-is-in",
    ),
    pytest.param(
        {"properties": [{**person("plan"), "operator": "is_not", "value": "free"}]},
        ["p5", "p3", "p1"],
        False,
        id="is-not-passes-missing",
    ),
    pytest.param(
        {"properties": [{**person("name"), "operator": "icontains", "value": "AR"}]}, ["p3"], False, id="icontains"
    ),
    pytest.param(
        {"properties": [{**person("name"), "operator": "not_icontains", "value": "o"}]},
        ["p5", "p4", "p1"],
        False,
        id="not-icontains-passes-missing",
    ),
    pytest.param(
        {"properties": [{**person("email"), "operator": "regex", "value": "@test\\.io$"}]}, ["p2"], False, id="regex"
    ),
    pytest.param(
        {"properties": [{**person("email"), "operator": "not_regex", "value": "@test\\.io$"}]},
        ["p5", "p4", "p3", "p1"],
        False,
        id="not-regex",
    ),
    pytest.param(
        {"properties": [{**person("age"), "operator": "gt", "value": 26}]}, ["p3", "p1"], False, id="gt-untyped"
    ),
    pytest.param(
        {"properties": [{**person("age"), "operator": "lte", "value": 30}]}, ["p2", "p1"], False, id="lte-untyped"
    ),
    pytest.param(
        {"properties": [{**person("age"), "operator": "between", "value": [25, 35]}]},
        ["p2", "p1"],
        False,
        id="between",
    ),
    pytest.param(
        {"properties": [{**person("age"), "operator": "not_between", "value": [26, 40]}]},
        ["p3", "p2"],
        False,
        id="not-between",
    ),
    pytest.param(
        {"properties": [{**person("email"), "operator": "is_set"}]}, ["p4", "p2", "p1"], False, id="is-set-empty-is-set"
    ),
    pytest.param({"properties": [{**person("email"), "operator": "is_not_set"}]}, ["p5", "p3"], False, id="is-not-set"),
    pytest.param(
        {"properties": [{**person("joined"), "operator": "is_date_before", "value": "2024-01-01"}]},
        ["p1"],
        False,
        id="is-date-before",
    ),
    pytest.param(
        {"properties": [{**person("joined"), "operator": "is_date_after", "value": "2024-01-01"}]},
        ["p2"],
        False,
        id="is-date-after",
    ),
    pytest.param(
        {"properties": [{**person("distinct_id"), "value": "alice-anon"}]}, ["p1"], False, id="distinct-id-key"
    ),
    pytest.param(
        {"properties": [{**person("distinct_id"), "operator": "is_not", "value": ["alice-anon", "bob"]}]},
        ["p5", "p4", "p3"],
        False,
        id="distinct-id-key-negated",
    ),
    pytest.param(
        {"properties": [{"type": "hogql", "key": "toInt(properties.age) * 2 > 70"}]}, ["p3"], False, id="hogql"
    ),
    pytest.param(
        {
            "properties": {
                "type": "OR",
                "values": [
                    {
                        "type": "AND",
                        "values": [{**person("plan"), "value": "free"}, {**person("username"), "operator": "is_set"}],
                    },
                    {**person("name"), "value": "Alice"},
                ],
            }
        },
        ["p4", "p1"],
        False,
        id="nested-or-and-group",
    ),
    pytest.param(
        {
            "properties": [{**person("email"), "operator": "is_set"}],
            "fixedProperties": [{**person("plan"), "value": "free"}],
            "search": "b",
        },
        ["p2"],
        False,
        id="properties-fixed-properties-and-search-are-anded",
    ),
    pytest.param({"orderBy": ["person"]}, ["p3", "p1", "p2", "p4", "p5"], False, id="order-by-person-display-name"),
    pytest.param(
        {"orderBy": ["person DESC"]}, ["p5", "p4", "p2", "p1", "p3"], False, id="order-by-person-display-name-desc"
    ),
    pytest.param(
        {"orderBy": ["toInt(properties.age) DESC"], "properties": [{**person("age"), "operator": "is_set"}]},
        ["p3", "p1", "p2"],
        False,
        id="order-by-expression",
    ),
    pytest.param({"orderBy": ["created_at"]}, ["p1", "p2", "p3", "p4", "p5"], False, id="order-by-created-at-asc"),
    pytest.param({"limit": 2}, ["p5", "p4"], True, id="limit-has-more"),
    pytest.param({"limit": 2, "offset": 2}, ["p3", "p2"], True, id="middle-page"),
    pytest.param({"limit": 2, "offset": 4}, ["p1"], False, id="last-page"),
    pytest.param({"limit": 2, "offset": 10}, [], False, id="past-the-end"),
]


@pytest.mark.clickhouse
@pytest.mark.parametrize(("node", "expected", "has_more"), TABLE)
def test_actors_query_table(project: Any, other_project: Any, node: dict, expected: list, has_more: bool) -> None:
    load(project.team.pk)
    load(other_project.team.pk, theirs=True)

    node = {"select": ["properties.k", "created_at"], **node}
    response = actors_query(project, node)

    assert response.status_code == 200, response.content
    body = response.json()
    assert [row[0] for row in body["results"]] == expected
    assert body["columns"] == node["select"] and len(body["types"]) == len(node["select"])
    assert body["hasMore"] is has_more
    assert (body["limit"], body["offset"]) == (node.get("limit", 100), node.get("offset", 0))
    assert body["missing_actors_count"] == 0


ENVELOPE_KEYS = {
    "columns", "types", "results", "hasMore", "limit", "offset", "missing_actors_count", "hogql", "timings",
    "modifiers", "cache_key", "is_cached", "last_refresh", "next_allowed_client_refresh", "timezone", "query_status",
    "cache_target_age",
}  # fmt: skip


@pytest.mark.clickhouse
def test_default_select_and_the_person_object(project: Any) -> None:
    ids = load(project.team.pk)

    body = actors_query(project, {"search": "alice"}).json()

    assert set(body) == ENVELOPE_KEYS
    assert body["columns"] == ["person", "id", "created_at", "person.$delete"]
    assert len(body["types"]) == 4 and body["missing_actors_count"] == 0
    [[obj, person_id, created_at, delete]] = body["results"]
    assert (person_id, created_at, delete) == (ids["p1"], "2024-01-01T10:00:00Z", 1)
    assert obj == {
        "id": ids["p1"],
        "distinct_ids": ["alice-1", "alice-anon"],
        "properties": {**PERSONS["p1"][1], "k": "p1"},
        "is_identified": True,
        "created_at": "2024-01-01T10:00:00Z",
    }
    assert "FROM persons" in body["hogql"]


@pytest.mark.clickhouse
def test_created_at_is_in_the_project_timezone(project: Any) -> None:
    project.team.timezone = "America/New_York"
    project.team.save()
    load(project.team.pk)
    body = actors_query(project, {"search": "bob"}).json()
    [[obj, _, created_at, _]] = body["results"]
    assert created_at == obj["created_at"] == "2024-01-02T05:00:00-05:00"
    assert body["timezone"] == "America/New_York"


@pytest.mark.clickhouse
def test_search_by_whole_person_id_and_select_expressions(project: Any) -> None:
    ids = load(project.team.pk)
    fragment = f" {ids['p2'].upper()} "  # a whole id, any case

    body = actors_query(
        project,
        {"select": ["actor", "properties.email -- Email", "is_identified", "person.$delete"], "search": fragment},
    ).json()

    assert body["columns"] == ["actor", "properties.email -- Email", "is_identified", "person.$delete"]
    [[obj, email, identified, delete]] = body["results"]
    assert (obj["id"], obj["distinct_ids"], email, delete) == (ids["p2"], ["bob"], "bob@test.io", 1)
    assert identified in (True, 1)


@pytest.mark.clickhouse
def test_aggregates_group_by_the_other_columns(project: Any) -> None:
    load(project.team.pk)
    body = actors_query(
        project, {"select": ["properties.plan", "count()"], "orderBy": ["count() DESC", "properties.plan"]}
    ).json()
    assert body["results"] == [["free", 2], [None, 2], ["pro", 1]]
    default_order = actors_query(project, {"select": ["count()"]}).json()
    assert default_order["results"] == [[5]]


@pytest.mark.clickhouse
def test_persons_made_by_capture_and_ingestion(live_server: Any, project: Any, other_project: Any) -> None:
    """identify / $set through capture and the ingestion worker: the person, its merged distinct ids and
    properties are listed, searchable and filterable; the other project's same distinct id is not."""

    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    sdk.capture("$pageview", distinct_id="anon-9")
    sdk.alias(previous_id="anon-9", distinct_id="user-9")
    sdk.set(distinct_id="user-9", properties={"email": "nine@example.com", "plan": "pro"})
    sdk.capture("$pageview", distinct_id="solo-1")
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    theirs.capture("$pageview", distinct_id="anon-9")
    theirs.set(distinct_id="anon-9", properties={"email": "nine@theirs.io"})
    theirs.shutdown()
    flush()

    everyone = actors_query(project, {"select": ["person"], "orderBy": ["person"]})
    assert everyone.status_code == 200, everyone.content
    people = [row[0] for row in everyone.json()["results"]]
    assert len(people) == 2
    nine = next(p for p in people if "user-9" in p["distinct_ids"])
    assert sorted(nine["distinct_ids"]) == ["anon-9", "user-9"]
    assert nine["properties"]["email"] == "nine@example.com" and nine["properties"]["plan"] == "pro"
    assert "theirs" not in json.dumps(people)

    searched = actors_query(project, {"select": ["person"], "search": "anon-9"}).json()["results"]
    assert [row[0]["id"] for row in searched] == [nine["id"]]
    filtered = actors_query(
        project, {"select": ["properties.email"], "properties": [{**person("plan"), "value": "pro"}]}
    ).json()["results"]
    assert filtered == [["nine@example.com"]]


@pytest.mark.clickhouse
def test_a_numeric_person_property_compares_as_a_number(project: Any) -> None:
    load(project.team.pk)
    node = {"select": ["properties.k"], "properties": [{**person("age"), "operator": "gt", "value": 9}]}
    as_text = actors_query(project, node).json()["results"]  # "25", "30", "41" > "9" is false as strings
    PropertyDefinition.objects.create(team=project.team, name="age", property_type="Numeric", type=2)
    cache.clear()  # property types are cached per project for half a minute
    as_number = actors_query(project, node, refresh="force_blocking").json()["results"]
    assert (as_text, as_number) == ([], [["p1"], ["p2"], ["p3"]])


# ---------------------------------------------------------------------------------------------------
# the endpoint's machinery, as for HogQLQuery


@pytest.mark.clickhouse
def test_results_are_cached_until_refreshed(project: Any) -> None:
    node = {"select": ["properties.k"], "orderBy": ["properties.k"]}
    insert_person(project.team.pk, ["a"], {"k": "a"})
    first = actors_query(project, node).json()
    insert_person(project.team.pk, ["b"], {"k": "b"})
    cached = actors_query(project, node).json()
    fresh = actors_query(project, node, refresh="force_blocking").json()
    legacy = actors_query(project, node, refresh=True).json()

    assert (first["results"], first["is_cached"]) == ([["a"]], False)
    assert (cached["results"], cached["is_cached"], cached["cache_key"]) == ([["a"]], True, first["cache_key"])
    assert (fresh["results"], fresh["is_cached"]) == ([["a"], ["b"]], False)
    assert (legacy["results"], legacy["is_cached"]) == ([["a"], ["b"]], False)
    assert set(fresh) == ENVELOPE_KEYS and fresh["timezone"] == "UTC" and fresh["query_status"] is None
    other_search = actors_query(project, {**node, "search": "b"}).json()
    assert other_search["cache_key"] != first["cache_key"] and other_search["results"] == [["b"]]


@pytest.mark.clickhouse
def test_async_round_trip_and_cache(project: Any, other_project: Any) -> None:
    load(project.team.pk)
    load(other_project.team.pk, theirs=True)
    node = {"select": ["properties.k"], "search": "bob"}

    started = actors_query(project, node, refresh="async", client_query_id="actors-1")

    assert started.status_code == 202, started.content
    assert started.json()["query_status"]["id"] == "actors-1"
    done = poll_query(project, "actors-1")
    assert done.status_code == 200, done.content
    final = done.json()["query_status"]
    assert final["complete"] is True and final["error"] is False
    assert final["results"]["results"] == [["p2"]] and final["results"]["missing_actors_count"] == 0
    again = actors_query(project, node, refresh="lazy_async")
    assert again.status_code == 200 and again.json()["is_cached"] is True and again.json()["results"] == [["p2"]]


# ---------------------------------------------------------------------------------------------------
# isolation


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    "node",
    [
        {},
        {"search": "theirs"},
        {"search": "their-only"},
        {"search": "{their_person}"},
        {"properties": [{"type": "person", "key": "email", "operator": "icontains", "value": "theirs"}]},
        {"properties": [{"type": "person", "key": "distinct_id", "value": "their-only"}]},
        {"properties": [{"type": "hogql", "key": "team_id = {theirs} OR 1"}]},
        {"properties": [{"type": "hogql", "key": "id IN (SELECT id FROM persons WHERE team_id = {theirs})"}]},
        {"select": ["properties", "(SELECT groupArray(properties.email) FROM persons)"]},
        {"select": ["properties"], "orderBy": ["team_id = {theirs} DESC"]},
        {"select": ["person", "(SELECT groupArray(distinct_id) FROM person_distinct_ids)"]},
    ],
)
def test_another_projects_persons_are_never_listed(project: Any, other_project: Any, node: dict) -> None:
    load(project.team.pk)
    their_ids = load(other_project.team.pk, theirs=True)
    names = {"{theirs}": str(other_project.team.pk), "{their_person}": their_ids["p1"]}

    response = actors_query(project, fill_names(node, names))

    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        text = json.dumps(response.json()["results"])
        assert "theirs" not in text and "their-only" not in text
        assert not any(person_id in text for person_id in their_ids.values())


# ---------------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("query", "attr", "detail"),
    [
        ({"kind": "ActorsQuery", "bogus": 1}, "query__bogus", "Extra inputs are not permitted"),
        ({"kind": "ActorsQuery", "where": ["1"]}, "query__where", "Extra inputs are not permitted"),
        (
            {"kind": "ActorsQuery", "source": {"kind": "InsightActorsQuery", "source": {"kind": "TrendsQuery"}}},
            "query__source__source__series",
            "This field is required.",
        ),
        (
            {"kind": "ActorsQuery", "properties": [{"type": "person", "key": "a", "operator": "bogus"}]},
            "query__properties__0__operator",
            "Unknown property operator 'bogus'",
        ),
        (
            {"kind": "ActorsQuery", "fixedProperties": [{"type": "person", "key": "a", "operator": "semver_gt"}]},
            "query__fixedProperties__0__operator",
            "PropertyOperator semver_gt not implemented",
        ),
        (
            {"kind": "ActorsQuery", "properties": [{"key": "$browser", "value": "Chrome"}]},
            "query__properties__0",
            "The 'event' property filter does not work in 'person' scope",
        ),
        (
            {
                "kind": "ActorsQuery",
                "properties": [{"type": "person", "key": "a", "operator": "between", "value": [3]}],
            },
            "query__properties__0__value",
            "between operator requires a two-element array [min, max]",
        ),
        ({"kind": "ActorsQuery", "select": []}, "query__select", "Ensure this field has at least 1 elements."),
        ({"kind": "ActorsQuery", "select": ["person", "id FROM events"]}, "query__select__1", ""),
        ({"kind": "ActorsQuery", "orderBy": ["id; DROP TABLE person"]}, "query__orderBy__0", ""),
        ({"kind": "ActorsQuery", "limit": -1}, "query__limit", ""),
        ({"kind": "ActorsQuery", "search": ["a"]}, "query__search", "Not a valid string."),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(project: Any, query: Any, attr: str, detail: str) -> None:
    response = project.client().post(query_url(project), {"query": query}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error" and body["attr"] == attr, body
    assert detail in body["detail"]


@pytest.mark.clickhouse
def test_unknown_column_is_a_400(project: Any) -> None:
    response = actors_query(project, {"select": ["chipotle"]})
    assert response.status_code == 400, response.content
    assert "chipotle" in response.json()["detail"]


@pytest.mark.clickhouse
def test_auth_matrix(project: Any, other_project: Any) -> None:
    payload = {"query": {"kind": "ActorsQuery", "select": ["id"]}}
    assert_auth_matrix(project, other_project, "POST", query_url(project), scope="query:read", data=payload)
    assert_auth_matrix(
        project, other_project, "POST", f"{query_url(project)}ActorsQuery/", scope="query:read", data=payload
    )


@pytest.mark.clickhouse
def test_persons_query_is_the_old_name_of_actors_query(project: Any) -> None:
    ids = load(project.team.pk)
    node = {"kind": "PersonsQuery", "select": ["person", "properties.k"], "search": "bob"}
    response = project.client().post(query_url(project), {"query": node}, format="json")
    by_path = project.client().post(f"{query_url(project)}PersonsQuery/", {"query": node}, format="json")
    assert response.status_code == 200, response.content
    [[obj, k]] = response.json()["results"]
    assert (obj["id"], obj["distinct_ids"], k) == (ids["p2"], ["bob"], "p2")
    assert by_path.status_code == 200 and by_path.json()["results"] == response.json()["results"]
