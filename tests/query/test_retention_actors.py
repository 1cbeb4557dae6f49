"""The actors of a RetentionQuery cell (reference §9.2) through ActorsQuery + InsightActorsQuery on POST /query/,
over the triangle of test_retention_query (every expected row worked out by hand), the §10 error for a scalar
breakdown, InsightActorsQueryOptions, cache/async like the other kinds, bad input and capture + ingestion."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from posthog import Posthog

from ingestion.worker import flush
from tests.query.conftest import insert_events, insert_person, poll_query, query_url
from tests.query.test_retention_query import CHROME, counts, load_tri, results, tri

UTC = dt.UTC
DAYS = ["day_0", "day_1", "day_2", "day_3", "day_4"]


def actors_node(source: dict[str, Any], **params: Any) -> dict[str, Any]:
    return {
        "kind": "ActorsQuery",
        "select": ["person", "appearances", *DAYS],
        "source": {"kind": "InsightActorsQuery", "source": {"kind": "RetentionQuery", **source}, **params},
    }


def post(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    return project.client().post(query_url(project), {"query": node, **extra}, format="json")


def rows_by_person(project: Any, source: dict[str, Any], people: dict[str, str], **params: Any) -> dict[str, list]:
    response = post(project, actors_node(source, **params))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["columns"] == ["person", "appearances", *DAYS]
    names = {person: k for k, person in people.items()}
    return {names[row[0]["id"]]: row[1:] for row in body["results"]}


@pytest.mark.clickhouse
def test_actors_of_one_row(project: Any, other_project: Any) -> None:
    """Row 1 (2 Mar): a (back on 4 Mar: offset 2) and c (back 3 and 5 Mar: offsets 1, 3)."""
    people = load_tri(project.team.pk)
    load_tri(other_project.team.pk)
    got = rows_by_person(project, tri(), people, interval=1)
    assert got == {
        "a": [[0, 2], True, False, True, False, False],
        "c": [[0, 1, 3], True, True, False, True, False],
    }
    # the cells' booleans add up to the table's row
    assert [sum(row[1 + k] for row in got.values()) for k in range(5)] == counts(results(project, tri()))[1]


@pytest.mark.clickhouse
def test_actors_first_time_cumulative_and_filters(project: Any) -> None:
    people = load_tri(project.team.pk)
    first_time = tri(retentionFilter={"retentionType": "retention_first_time"})
    assert rows_by_person(project, first_time, people, interval=0) == {"b": [[0, 2], True, False, True, False, False]}
    assert rows_by_person(project, first_time, people, interval=2) == {}
    cumulative = tri(retentionFilter={"cumulative": True})  # booleans up to the furthest return
    assert rows_by_person(project, cumulative, people, interval=0) == {
        "a": [[0, 1, 3], True, True, True, True, False],
        "b": [[0, 2], True, True, True, False, False],
    }
    assert set(rows_by_person(project, tri(properties=[CHROME]), people, interval=0)) == {"a"}


@pytest.mark.clickhouse
def test_actors_of_a_breakdown_value(project: Any) -> None:
    people = load_tri(project.team.pk)
    source = tri(breakdownFilter={"breakdown": "$browser", "breakdown_type": "event"})
    assert set(rows_by_person(project, source, people, interval=0, breakdown=["Safari"])) == {"b"}
    assert set(rows_by_person(project, source, people, interval=0, breakdown=["Chrome"])) == {"a"}
    assert set(rows_by_person(project, source, people, interval=3, breakdown=[""])) == {"d"}
    limited = tri(breakdownFilter={"breakdown": "$browser", "breakdown_limit": 1})
    other = "$$_posthog_breakdown_other_$$"
    assert set(rows_by_person(project, limited, people, interval=3, breakdown=[other])) == {"d"}
    assert set(rows_by_person(project, source, people, interval=0)) == {"a", "b"}  # no breakdown: whole row


@pytest.mark.clickhouse
def test_scalar_breakdown_is_the_reference_error(project: Any) -> None:
    load_tri(project.team.pk)
    source = tri(breakdownFilter={"breakdown": "$browser"})
    response = post(project, actors_node(source, interval=0, breakdown="Safari"))
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == (
        "Single breakdowns are not supported, ensure multiple-breakdowns feature flag is enabled"
    )


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"interval": 5}, "interval must be the index of one of the 5 cohort rows"),
        ({}, "interval must be the index"),
        ({"interval": 0, "breakdown": ["Chrome"]}, "has no breakdown"),
    ],
)
def test_bad_actor_parameters(project: Any, params: dict, detail: str) -> None:
    response = post(project, actors_node(tri(), **params))
    assert response.status_code == 400, response.content
    assert detail in response.json()["detail"]


@pytest.mark.clickhouse
def test_actors_options(project: Any) -> None:
    load_tri(project.team.pk)
    source = {
        "kind": "InsightActorsQuery",
        "source": {"kind": "RetentionQuery", **tri(breakdownFilter={"breakdown": "$browser"})},
    }
    response = post(project, {"kind": "InsightActorsQueryOptions", "source": source})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["interval"][:2] == [
        {"label": "Day 0", "value": 0, "date": "2024-03-01T00:00:00Z"},
        {"label": "Day 1", "value": 1, "date": "2024-03-02T00:00:00Z"},
    ]
    assert [o["value"] for o in body["breakdown"]] == ["Chrome", "Safari", ""]
    assert body["breakdown"][2]["label"] == "None (i.e. no value)"


# -- cache, async and bad input of the RetentionQuery itself


def retention(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    return post(project, {"kind": "RetentionQuery", **node}, **extra)


@pytest.mark.clickhouse
def test_results_are_cached_until_refreshed(project: Any) -> None:
    insert_person(project.team.pk, ["a"], {})
    insert_events(project.team.pk, [{"distinct_id": "a", "timestamp": dt.datetime(2024, 3, 1, 9, tzinfo=UTC)}])
    first = retention(project, tri()).json()
    insert_events(project.team.pk, [{"distinct_id": "a", "timestamp": dt.datetime(2024, 3, 2, 9, tzinfo=UTC)}])
    cached = retention(project, tri()).json()
    fresh = retention(project, tri(), refresh="force_blocking").json()
    assert (counts(first["results"])[0], first["is_cached"]) == ([1, 0, 0, 0, 0], False)
    assert (counts(cached["results"])[0], cached["is_cached"], cached["cache_key"]) == (
        [1, 0, 0, 0, 0], True, first["cache_key"],
    )  # fmt: skip
    assert (counts(fresh["results"])[0], fresh["is_cached"]) == ([1, 1, 0, 0, 0], False)
    for key in ("hogql", "timings", "modifiers", "last_refresh", "timezone", "query_status", "resolved_date_range"):
        assert key in fresh, key
    assert fresh["resolved_date_range"]["date_from"] == "2024-03-01T00:00:00+00:00"


@pytest.mark.clickhouse
def test_async_round_trip_and_cache(project: Any, other_project: Any) -> None:
    load_tri(project.team.pk)
    load_tri(other_project.team.pk)
    started = retention(project, tri(), refresh="async", client_query_id="retention-1")
    assert started.status_code == 202, started.content
    done = poll_query(project, "retention-1")
    assert done.status_code == 200, done.content
    final = done.json()["query_status"]
    assert final["complete"] is True and final["error"] is False
    assert counts(final["results"]["results"])[0] == [2, 1, 1, 1, 0]
    again = retention(project, tri(), refresh="lazy_async")
    assert again.status_code == 200 and again.json()["is_cached"] is True


def with_filter(**retention_filter: Any) -> dict[str, Any]:
    return tri(retentionFilter=retention_filter)


@pytest.mark.parametrize(
    ("node", "attr", "detail"),
    [
        ({"dateRange": {}}, "query__retentionFilter", "required"),
        (tri(chart=1), "query__chart", "Extra inputs"),
        (with_filter(period="Year"), "query__retentionFilter__period", '"Year" is not a valid choice'),
        (with_filter(period="day"), "query__retentionFilter__period", '"day" is not a valid choice'),
        (with_filter(totalIntervals=0), "query__retentionFilter__totalIntervals", "greater than or equal to 1"),
        (with_filter(retentionType="retention_daily"), "query__retentionFilter__retentionType", "not a valid choice"),
        (
            with_filter(retentionType="retention_first_ever_occurrence"),
            "query__retentionFilter__retentionType",
            "not supported yet",
        ),
        (with_filter(bins=3), "query__retentionFilter__bins", "Extra inputs"),
        (
            with_filter(targetEntity={"id": 1, "type": "cohorts"}),
            "query__retentionFilter__targetEntity__type",
            "cohorts",
        ),
        (
            with_filter(targetEntity={"id": "x", "type": "actions"}),
            "query__retentionFilter__targetEntity__id",
            "action",
        ),
        (
            with_filter(returningEntity={"id": 3, "type": "events"}),
            "query__retentionFilter__returningEntity__id",
            "event",
        ),
        (with_filter(timeWindowMode="24_hour_windows"), "query__retentionFilter__timeWindowMode", "not supported"),
        (with_filter(aggregationType="sum"), "query__retentionFilter__aggregationType", "count"),
        (with_filter(minimumOccurrences=0), "query__retentionFilter__minimumOccurrences", "greater than or equal"),
        (tri(dateRange={"date_from": "soon"}), "query__date_from", "'soon'"),
        (tri(breakdownFilter={"breakdown": [1], "breakdown_type": "cohort"}), "query__breakdownFilter", "Cohort"),
        (tri(aggregation_group_type_index=7), "query__aggregation_group_type_index", "less than or equal to 4"),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(project: Any, node: dict, attr: str, detail: str) -> None:
    response = retention(project, node)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["attr"] == attr and detail in body["detail"], body


@pytest.mark.clickhouse
def test_display_keys_are_accepted(project: Any) -> None:
    load_tri(project.team.pk)
    display = {
        "display": "ActionsTable", "retentionReference": "total", "meanRetentionCalculation": "simple",
        "selectedInterval": 1, "cohortLabelStartIndex": 0, "showTrendLines": False,
        "dashboardDisplay": "ActionsLineGraph",
        "timeWindowMode": "strict_calendar_dates", "aggregationType": "count", "retentionCustomBrackets": [],
    }  # fmt: skip
    node = tri(retentionFilter=display, samplingFactor=None, tags={}, version=2, dataColorTheme=1, modifiers={})
    assert counts(results(project, node)) == counts(results(project, tri()))


# -- through capture and the ingestion worker


@pytest.mark.clickhouse
def test_retention_counts_what_the_sdk_captured(live_server: Any, project: Any, other_project: Any) -> None:
    """An anonymous id aliased to an identified one is one person: on 1 Mar (anon) and 3 Mar (identified);
    someone else on 2 Mar; the other project's events on 1–3 Mar never count."""

    def at(day: int) -> dt.datetime:
        return dt.datetime(2024, 3, day, 12, tzinfo=UTC)

    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    sdk.capture("$pageview", distinct_id="anon-r", timestamp=at(1))
    sdk.alias(previous_id="anon-r", distinct_id="user-r")
    sdk.capture("$pageview", distinct_id="user-r", timestamp=at(3))
    sdk.capture("$pageview", distinct_id="someone-else", timestamp=at(2))
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    for day in (1, 2, 3):
        theirs.capture("$pageview", distinct_id="anon-r", timestamp=at(day))
    theirs.shutdown()
    flush()

    node = {"dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-03"}, "retentionFilter": {"totalIntervals": 3}}
    assert counts(results(project, node)) == [[1, 0, 1], [1, 0, 0], [1, 0, 0]]
