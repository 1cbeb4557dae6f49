"""EventsQuery on POST /query/: a table over a fixed dataset (expected rows worked out by hand), the `*` and
`person` objects, relative bounds, the shared endpoint machinery (cache, refresh, async), isolation, bad
input and the auth matrix."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.auth_matrix import assert_auth_matrix
from tests.query.conftest import fill_names, insert_events, insert_person, poll_query, query_url

UTC = dt.UTC
RANGE = {"after": "2024-01-01", "before": "2024-02-01"}

# (distinct_id, event, timestamp, properties)
DATASET = [
    ("u1", "$pageview", dt.datetime(2024, 1, 7, 9, 0, tzinfo=UTC), {"$browser": "Chrome", "amount": 10}),
    ("u1", "$pageview", dt.datetime(2024, 1, 7, 15, 0, tzinfo=UTC), {"$browser": "Chrome"}),
    ("u1", "signup", dt.datetime(2024, 1, 9, 10, 0, tzinfo=UTC), {"$browser": "Safari"}),
    ("u2", "$pageview", dt.datetime(2024, 1, 7, 23, 59, 59, tzinfo=UTC), {"$browser": "Chrome"}),
    ("u2", "$pageview", dt.datetime(2024, 1, 8, 0, 0, 0, tzinfo=UTC), {}),
    ("u3", "$pageview", dt.datetime(2024, 1, 9, 23, 30, tzinfo=UTC), {"$browser": "Firefox"}),
    ("u4", "$pageview", dt.datetime(2024, 1, 6, 23, 59, tzinfo=UTC), {"$browser": "Chrome"}),
]
PERSONS = {"u1": {"email": "a@x.io"}, "u2": {"name": "Bee"}, "u3": {}, "u4": {}}


def events_query(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    return project.client().post(query_url(project), {"query": {"kind": "EventsQuery", **node}, **extra}, format="json")


def load(team_id: int, *, marker: str = "") -> dict[str, str]:
    """Insert DATASET (and its persons) for a project; distinct id → person id."""
    insert_events(
        team_id,
        [
            {"distinct_id": d, "event": e + marker, "timestamp": t, "properties": {**p, "marker": marker or "mine"}}
            for d, e, t, p in DATASET
        ],
    )
    theirs = {"email": "x@theirs"} if marker else {}
    return {d: insert_person(team_id, [d], {**props, **theirs}) for d, props in PERSONS.items()}


TABLE = [
    pytest.param(
        {"select": ["event", "distinct_id", "timestamp"], "after": "2024-01-07", "before": "2024-01-09"},
        [
            ["$pageview", "u2", "2024-01-08T00:00:00Z"],
            ["$pageview", "u2", "2024-01-07T23:59:59Z"],
            ["$pageview", "u1", "2024-01-07T15:00:00Z"],
            ["$pageview", "u1", "2024-01-07T09:00:00Z"],
        ],
        False,
        id="strict-bounds-default-order-timestamp-desc",
    ),
    pytest.param(
        {"select": ["event", "count()"], **RANGE},
        [["$pageview", 6], ["signup", 1]],
        False,
        id="aggregate-groups-by-the-rest-ordered-by-count",
    ),
    pytest.param(
        {
            "select": ["distinct_id", "count() AS c -- Events"],
            "where": ["properties.$browser = 'Chrome'"],
            "orderBy": ["c DESC", "distinct_id"],
            **RANGE,
        },
        [["u1", 2], ["u2", 1], ["u4", 1]],
        False,
        id="where-and-order-by",
    ),
    pytest.param(
        {"select": ["distinct_id", "timestamp"], "event": "signup", **RANGE},
        [["u1", "2024-01-09T10:00:00Z"]],
        False,
        id="event",
    ),
    pytest.param(
        {"select": ["distinct_id"], "events": ["signup", "nope"], **RANGE},
        [["u1"]],
        False,
        id="events",
    ),
    pytest.param(
        {
            "select": ["distinct_id", "timestamp"],
            "properties": [{"key": "$browser", "operator": "is_not", "value": "Chrome"}],
            "orderBy": ["timestamp"],
            **RANGE,
        },
        [["u2", "2024-01-08T00:00:00Z"], ["u1", "2024-01-09T10:00:00Z"], ["u3", "2024-01-09T23:30:00Z"]],
        False,
        id="properties-is-not-passes-missing",
    ),
    pytest.param(
        {
            "select": ["count()"],
            "fixedProperties": [{"key": "$browser", "value": "Chrome"}],
            "properties": {"type": "AND", "values": [{"type": "person", "key": "email", "operator": "is_set"}]},
            **RANGE,
        },
        [[2]],
        False,
        id="fixed-properties-and-person-properties",
    ),
    pytest.param(
        {
            "select": ["distinct_id", "count()"],
            "where": ["count() > 1", "event = '$pageview' OR event = 'signup'"],
            "orderBy": ["distinct_id"],
            **RANGE,
        },
        [["u1", 3], ["u2", 2]],
        False,
        id="aggregate-where-is-having",
    ),
    pytest.param(
        {"select": ["timestamp"], "limit": 2, **RANGE},
        [["2024-01-09T23:30:00Z"], ["2024-01-09T10:00:00Z"]],
        True,
        id="limit-has-more",
    ),
    pytest.param(
        {"select": ["timestamp"], "limit": 2, "offset": 6, **RANGE},
        [["2024-01-06T23:59:00Z"]],
        False,
        id="offset-last-page",
    ),
    pytest.param(
        {
            "select": ["properties.$browser", "max(toFloat(properties.amount))"],
            "orderBy": ["properties.$browser"],
            **RANGE,
        },
        [["Chrome", 10.0], ["Firefox", None], ["Safari", None], [None, None]],
        False,
        id="properties-and-an-aggregate-of-a-property",
    ),
    pytest.param(
        {"select": ["2", "event"], "event": "signup", **RANGE},
        [[2, "signup"]],
        False,
        id="a-constant-first-column-is-not-an-order",
    ),
    pytest.param(
        {"select": ["event"], "after": "all", "before": "2024-01-07"},
        [["$pageview"]],
        False,
        id="after-all",
    ),
]


@pytest.mark.clickhouse
@pytest.mark.parametrize(("node", "expected", "has_more"), TABLE)
def test_events_query_table(project: Any, other_project: Any, node: dict, expected: list, has_more: bool) -> None:
    load(project.team.pk)
    load(other_project.team.pk, marker="-theirs")

    response = events_query(project, node)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["results"] == expected
    assert body["columns"] == node["select"]
    assert len(body["types"]) == len(node["select"]) and all(isinstance(t, str) for t in body["types"])
    assert body["hasMore"] is has_more
    assert (body["limit"], body["offset"]) == (node.get("limit", 100), node.get("offset", 0))


ENVELOPE_KEYS = {
    "columns", "types", "results", "hasMore", "limit", "offset", "hogql", "timings", "modifiers", "cache_key",
    "is_cached", "last_refresh", "next_allowed_client_refresh", "timezone", "query_status",
    "cache_target_age",
}  # fmt: skip


@pytest.mark.clickhouse
def test_star_and_person_columns_are_objects(project: Any) -> None:
    person_ids = load(project.team.pk)
    node = {
        "select": ["*", "event", "person", "person_display_name -- Person", "timestamp"],
        "where": ["distinct_id IN ('u1', 'u2')"],
        "orderBy": ["timestamp DESC"],
        "limit": 2,
        **RANGE,
    }
    body = events_query(project, node, refresh=True).json()

    assert set(body) == ENVELOPE_KEYS
    assert body["columns"] == node["select"] and body["hasMore"] is True
    assert body["types"][1] == "String" and body["types"][0].startswith("Tuple(")
    star, event, person, display, timestamp = body["results"][0]  # u1's signup, 2024-01-09 10:00
    assert (event, timestamp) == ("signup", "2024-01-09T10:00:00Z")
    assert set(star) == {
        "uuid", "event", "properties", "timestamp", "team_id", "distinct_id", "elements_chain", "created_at",
        "person_mode",
    }  # fmt: skip
    assert star["event"] == "signup" and star["distinct_id"] == "u1" and star["team_id"] == project.team.pk
    assert star["properties"] == {"$browser": "Safari", "marker": "mine"}
    assert star["timestamp"] == "2024-01-09T10:00:00Z"
    assert person["uuid"] == person_ids["u1"] and person["distinct_id"] == "u1"
    assert person["properties"] == {"email": "a@x.io"} and isinstance(person["created_at"], str)
    assert display == {"display_name": "a@x.io", "id": person_ids["u1"], "distinct_id": "u1"}
    second_display = body["results"][1][3]  # u2's 2024-01-08 pageview: no email, a name
    assert second_display == {"display_name": "Bee", "id": person_ids["u2"], "distinct_id": "u2"}
    assert "FROM events" in body["hogql"]


@pytest.mark.clickhouse
def test_person_id_lists_all_of_the_persons_distinct_ids(project: Any, other_project: Any) -> None:
    insert_events(project.team.pk, [{"distinct_id": "anon", "event": "a"}, {"distinct_id": "known", "event": "b"}])
    insert_events(project.team.pk, [{"distinct_id": "someone-else", "event": "c"}])
    person_id = insert_person(project.team.pk, ["anon", "known"], {})
    insert_person(project.team.pk, ["someone-else"], {})
    body = events_query(project, {"select": ["event"], "personId": person_id, "orderBy": ["event"]}).json()
    assert body["results"] == [["a"], ["b"]]


@pytest.mark.clickhouse
def test_relative_after_and_before(project: Any) -> None:
    now = dt.datetime.now(UTC)
    insert_events(
        project.team.pk,
        [
            {"event": "hour", "timestamp": now - dt.timedelta(hours=1)},
            {"event": "days3", "timestamp": now - dt.timedelta(days=3)},
            {"event": "days10", "timestamp": now - dt.timedelta(days=10)},
            {"event": "future", "timestamp": now + dt.timedelta(minutes=10)},
        ],
    )

    def events(**bounds: Any) -> list[str]:
        response = events_query(project, {"select": ["event"], **bounds})
        assert response.status_code == 200, response.content
        return [row[0] for row in response.json()["results"]]

    # Ordered by the first column (nothing else selected): names sort alphabetically.
    assert events() == ["hour"]  # after defaults to -24h, before to now + 5 s (the future event is hidden)
    assert events(after="-7d") == ["days3", "hour"]
    assert events(after="all") == ["days10", "days3", "hour"]
    assert events(after="all", before="-2d") == ["days10", "days3"]  # -2d: two days ago, 00:00
    later = (now + dt.timedelta(hours=1)).isoformat()
    assert events(after="-1d", before=later) == ["future", "hour"]


@pytest.mark.clickhouse
def test_bounds_are_in_the_project_timezone(project: Any) -> None:
    project.team.timezone = "America/New_York"
    project.team.save()
    insert_events(
        project.team.pk,
        [
            {"event": "utc-7th-04h", "timestamp": dt.datetime(2024, 1, 7, 4, 0, tzinfo=UTC)},  # 6 Jan 23:00 local
            {"event": "utc-7th-06h", "timestamp": dt.datetime(2024, 1, 7, 6, 0, tzinfo=UTC)},  # 7 Jan 01:00 local
        ],
    )
    body = events_query(project, {"select": ["event", "timestamp"], "after": "2024-01-07", "before": "2024-01-08"})
    assert body.json()["results"] == [["utc-7th-06h", "2024-01-07T01:00:00-05:00"]]
    assert body.json()["timezone"] == "America/New_York"


# ---------------------------------------------------------------------------------------------------
# the endpoint's machinery, as for HogQLQuery


COUNT = {"select": ["event", "count()"], "after": "all"}


@pytest.mark.clickhouse
def test_results_are_cached_until_refreshed(project: Any) -> None:
    insert_events(project.team.pk, [{"event": "a"}])
    first = events_query(project, COUNT).json()
    insert_events(project.team.pk, [{"event": "a"}])
    cached = events_query(project, COUNT).json()
    forced_cache = events_query(project, COUNT, refresh="force_cache").json()  # remapped to blocking on /query/
    fresh = events_query(project, COUNT, refresh="force_blocking").json()
    legacy = events_query(project, COUNT, refresh=True).json()

    assert (first["results"], first["is_cached"]) == ([["a", 1]], False)
    assert (cached["results"], cached["is_cached"], cached["cache_key"]) == ([["a", 1]], True, first["cache_key"])
    assert (forced_cache["results"], forced_cache["is_cached"]) == ([["a", 1]], True)
    assert (fresh["results"], fresh["is_cached"]) == ([["a", 2]], False)
    assert (legacy["results"], legacy["is_cached"]) == ([["a", 2]], False)
    assert set(fresh) == ENVELOPE_KEYS and fresh["timezone"] == "UTC" and fresh["query_status"] is None


@pytest.mark.clickhouse
def test_async_round_trip_and_cache(project: Any, other_project: Any) -> None:
    insert_events(project.team.pk, [{"event": "a"}] * 3)
    insert_events(other_project.team.pk, [{"event": "a"}] * 9)

    started = events_query(project, COUNT, refresh="async", client_query_id="events-1")

    assert started.status_code == 202, started.content
    status = started.json()["query_status"]
    assert status["id"] == "events-1" and status["complete"] is False and status["team_id"] == project.team.pk
    done = poll_query(project, "events-1")
    assert done.status_code == 200, done.content
    final = done.json()["query_status"]
    assert final["complete"] is True and final["error"] is False
    assert final["results"]["results"] == [["a", 3]] and final["results"]["columns"] == ["event", "count()"]
    again = events_query(project, COUNT, refresh="lazy_async")
    assert again.status_code == 200 and again.json()["is_cached"] is True
    assert again.json()["results"] == [["a", 3]]


@pytest.mark.clickhouse
def test_async_error_is_reported_as_400_and_cancel_works(project: Any, other_project: Any) -> None:
    started = events_query(project, {"select": ["event = 5"], "after": "all"}, refresh="force_async")
    insert_events(project.team.pk, [{"event": "a"}])
    assert started.status_code == 202
    failed = poll_query(project, started.json()["query_status"]["id"])
    assert failed.status_code == 400, failed.content

    started = events_query(project, COUNT, **{"async": True})
    query_id = started.json()["query_status"]["id"]
    assert other_project.client().delete(f"/api/projects/{other_project.team.pk}/query/{query_id}/").status_code == 404
    assert project.client().delete(f"{query_url(project)}{query_id}/").status_code == 204
    assert project.client().get(f"{query_url(project)}{query_id}/").status_code == 404


@pytest.mark.clickhouse
def test_filters_override_sets_bounds_and_adds_properties(project: Any) -> None:
    insert_events(
        project.team.pk,
        [
            {"event": "a", "timestamp": dt.datetime(2024, 3, 1, 12, tzinfo=UTC), "properties": {"k": "1"}},
            {"event": "b", "timestamp": dt.datetime(2024, 3, 1, 13, tzinfo=UTC), "properties": {"k": "2"}},
            {"event": "c", "timestamp": dt.datetime(2024, 4, 1, 12, tzinfo=UTC), "properties": {"k": "1"}},
        ],
    )
    override = {"date_from": "2024-03-01", "date_to": "2024-03-02", "properties": [{"key": "k", "value": "1"}]}
    body = events_query(project, {"select": ["event"], "after": "all"}, filters_override=override).json()
    assert body["results"] == [["a"]]


@pytest.mark.clickhouse
def test_kind_in_path_and_environments_route(project: Any) -> None:
    insert_events(project.team.pk, [{"event": "a"}])
    payload = {"query": {"kind": "EventsQuery", "select": ["event"]}}
    by_path = project.client().post(f"{query_url(project)}EventsQuery/", payload, format="json")
    mismatch = project.client().post(f"{query_url(project)}HogQLQuery/", payload, format="json")
    environment = project.client().post(f"/api/environments/{project.team.pk}/query/", payload, format="json")
    assert by_path.status_code == 200 and by_path.json()["results"] == [["a"]]
    assert environment.status_code == 200 and environment.json()["results"] == [["a"]]
    assert mismatch.status_code == 400
    assert mismatch.json()["detail"] == (
        'Query kind mismatch: path kind "HogQLQuery" does not match body kind "EventsQuery".'
    )


@pytest.mark.clickhouse
def test_limit_is_capped_and_defaults_to_100(project: Any) -> None:
    insert_events(project.team.pk, [{"event": f"e{i:03}"} for i in range(150)])
    default = events_query(project, {"select": ["event"]}).json()
    capped = events_query(project, {"select": ["event"], "limit": 100_000}).json()
    assert len(default["results"]) == 100 and default["hasMore"] is True and default["limit"] == 100
    assert len(capped["results"]) == 150 and capped["hasMore"] is False and capped["limit"] == 50_000


# ---------------------------------------------------------------------------------------------------
# isolation


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    "node",
    [
        {"select": ["*"]},
        {"select": ["event", "team_id"], "where": ["team_id = {theirs}"]},
        {"select": ["event"], "where": ["1 = 1 OR team_id = {theirs}"]},
        {"select": ["event"], "where": ["team_id IN (SELECT team_id FROM events)"]},
        {"select": ["event"], "where": ["distinct_id IN (SELECT distinct_id FROM events WHERE team_id = {theirs})"]},
        {"select": ["event"], "properties": [{"type": "hogql", "key": "team_id = {theirs} OR 1"}]},
        {"select": ["event"], "properties": [{"key": "marker", "operator": "icontains", "value": "theirs"}]},
        {"select": ["event", "person.properties.email"], "orderBy": ["team_id = {theirs} DESC"]},
        {"select": ["(SELECT groupArray(event) FROM events)"]},
        {"select": ["person"], "personId": "{their_person}"},
        {"select": ["event", "count()"], "where": ["count() > 0 OR team_id = {theirs}"]},
    ],
)
def test_another_projects_events_never_appear(project: Any, other_project: Any, node: dict) -> None:
    load(project.team.pk)
    their_people = load(other_project.team.pk, marker="-theirs")
    names = {"{theirs}": str(other_project.team.pk), "{their_person}": their_people["u1"]}

    response = events_query(project, {**fill_names(node, names), "after": "all"})

    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        rows = response.json()["results"]
        assert "theirs" not in json.dumps(rows)  # their events, properties and persons all carry the marker
        team_ids = [v["team_id"] for row in rows for v in row if isinstance(v, dict) and "team_id" in v]
        assert set(team_ids) <= {project.team.pk}


# ---------------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("query", "attr", "detail"),
    [
        (
            {"kind": "FooQuery", "select": ["event"]},
            "query__kind",
            "Input tag 'FooQuery' found using 'kind' does not match any of the expected tags: 'HogQLQuery', "
            "'EventsQuery'",
        ),
        ({"select": ["event"]}, "query__kind", "This field is required."),
        ({"kind": "EventsQuery", "select": ["event"], "bogus": 1}, "query__bogus", "Extra inputs are not permitted"),
        ({"kind": "EventsQuery"}, "query__select", "This field is required."),
        ({"kind": "EventsQuery", "select": []}, "query__select", "Ensure this field has at least 1 elements."),
        (
            {"kind": "EventsQuery", "select": ["event"], "properties": [{"key": "a", "operator": "bogus"}]},
            "query__properties__0__operator",
            "Unknown property operator 'bogus'",
        ),
        (
            {"kind": "EventsQuery", "select": ["event"], "properties": [{"key": "a", "operator": "semver_gt"}]},
            "query__properties__0__operator",
            "PropertyOperator semver_gt not implemented",
        ),
        (
            {"kind": "EventsQuery", "select": ["event"], "after": "last tuesday"},
            "query__after",
            "Invalid date 'last tuesday'",
        ),
        (
            {"kind": "EventsQuery", "select": ["event"], "before": "2024-13-45"},
            "query__before",
            "Invalid date '2024-13-45'",
        ),
        ({"kind": "EventsQuery", "select": ["event FROM persons"]}, "query__select__0", ""),
        ({"kind": "EventsQuery", "select": ["event", "1; DROP TABLE events"]}, "query__select__1", ""),
        ({"kind": "EventsQuery", "select": ["event"], "where": ["(("]}, "query__where__0", ""),
        ({"kind": "EventsQuery", "select": ["event"], "where": ["1 AS x"]}, "query__where__0", "without an alias"),
        ({"kind": "EventsQuery", "select": ["event"], "orderBy": ["event DESC LIMIT 1"]}, "query__orderBy__0", ""),
        (
            {"kind": "EventsQuery", "select": ["event"], "properties": [{"key": "x", "operator": "is_date_after"}]},
            "query__properties__0__value",
            "The is_date_after operator needs a value",
        ),
        (
            {"kind": "EventsQuery", "select": ["event"], "properties": [{"key": "x", "value": "a", "typo": 1}]},
            "query__properties__0__typo",
            "Unknown field 'typo'",
        ),
        ({"kind": "EventsQuery", "select": ["event"], "personId": "nope"}, "query__personId", "is not a person id"),
        (
            {
                "kind": "EventsQuery",
                "select": ["event"],
                "actionSteps": [{"event": "$autocapture", "selector": "a ~ b"}],
            },
            "query__actionSteps",
            "Unsupported element selector",
        ),
        ({"kind": "EventsQuery", "select": ["event"], "actionSteps": "click"}, "query__actionSteps", "a list"),
        ({"kind": "EventsQuery", "select": ["event"], "limit": -1}, "query__limit", ""),
        ({"kind": "EventsQuery", "select": ["event"], "where": ["{filters}"]}, "query__where__0", "placeholders"),
        ({"kind": "HogQLQuery", "query": "SELECT 1", "select": ["event"]}, "query__select", "Extra inputs"),
        ("SELECT 1", "query", "must be an object"),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(project: Any, query: Any, attr: str, detail: str) -> None:
    response = project.client().post(query_url(project), {"query": query}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error" and body["attr"] == attr
    assert detail in body["detail"]


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("node", "code", "detail"),
    [
        ({"select": ["chipotle"]}, "hogql_query_error", "Unable to resolve field: chipotle"),
        ({"select": ["event"], "where": ["event = 5"]}, "no_common_type", "There is no supertype"),
        ({"select": ["event"], "orderBy": ["hamburger(event)"]}, "hogql_query_error", "hamburger"),
        ({"select": ["event"], "filters_override": {"date_from": "soon"}}, "invalid_date_range", "'soon'"),
    ],
)
def test_errors_found_when_compiling_or_running_are_400s(project: Any, node: dict, code: str, detail: str) -> None:
    insert_events(project.team.pk, [{"event": "x"}])
    override = node.pop("filters_override", None)
    response = events_query(project, node, **({"filters_override": override} if override else {}))
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["type"], body["code"]) == ("validation_error", code)
    assert detail in body["detail"]


@pytest.mark.clickhouse
def test_auth_matrix(project: Any, other_project: Any) -> None:
    payload = {"query": {"kind": "EventsQuery", "select": ["event"]}}
    assert_auth_matrix(project, other_project, "POST", query_url(project), scope="query:read", data=payload)
    assert_auth_matrix(
        project, other_project, "POST", f"{query_url(project)}EventsQuery/", scope="query:read", data=payload
    )


@pytest.mark.clickhouse
def test_rate_limits_are_the_analytics_ones_not_hogqls(project: Any, settings: Any) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "query": "1/hour", "clickhouse_burst": "3/minute"}
    statuses = [events_query(project, {"select": [f"{i}"]}).status_code for i in range(4)]
    hogql = project.client().post(
        query_url(project), {"query": {"kind": "HogQLQuery", "query": "SELECT 1"}}, format="json"
    )
    assert statuses == [200, 200, 200, 429]
    assert hogql.status_code == 200  # its own bucket (1/hour), untouched by the EventsQuery requests


@pytest.mark.clickhouse
def test_an_event_without_a_person_keeps_its_row(project: Any) -> None:
    insert_events(project.team.pk, [{"distinct_id": "nobody", "event": "x"}, {"distinct_id": "p", "event": "y"}])
    person_id = insert_person(project.team.pk, ["p"], {"username": "pat"})
    body = events_query(project, {"select": ["event", "person", "person_display_name"]}).json()
    assert body["types"] == ["String", "String", "String"]  # PostHog's: the person columns read the distinct id
    assert body["results"][0] == [
        "x",
        {"distinct_id": "nobody"},
        {"display_name": "nobody", "id": None, "distinct_id": "nobody"},
    ]
    event, person, display = body["results"][1]
    assert (event, person["uuid"], person["properties"], person["distinct_id"]) == (
        "y",
        person_id,
        {"username": "pat"},
        "p",
    )
    assert display == {"display_name": "pat", "id": person_id, "distinct_id": "p"}
