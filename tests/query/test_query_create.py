"""POST /api/projects/:id/query/ — the seed queries, the response envelope, errors, limits, caching, auth."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.cache import cache

from definitions.models import PropertyDefinition
from posthog_clone.clickhouse import get_client, table
from tests.auth_matrix import assert_auth_matrix
from tests.query.conftest import insert_events, insert_person, query_url, run

SEED = (
    "SELECT event, count() FROM events WHERE timestamp >= now() - INTERVAL 7 DAY "
    "GROUP BY event ORDER BY count() DESC LIMIT 20"
)
ENVELOPE_KEYS = {
    "results", "columns", "types", "hogql", "clickhouse", "query", "timings", "modifiers", "hasMore", "limit",
    "offset", "cache_key", "is_cached", "last_refresh", "next_allowed_client_refresh", "timezone", "query_status",
    "cache_target_age",
}  # fmt: skip
NOW = dt.datetime.now(dt.UTC)


@pytest.mark.clickhouse
def test_seed_top_events_query_counts_last_seven_days(project: Any, other_project: Any) -> None:
    insert_events(project.team.pk, [{"event": "$pageview"}] * 5 + [{"event": "signup"}] * 3)
    insert_events(project.team.pk, [{"event": "ancient", "timestamp": NOW - dt.timedelta(days=8)}])
    insert_events(other_project.team.pk, [{"event": "$pageview"}] * 7 + [{"event": "theirs"}])

    response = run(project, SEED)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["results"] == [["$pageview", 5], ["signup", 3]]
    assert body["columns"] == ["event", "count()"]
    assert body["types"] == [["event", "String"], ["count()", "UInt64"]]
    assert body["hasMore"] is None and body["limit"] is None  # the query had its own LIMIT
    assert body["is_cached"] is False and body["timezone"] == "UTC" and body["query"] == SEED
    assert body["timings"][-1]["k"] == "."
    assert f"equals(events.team_id, {project.team.pk})" in body["clickhouse"]
    assert "SETTINGS" in body["clickhouse"] and "readonly=1" in body["clickhouse"]


def _server_timing(response: Any) -> dict[str, dict[str, str]]:
    metrics = {}
    for metric in response.headers["Server-Timing"].split(","):
        name, *params = (part.strip() for part in metric.split(";"))
        metrics[name] = dict(param.split("=", 1) for param in params)
    return metrics


@pytest.mark.clickhouse
def test_a_query_response_says_how_long_clickhouse_took_in_server_timing(project: Any) -> None:
    insert_events(project.team.pk, [{"event": "$pageview"}] * 3)

    response = run(project, SEED, refresh="force_blocking")

    assert response.status_code == 200, response.content
    metrics = _server_timing(response)
    assert metrics["clickhouse"]["desc"] == '"1 queries"'
    clickhouse_ms, app_ms = float(metrics["clickhouse"]["dur"]), float(metrics["app"]["dur"])
    assert 0 < clickhouse_ms < app_ms
    timed = {t["k"]: t["t"] * 1000 for t in response.json()["timings"]}
    assert clickhouse_ms <= timed["./clickhouse_execute"] + 0.01  # within the runner's own span of the call
    assert "Server-Timing" not in project.client().get(f"/api/projects/{project.team.pk}/").headers  # no query


@pytest.mark.clickhouse
def test_person_email_and_persons_queries_after_identify(project: Any, other_project: Any) -> None:
    insert_events(
        project.team.pk, [{"event": "signup", "distinct_id": "anon-1"}, {"event": "login", "distinct_id": "u1"}]
    )
    insert_person(project.team.pk, ["anon-1", "u1"], {"email": "ada@example.com"})
    insert_person(other_project.team.pk, ["anon-1"], {"email": "spy@example.com"})
    insert_person(project.team.pk, ["gone"], {"email": "deleted@example.com"}, deleted=True)

    by_event = run(project, "SELECT event, person.properties.email FROM events ORDER BY event")
    persons = run(project, "SELECT properties.email, is_identified FROM persons ORDER BY properties.email")

    assert by_event.json()["results"] == [["login", "ada@example.com"], ["signup", "ada@example.com"]]
    assert persons.json()["results"] == [["ada@example.com", 1]]


@pytest.mark.clickhouse
def test_person_properties_use_latest_version(project: Any, other_project: Any) -> None:
    person_id = insert_person(project.team.pk, ["u1"], {"email": "old@example.com"}, version=1)
    newer = {
        "id": person_id,
        "team_id": project.team.pk,
        "properties": json.dumps({"email": "new@example.com"}),
        "is_identified": 1,
        "is_deleted": 0,
        "version": 2,
        "created_at": "2024-01-01 00:00:00.000",
    }
    get_client().insert_json_rows(table("person"), json.dumps(newer).encode())
    response = run(project, "SELECT id, properties.email FROM persons")
    assert response.json()["results"] == [[person_id, "new@example.com"]]


@pytest.mark.clickhouse
def test_numeric_property_definitions_make_comparisons_numeric(project: Any, other_project: Any) -> None:
    insert_events(project.team.pk, [{"event": "buy", "properties": {"price": p}} for p in (5, 12, 100)])
    untyped = run(project, "SELECT count() FROM events WHERE properties.price > '9'")
    PropertyDefinition.objects.create(team=project.team, name="price", property_type="Numeric", type=1)
    cache.clear()  # property types are cached for 30 s per project
    typed = run(project, "SELECT count() FROM events WHERE properties.price > 9", refresh="force_blocking")

    assert untyped.json()["results"] == [[0]]  # without a definition the value is a string: '12' < '9'
    assert typed.json()["results"] == [[2]]
    assert "accurateCastOrNull" in typed.json()["clickhouse"]


@pytest.mark.clickhouse
def test_no_limit_returns_100_rows_and_has_more(project: Any, other_project: Any) -> None:
    insert_events(project.team.pk, [{"event": f"e{i}"} for i in range(150)])
    body = run(project, "SELECT event FROM events").json()
    assert len(body["results"]) == 100
    assert body["hasMore"] is True and body["limit"] == 100 and body["offset"] == 0
    assert "LIMIT 101 OFFSET 0" in body["clickhouse"]


@pytest.mark.clickhouse
def test_limit_above_cap_returns_at_most_50000_rows(project: Any, other_project: Any) -> None:
    body = run(project, "SELECT number FROM numbers(60000) LIMIT 60000").json()
    assert len(body["results"]) == 50_000
    assert "LIMIT 50000" in body["clickhouse"]
    assert body["hasMore"] is None


@pytest.mark.clickhouse
def test_query_over_max_execution_time_is_a_clean_error(project: Any, settings: Any) -> None:
    settings.HOGQL_MAX_EXECUTION_TIME = 1
    response = run(project, "SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1")
    assert response.status_code == 400, response.content
    assert response.json() == {
        "type": "validation_error",
        "code": "query_timeout",
        "detail": (
            "Query has hit the max execution time before completing. Narrow the date range or simplify the query."
        ),
        "attr": None,
    }


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("query", "code", "detail"),
    [
        ("", "hogql_syntax_error", "Empty query"),
        ("SELECT 1; SELECT 2", "hogql_syntax_error", "mismatched input ';' expecting <EOF>"),
        ("DELETE FROM events", "hogql_syntax_error", "Only SELECT queries are supported"),
        ("SELEC event FROM events", "hogql_syntax_error", "Syntax error at line 1"),
        ("SELECT * FROM other", "hogql_query_error", "Unknown table `other`."),
        ("SELECT chipotle FROM events", "hogql_query_error", "Unable to resolve field: chipotle"),
        ("SELECT person.chipotle FROM events", "hogql_query_error", "Field not found: chipotle"),
        ("SELECT tostring(event) FROM events", "hogql_query_error", "Perhaps you meant 'toString(...)'?"),
        ("SELECT person FROM events", "hogql_query_error", "Can't select a table when a column is expected: person"),
        ("SELECT event FROM events WHERE event = {x}", "hogql_query_error", "Unresolved placeholder: {x}"),
        ("SELECT quantile(event) FROM events", "hogql_query_error", "requires parameters in addition to arguments"),
        ("SELECT properties.n = 5 FROM events", "no_common_type", "There is no supertype"),
    ],
)
def test_errors_are_400_validation_errors(project: Any, query: str, code: str, detail: str) -> None:
    insert_events(project.team.pk, [{"event": "x", "properties": {"n": "a"}}])
    response = run(project, query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error" and body["code"] == code and body["attr"] is None
    assert detail in body["detail"]
    assert "Stack trace" not in body["detail"] and "DB::Exception" not in body["detail"]


@pytest.mark.clickhouse
def test_values_are_bound_as_parameters_never_inlined(project: Any) -> None:
    insert_events(project.team.pk, [{"event": "it's"}, {"event": "other"}])
    body = run(
        project, "SELECT event FROM events WHERE event = {name}", query_extra={"values": {"name": "it's"}}
    ).json()
    assert body["results"] == [["it's"]]
    assert "it's" not in body["clickhouse"] and "{hogql_val_" in body["clickhouse"]


@pytest.mark.clickhouse
def test_filters_placeholder_expands_date_range_and_properties(project: Any) -> None:
    insert_events(
        project.team.pk,
        [
            {
                "event": "a",
                "timestamp": dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC),
                "properties": {"$browser": "Chrome"},
            },
            {
                "event": "b",
                "timestamp": dt.datetime(2024, 3, 1, 13, tzinfo=dt.UTC),
                "properties": {"$browser": "Safari"},
            },
            {
                "event": "c",
                "timestamp": dt.datetime(2024, 4, 1, 12, tzinfo=dt.UTC),
                "properties": {"$browser": "Chrome"},
            },
        ],
    )
    filters = {
        "dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-02"},
        "properties": [{"key": "$browser", "value": ["Chrome"], "operator": "exact", "type": "event"}],
    }
    body = run(project, "SELECT event FROM events WHERE {filters}", query_extra={"filters": filters}).json()
    assert body["results"] == [["a"]]


@pytest.mark.clickhouse
def test_results_are_cached_until_refreshed(project: Any) -> None:
    insert_events(project.team.pk, [{"event": "a"}])
    first = run(project, "SELECT count() FROM events").json()
    insert_events(project.team.pk, [{"event": "b"}])
    cached = run(project, "SELECT count() FROM events").json()
    fresh = run(project, "SELECT count() FROM events", refresh=True).json()
    assert (first["results"], first["is_cached"]) == ([[1]], False)
    assert (cached["results"], cached["is_cached"], cached["cache_key"]) == ([[1]], True, first["cache_key"])
    assert (fresh["results"], fresh["is_cached"]) == ([[2]], False)


@pytest.mark.clickhouse
def test_timezone_of_the_project_is_applied(project: Any) -> None:
    project.team.timezone = "Asia/Tokyo"
    project.team.save()
    insert_events(project.team.pk, [{"event": "a", "timestamp": dt.datetime(2024, 1, 1, 20, tzinfo=dt.UTC)}])
    body = run(project, "SELECT timestamp, toDate(timestamp) FROM events").json()
    assert body["results"] == [["2024-01-02T05:00:00+09:00", "2024-01-02"]]
    assert body["timezone"] == "Asia/Tokyo"


def test_unknown_top_level_keys_are_rejected(project: Any) -> None:
    response = project.client().post(
        query_url(project), {"query": {"kind": "HogQLQuery", "query": "SELECT 1"}, "bogus": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["attr"] == "bogus"


def test_missing_query_text_is_rejected(project: Any) -> None:
    response = project.client().post(query_url(project), {"query": {"kind": "HogQLQuery"}}, format="json")
    assert response.status_code == 400
    assert response.json()["attr"] == "query__query"


@pytest.mark.clickhouse
def test_modifiers_are_echoed_and_environments_route_works(project: Any) -> None:
    url = f"/api/environments/{project.team.pk}/query"
    payload = {"query": {"kind": "HogQLQuery", "query": "SELECT 1", "modifiers": {"personsOnEventsMode": "disabled"}}}
    response = project.client().post(url, payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["modifiers"] == {"personsOnEventsMode": "disabled"}


@pytest.mark.clickhouse
def test_auth_matrix(project: Any, other_project: Any) -> None:
    payload = {"query": {"kind": "HogQLQuery", "query": "SELECT 1"}}
    assert_auth_matrix(project, other_project, "POST", query_url(project), scope="query:read", data=payload)


@pytest.mark.clickhouse
def test_query_over_memory_limit_is_a_clean_error(project: Any, settings: Any) -> None:
    settings.HOGQL_MAX_MEMORY_USAGE = 20 * 1024**2
    response = run(project, "SELECT groupArray(number) FROM numbers(50000000)")
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["type"], body["code"]) == ("validation_error", "memory_limit_exceeded")
    assert "memory limit" in body["detail"]


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    "filters",
    [
        {"dateRange": "yesterday"},
        {"dateRange": {"date_from": "not a date"}},
        {"properties": "x"},
        {"properties": [{"key": "price", "operator": "gt", "value": None}]},
        {"properties": [{"key": "price", "operator": "between", "value": 1}]},
    ],
)
def test_malformed_filters_are_400(project: Any, filters: dict) -> None:
    response = run(project, "SELECT count() FROM events WHERE {filters}", query_extra={"filters": filters})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "hogql_query_error"


@pytest.mark.clickhouse
def test_datetimes_render_as_drf_does(project: Any) -> None:
    moment = dt.datetime(2024, 1, 1, 20, 0, 0, 123456, tzinfo=dt.UTC)
    insert_events(project.team.pk, [{"event": "a", "timestamp": moment}])
    body = run(project, "SELECT timestamp, uuid FROM events").json()
    assert body["results"][0][0] == "2024-01-01T20:00:00.123Z"
    assert body["types"][0] == ["timestamp", "DateTime64(6, 'UTC')"]
    assert isinstance(body["results"][0][1], str) and len(body["results"][0][1]) == 36


@pytest.mark.clickhouse
def test_filters_placeholder_only_on_events_sessions_groups(project: Any) -> None:
    insert_events(
        project.team.pk,
        [
            {
                "event": "a",
                "timestamp": dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC),
                "properties": {"$session_id": "s1"},
            },
            {
                "event": "b",
                "timestamp": dt.datetime(2024, 4, 1, 12, tzinfo=dt.UTC),
                "properties": {"$session_id": "s2"},
            },
        ],
    )
    filters = {"dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-02"}}
    sessions = run(project, "SELECT session_id FROM sessions WHERE {filters}", query_extra={"filters": filters})
    persons = run(project, "SELECT id FROM persons WHERE {filters}", query_extra={"filters": filters})
    assert sessions.json()["results"] == [["s1"]]
    assert persons.status_code == 400
    assert persons.json()["detail"].startswith("Cannot use 'filters' placeholder in a SELECT clause")


@pytest.mark.clickhouse
def test_filters_override_and_variables(project: Any) -> None:
    insert_events(
        project.team.pk,
        [
            {"event": "a", "timestamp": dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)},
            {"event": "b", "timestamp": dt.datetime(2024, 4, 1, 12, tzinfo=dt.UTC)},
        ],
    )
    variables = {"v1": {"variableId": "v1", "code_name": "name", "value": "a"}}
    body = run(
        project,
        "SELECT event FROM events WHERE {filters} OR event = {variables.name} ORDER BY event",
        query_extra={"variables": variables, "filters": {"dateRange": {"date_from": "2020-01-01"}}},
        filters_override={"date_from": "2024-03-15"},
        variables_override={"v1": {"value": "zzz"}},
    ).json()
    assert body["results"] == [["b"]]  # a is before the overridden date_from and no longer named by the variable


@pytest.mark.clickhouse
def test_create_with_kind_in_path(project: Any, other_project: Any) -> None:
    url = f"{query_url(project)}HogQLQuery/"
    payload = {"query": {"kind": "HogQLQuery", "query": "SELECT 1"}}
    ok = project.client().post(url, payload, format="json")
    mismatch = project.client().post(f"{query_url(project)}TrendsQuery/", payload, format="json")
    assert ok.status_code == 200 and ok.json()["results"] == [[1]]
    assert mismatch.status_code == 400
    assert (
        mismatch.json()["detail"]
        == 'Query kind mismatch: path kind "TrendsQuery" does not match body kind "HogQLQuery".'
    )
    assert_auth_matrix(project, other_project, "POST", url, scope="query:read", data=payload)


@pytest.mark.clickhouse
def test_empty_results_still_have_columns_and_types(project: Any, other_project: Any) -> None:
    insert_events(other_project.team.pk, [{"event": "theirs"}])
    sql = "SELECT event, count(), properties.$browser FROM events GROUP BY event, properties.$browser"
    body = run(project, sql).json()
    assert body["results"] == []
    assert body["columns"] == ["event", "count()", "properties.$browser"]
    assert body["types"] == [["event", "String"], ["count()", "UInt64"], ["properties.$browser", "Nullable(String)"]]


@pytest.mark.clickhouse
def test_personal_api_key_requests_are_rate_limited(project: Any, settings: Any) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "query": "2/hour"}
    statuses = [run(project, f"SELECT {i}").status_code for i in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.clickhouse
def test_filters_share_the_insight_filter_language(project: Any) -> None:
    """`{filters}` reads dates in the project's timezone, property groups and test-account filters like the
    insight kinds. New York midnight of 1 March is 05:00Z: the 04:30Z event is still 29 February there."""
    team = project.team
    team.timezone = "America/New_York"
    team.test_account_filters = [{"key": "email", "operator": "not_icontains", "value": "@ourco.com", "type": "person"}]
    team.save()
    insert_person(team.pk, ["staff"], {"email": "ann@ourco.com"})
    insert_person(team.pk, ["customer"], {"email": "bob@example.com"})
    at = lambda hour, minute=0: dt.datetime(2024, 3, 1, hour, minute, tzinfo=dt.UTC)  # noqa: E731
    insert_events(
        team.pk,
        [
            {"event": "early", "timestamp": at(4, 30), "distinct_id": "customer"},
            {"event": "chrome", "timestamp": at(6), "distinct_id": "customer", "properties": {"$browser": "Chrome"}},
            {"event": "unset", "timestamp": at(7), "distinct_id": "customer"},
            {"event": "safari", "timestamp": at(8), "distinct_id": "customer", "properties": {"$browser": "Safari"}},
            {"event": "staff", "timestamp": at(9), "distinct_id": "staff", "properties": {"$browser": "Chrome"}},
        ],
    )
    group = {
        "type": "OR",
        "values": [{"key": "$browser", "value": "Chrome"}, {"key": "$browser", "operator": "is_not_set"}],
    }
    filters: dict[str, Any] = {"dateRange": {"date_from": "2024-03-01"}, "properties": [group]}
    sql = "SELECT event FROM events WHERE {filters} ORDER BY timestamp"
    body = run(project, sql, query_extra={"filters": filters}).json()
    assert [row[0] for row in body["results"]] == ["chrome", "unset", "staff"]
    body = run(project, sql, query_extra={"filters": {**filters, "filterTestAccounts": True}}).json()
    assert [row[0] for row in body["results"]] == ["chrome", "unset"]
    body = run(
        project, sql, query_extra={"filters": {"dateRange": {"date_from": "2024-02-29", "date_to": "2024-03-01"}}}
    )
    assert [row[0] for row in body.json()["results"]] == ["early"]  # date_to is exclusive and not rounded


@pytest.mark.parametrize(
    "filters",
    [
        {"properties": [{"key": "$browser", "operator": "no_such_operator", "value": "x"}]},
        {"properties": [{"type": "OR", "values": [{"key": "a", "operator": "between", "value": [3, 1]}]}]},
        {"dateRange": {"date_from": "-3x"}},
    ],
)
def test_bad_filters_name_the_problem(project: Any, filters: dict) -> None:
    response = run(project, "SELECT count() FROM events WHERE {filters}", query_extra={"filters": filters})
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith(("Invalid property filter in filters", "Invalid date in filters"))


@pytest.mark.clickhouse
def test_changed_project_settings_are_not_served_from_the_cache(project: Any) -> None:
    insert_person(project.team.pk, ["staff"], {"email": "ann@ourco.com"})
    insert_person(project.team.pk, ["customer"], {})
    insert_events(project.team.pk, [{"event": "a", "distinct_id": "staff"}, {"event": "b", "distinct_id": "customer"}])
    sql = "SELECT count() FROM events WHERE {filters}"
    extra = {"filters": {"filterTestAccounts": True}}
    assert run(project, sql, query_extra=extra).json()["results"] == [[2]]
    filters = [{"key": "email", "value": "@ourco.com", "operator": "not_icontains", "type": "person"}]
    patched = project.client().patch(
        f"/api/projects/{project.team.pk}/", {"test_account_filters": filters}, format="json"
    )
    assert patched.status_code == 200
    body = run(project, sql, query_extra=extra).json()
    assert (body["results"], body["is_cached"]) == ([[1]], False)
