"""StickinessQuery on POST /query/: TV-9 of the reference (and its cumulative and criteria variants), week
intervals with both week starts, a non-UTC project, compare, intervalCount, property and test-account filters,
the cache/refresh envelope, async runs, isolation and bad input; and the `actors` hook (who is behind one
point) run through `hogql_execute`. Every expected number was worked out by hand from the events listed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from posthog import Posthog

from ingestion.worker import flush
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import to_hogql
from query.kinds import KINDS
from query.runner import hogql_execute
from tests.query.conftest import insert_events, insert_person, poll_query, query_url

UTC = dt.UTC
MAR_1_5 = {"date_from": "2024-03-01", "date_to": "2024-03-05"}
CHROME, SAFARI = {"$browser": "Chrome"}, {"$browser": "Safari"}

# TV-9: u1 on 1, 2, 3 Mar; u2 twice on 2 Mar; u3 on 1 and 5 Mar; u4 on 4 Mar (u3's 5 Mar event is Safari)
TV9 = [
    ("u1", dt.datetime(2024, 3, 1, 10), CHROME),
    ("u1", dt.datetime(2024, 3, 2, 10), CHROME),
    ("u1", dt.datetime(2024, 3, 3, 10), CHROME),
    ("u2", dt.datetime(2024, 3, 2, 9), CHROME),
    ("u2", dt.datetime(2024, 3, 2, 15), CHROME),
    ("u3", dt.datetime(2024, 3, 1, 12), CHROME),
    ("u3", dt.datetime(2024, 3, 5, 20), SAFARI),
    ("u4", dt.datetime(2024, 3, 4, 8), CHROME),
]


def load(team_id: int, rows: list[tuple[str, dt.datetime, dict]] = TV9, event: str = "$pageview") -> dict[str, str]:
    """Insert the events and one person per distinct id; distinct id → person id."""
    insert_events(
        team_id,
        [{"distinct_id": d, "event": event, "timestamp": t.replace(tzinfo=UTC), "properties": p} for d, t, p in rows],
    )
    return {d: insert_person(team_id, [d], {}) for d in sorted({d for d, _, _ in rows})}


def stickiness(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    body = {"query": {"kind": "StickinessQuery", **node}, **extra}
    return project.client().post(query_url(project), body, format="json")


def pageviews(**extra: Any) -> dict[str, Any]:
    return {"kind": "EventsNode", "event": "$pageview", **extra}


def results(project: Any, node: dict[str, Any]) -> list[dict[str, Any]]:
    response = stickiness(project, node)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def tv9(**extra: Any) -> dict[str, Any]:
    return {"series": [pageviews()], "interval": "day", "dateRange": MAR_1_5, **extra}


DAY_LABELS = ["1 day", "2 days", "3 days", "4 days", "5 days"]


@pytest.mark.clickhouse
def test_tv9_item_shape(project: Any, other_project: Any) -> None:
    load(project.team.pk)
    load(other_project.team.pk)  # never counted
    [item] = results(project, tv9())
    assert item["data"] == [2, 1, 1, 0, 0] and item["count"] == 4
    assert item["days"] == [1, 2, 3, 4, 5] and item["labels"] == DAY_LABELS
    assert item["label"] == "$pageview"
    assert item["action"] == {"order": 0, "type": "events", "name": "$pageview", "id": "$pageview", "custom_name": None}
    assert "compare" not in item


TV9_TABLE = [
    pytest.param({}, [2, 1, 1, 0, 0], 4, id="non-cumulative"),
    pytest.param({"computedAs": "cumulative"}, [4, 2, 1, 0, 0], 4, id="cumulative"),
    # only u2's 2 Mar has two events
    pytest.param({"stickinessCriteria": {"operator": "gte", "value": 2}}, [1, 0, 0, 0, 0], 1, id="gte-2"),
    pytest.param({"stickinessCriteria": {"operator": "exact", "value": 2}}, [1, 0, 0, 0, 0], 1, id="exact-2"),
    # every day but u2's 2 Mar: u1 3 days, u3 2, u4 1
    pytest.param({"stickinessCriteria": {"operator": "lte", "value": 1}}, [1, 1, 1, 0, 0], 3, id="lte-1"),
    pytest.param({"stickinessCriteria": {"operator": "gte", "value": 3}}, [0, 0, 0, 0, 0], 0, id="nobody"),
    pytest.param(
        {"computedAs": "cumulative", "stickinessCriteria": {"operator": "lte", "value": 1}},
        [3, 2, 1, 0, 0],
        3,
        id="cumulative-lte-1",
    ),
]


@pytest.mark.clickhouse
@pytest.mark.parametrize(("stickiness_filter", "data", "count"), TV9_TABLE)
def test_tv9_variants(project: Any, stickiness_filter: dict, data: list, count: int) -> None:
    load(project.team.pk)
    [item] = results(project, tv9(stickinessFilter={**stickiness_filter, "showLegend": True}))
    assert item["data"] == data and item["count"] == count
    suffix = " or more" if stickiness_filter.get("computedAs") == "cumulative" else ""
    assert item["labels"] == [label + suffix for label in DAY_LABELS]


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("week_start_day", "data"),
    [
        # weeks from Sunday: 25 Feb–2 Mar holds u1, u2, u3; 3–9 Mar holds u1, u3, u4
        (0, [2, 2, 0]),
        # weeks from Monday: 26 Feb–3 Mar holds u1, u2, u3; 4–10 Mar holds u3, u4
        (1, [3, 1, 0]),
    ],
)
def test_week_interval_follows_the_week_start(project: Any, week_start_day: int, data: list) -> None:
    project.team.week_start_day = week_start_day
    project.team.save()
    # u4 on Sunday 25 Feb / Monday 26 Feb: inside the first week but before date_from, so not read
    load(project.team.pk, [*TV9, ("u4", dt.datetime(2024, 2, 26, 12), CHROME)])
    [item] = results(project, tv9(interval="week", dateRange={"date_from": "2024-03-01", "date_to": "2024-03-14"}))
    assert item["data"] == data and item["count"] == 4
    assert item["days"] == [1, 2, 3] and item["labels"] == ["1 week", "2 weeks", "3 weeks"]


# America/New_York is UTC-5 in early March 2024 (DST starts on 10 Mar)
NEW_YORK = [
    ("a", dt.datetime(2024, 3, 1, 3), {}),  # 29 Feb 22:00 local: before the range
    ("a", dt.datetime(2024, 3, 1, 6), {}),  # 1 Mar 01:00 local
    ("a", dt.datetime(2024, 3, 2, 4), {}),  # 1 Mar 23:00 local: the same day again
    ("b", dt.datetime(2024, 3, 5, 23), {}),  # 5 Mar 18:00 local
    ("b", dt.datetime(2024, 3, 6, 3), {}),  # 5 Mar 22:00 local
    ("c", dt.datetime(2024, 3, 2, 12), {}),  # 2 Mar 07:00 local
    ("c", dt.datetime(2024, 3, 3, 4, 30), {}),  # 2 Mar 23:30 local
    ("c", dt.datetime(2024, 3, 4, 15), {}),  # 4 Mar 10:00 local
    ("d", dt.datetime(2024, 3, 1, 4), {}),  # 29 Feb 23:00 local: before the range
]


@pytest.mark.clickhouse
def test_days_are_the_projects_days(project: Any) -> None:
    load(project.team.pk, NEW_YORK)
    [utc] = results(project, tv9())
    assert utc["data"] == [2, 1, 1, 0, 0] and utc["count"] == 4  # a 2 days, b 1, c 3, d 1
    project.team.timezone = "America/New_York"
    project.team.save()
    body = stickiness(project, tv9()).json()
    [local] = body["results"]
    assert local["data"] == [2, 1, 0, 0, 0] and local["count"] == 3  # a 1 day, b 1, c 2; d none
    assert body["resolved_date_range"]["date_from"] == "2024-03-01T00:00:00-05:00"


@pytest.mark.clickhouse
def test_compare_gives_each_series_current_then_previous(project: Any) -> None:
    previous = [
        ("u1", dt.datetime(2024, 2, 26, 10), {}),
        ("u1", dt.datetime(2024, 2, 28, 10), {}),
        ("u5", dt.datetime(2024, 2, 29, 10), {}),
        ("u5", dt.datetime(2024, 2, 24, 23), {}),  # before the previous period (25–29 Feb)
    ]
    load(project.team.pk, TV9 + previous)
    insert_events(
        project.team.pk, [{"distinct_id": "u1", "event": "signup", "timestamp": dt.datetime(2024, 3, 3, tzinfo=UTC)}]
    )
    node = tv9(series=[pageviews(), {"kind": "EventsNode", "event": "signup"}], compareFilter={"compare": True})
    body = stickiness(project, node).json()
    got = [(i["label"], i["compare_label"], i["data"], i["count"], i["action"]["order"]) for i in body["results"]]
    assert got == [
        ("$pageview", "current", [2, 1, 1, 0, 0], 4, 0),
        ("$pageview", "previous", [1, 1, 0, 0, 0], 2, 0),
        ("signup", "current", [1, 0, 0, 0, 0], 1, 1),
        ("signup", "previous", [0, 0, 0, 0, 0], 0, 1),
    ]
    assert all(i["compare"] is True and i["days"] == [1, 2, 3, 4, 5] for i in body["results"])
    assert body["resolved_compare_date_range"]["date_from"].startswith("2024-02-25T00:00:00")
    assert body["resolved_compare_date_range"]["date_to"].startswith("2024-02-29T23:59:59")


@pytest.mark.clickhouse
def test_interval_count_groups_intervals_back_from_date_to(project: Any) -> None:
    load(project.team.pk)
    # two-day periods back from 5 Mar: {4, 5}, {2, 3}, {1}; u1 {1}{2,3} → 2, u2 → 1, u3 {1}{5} → 2, u4 → 1
    [item] = results(project, tv9(intervalCount=2))
    assert item["data"] == [2, 2, 0] and item["count"] == 4
    assert item["days"] == [1, 2, 3] and item["labels"] == ["1 day", "2 days", "3 days"]
    [one] = results(project, tv9(intervalCount=1))
    assert one["data"] == [2, 1, 1, 0, 0]
    # whole days back from an explicit date_to of 5 Mar 12:00, not calendar days: u2's 2 Mar 09:00 is 3 days
    # back and its 15:00 2 days (2 intervals); u1 4, 3, 2 back; u3 4 back (its 20:00 is past date_to); u4 1
    explicit = {"date_from": "2024-03-01", "date_to": "2024-03-05T12:00:00", "explicitDate": True}
    [aged] = results(project, tv9(intervalCount=1, dateRange=explicit))
    assert aged["data"] == [2, 1, 1, 0, 0] and aged["count"] == 4
    [calendar] = results(project, tv9(dateRange=explicit))
    assert calendar["data"] == [3, 0, 1, 0, 0] and calendar["count"] == 4


@pytest.mark.clickhouse
def test_unique_group_counts_groups(project: Any) -> None:
    """Groups are the actors: org-a is active on 1 and 2 March (through two different people), org-b on 3 March;
    events without a group are skipped."""
    org = lambda key: {"$group_0": key}  # noqa: E731
    load(
        project.team.pk,
        [
            ("u1", dt.datetime(2024, 3, 1, 10), org("org-a")),
            ("u2", dt.datetime(2024, 3, 2, 10), org("org-a")),
            ("u3", dt.datetime(2024, 3, 3, 10), org("org-b")),
            ("u4", dt.datetime(2024, 3, 4, 10), {}),
        ],
    )
    [item] = results(project, tv9(series=[pageviews(math="unique_group", math_group_type_index=0)]))
    assert (item["data"], item["count"]) == ([1, 1, 0, 0, 0], 2)


@pytest.mark.clickhouse
def test_properties_filter(project: Any) -> None:
    load(project.team.pk)
    # without u3's Safari event on 5 Mar: u1 3 days, u2 1, u3 1, u4 1
    [item] = results(project, tv9(properties=[{"key": "$browser", "value": "Chrome", "type": "event"}]))
    assert item["data"] == [3, 0, 1, 0, 0] and item["count"] == 4
    [series] = results(project, tv9(series=[pageviews(properties=[{"key": "$browser", "value": "Safari"}])]))
    assert series["data"] == [1, 0, 0, 0, 0] and series["count"] == 1


@pytest.mark.clickhouse
def test_filter_test_accounts(project: Any) -> None:
    load(project.team.pk)
    insert_person(project.team.pk, ["u4"], {"email": "qa@test.com"}, version=1)
    project.team.test_account_filters = [
        {"key": "email", "type": "person", "operator": "not_icontains", "value": "@test.com"}
    ]
    project.team.save()
    [everyone] = results(project, tv9())
    [real] = results(project, tv9(filterTestAccounts=True))
    assert everyone["data"] == [2, 1, 1, 0, 0] and everyone["count"] == 4
    assert real["data"] == [1, 1, 1, 0, 0] and real["count"] == 3  # u4 (1 day) is a test account


@pytest.mark.clickhouse
def test_another_projects_events_never_count(project: Any, other_project: Any) -> None:
    load(other_project.team.pk)
    [item] = results(project, tv9())
    assert item["data"] == [0, 0, 0, 0, 0] and item["count"] == 0


@pytest.mark.clickhouse
def test_results_are_cached_until_refreshed(project: Any) -> None:
    node = tv9()
    insert_person(project.team.pk, ["u1"], {})
    insert_events(project.team.pk, [{"distinct_id": "u1", "timestamp": dt.datetime(2024, 3, 1, 12, tzinfo=UTC)}])
    first = stickiness(project, node).json()
    insert_events(project.team.pk, [{"distinct_id": "u1", "timestamp": dt.datetime(2024, 3, 2, 12, tzinfo=UTC)}])
    cached = stickiness(project, node).json()
    fresh = stickiness(project, node, refresh="force_blocking").json()
    assert (first["results"][0]["data"], first["is_cached"]) == ([1, 0, 0, 0, 0], False)
    assert (cached["results"][0]["data"], cached["is_cached"], cached["cache_key"]) == (
        [1, 0, 0, 0, 0], True, first["cache_key"],
    )  # fmt: skip
    assert (fresh["results"][0]["data"], fresh["is_cached"]) == ([0, 1, 0, 0, 0], False)
    for key in ("hogql", "timings", "error", "modifiers", "last_refresh", "timezone", "query_status"):
        assert key in fresh, key
    assert fresh["error"] == "" and "count()" in fresh["hogql"]


@pytest.mark.clickhouse
def test_async_round_trip_and_cache(project: Any, other_project: Any) -> None:
    load(project.team.pk)
    load(other_project.team.pk)
    started = stickiness(project, tv9(), refresh="async", client_query_id="stickiness-1")
    assert started.status_code == 202, started.content
    done = poll_query(project, "stickiness-1")
    assert done.status_code == 200, done.content
    final = done.json()["query_status"]
    assert final["complete"] is True and final["error"] is False
    assert final["results"]["results"][0]["data"] == [2, 1, 1, 0, 0]
    again = stickiness(project, tv9(), refresh="lazy_async")
    assert again.status_code == 200 and again.json()["is_cached"] is True
    assert again.json()["results"][0]["data"] == [2, 1, 1, 0, 0]


@pytest.mark.parametrize(
    ("node", "attr", "detail"),
    [
        (tv9(chart=1), "query__chart", "Extra inputs"),
        (tv9(interval="fortnight"), "query__interval", "'fortnight'"),
        (tv9(interval="second"), "query__interval", "second interval is not supported"),
        (tv9(dateRange={"date_from": "soon"}), "query__date_from", "'soon'"),
        (
            tv9(stickinessFilter={"stickinessCriteria": {"operator": "gt", "value": 1}}),
            "query__stickinessFilter__stickinessCriteria__operator",
            '"gt" is not a valid choice',
        ),
        (
            tv9(stickinessFilter={"stickinessCriteria": {"operator": "gte"}}),
            "query__stickinessFilter__stickinessCriteria__value",
            "required",
        ),
        (tv9(stickinessFilter={"computedAs": "running"}), "query__stickinessFilter__computedAs", '"running"'),
        (tv9(stickinessFilter={"stacked": True}), "query__stickinessFilter__stacked", "Extra inputs"),
        (tv9(stickinessFilter={"display": "Pyramid"}), "query__stickinessFilter__display", "Pyramid"),
        (tv9(intervalCount=0), "query__intervalCount", "greater than or equal to 1"),
        (tv9(series=[{"kind": "GroupNode"}]), "query__series__0", "GroupNode"),
        (tv9(series=[pageviews(math="hogql", math_hogql="count()")]), "query__series__0__math", "not supported"),
        (tv9(compareFilter={"compare": True, "compare_to": "lately"}), "query__compare_to", "'lately'"),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(project: Any, node: dict, attr: str, detail: str) -> None:
    response = stickiness(project, node)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["attr"] == attr and detail in body["detail"], body


@pytest.mark.clickhouse
def test_display_keys_are_accepted(project: Any) -> None:
    load(project.team.pk)
    display = {
        "display": "ActionsBar",
        "hiddenLegendIndexes": [1],
        "showLegend": True,
        "showValuesOnSeries": False,
        "showMultipleYAxes": False,
        "resultCustomizationBy": "position",
        "resultCustomizations": {},
    }
    node = tv9(stickinessFilter=display, samplingFactor=None, tags={}, version=2, dataColorTheme=1, modifiers={})
    [item] = results(project, node)
    assert item["data"] == [2, 1, 1, 0, 0]


# -- the actors hook: who was counted in one point


def actor_ids(project: Any, node: dict[str, Any], **params: Any) -> set[str]:
    query = KINDS["StickinessQuery"].request(data={"kind": "StickinessQuery", **node})
    assert query.is_valid(), query.errors
    select = KINDS["StickinessQuery"].actors(project.team, dict(query.validated_data), params, "query")
    result = hogql_execute(team=project.team, query=to_hogql(select), limit_context="query")
    assert result.columns[0] == "actor_id"
    return {str(row[0]) for row in result.results}


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("stickiness_filter", "params", "expected"),
    [
        ({}, {"day": 1}, {"u2", "u4"}),
        ({}, {"day": "2"}, {"u3"}),
        ({}, {"day": 3, "operator": "exact"}, {"u1"}),
        ({}, {"day": 4}, set()),
        ({}, {"day": 2, "operator": "gte"}, {"u1", "u3"}),
        ({}, {"day": 2, "operator": "lte"}, {"u2", "u3", "u4"}),
        ({}, {}, {"u1", "u2", "u3", "u4"}),
        ({"computedAs": "cumulative"}, {"day": 2}, {"u1", "u3"}),
        ({"computedAs": "cumulative"}, {"day": 2, "operator": "exact"}, {"u1", "u3"}),  # cumulative is gte
        ({"stickinessCriteria": {"operator": "gte", "value": 2}}, {"day": 1}, {"u2"}),
    ],
)
def test_tv9_actors(project: Any, other_project: Any, stickiness_filter: dict, params: dict, expected: set) -> None:
    people = load(project.team.pk)
    load(other_project.team.pk)
    names = {person: distinct_id for distinct_id, person in people.items()}
    got = actor_ids(project, tv9(stickinessFilter=stickiness_filter), **params)
    assert {names[p] for p in got} == expected


@pytest.mark.clickhouse
def test_actors_of_another_series_and_the_previous_period(project: Any) -> None:
    people = load(
        project.team.pk, TV9 + [("u5", dt.datetime(2024, 2, 27, 10), {}), ("u5", dt.datetime(2024, 2, 28, 10), {})]
    )
    insert_events(
        project.team.pk, [{"distinct_id": "u4", "event": "signup", "timestamp": dt.datetime(2024, 3, 3, tzinfo=UTC)}]
    )
    names = {person: distinct_id for distinct_id, person in people.items()}
    node = tv9(series=[pageviews(), {"kind": "EventsNode", "event": "signup"}], compareFilter={"compare": True})
    assert {names[p] for p in actor_ids(project, node, day=1, series=1)} == {"u4"}
    assert {names[p] for p in actor_ids(project, node, day=2, compare="previous")} == {"u5"}
    assert {names[p] for p in actor_ids(project, node, day=2, compare="current")} == {"u3"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"day": 0}, "day must be"),
        ({"day": "two"}, "day must be"),
        ({"day": 1, "operator": "gt"}, "operator must be one of gte, lte, exact"),
        ({"day": 1, "series": 3}, "series must be the index of one of the 1 series"),
        ({"day": 1, "compare": "before"}, "compare must be current or previous"),
    ],
)
def test_bad_actor_parameters_raise_query_errors(project: Any, params: dict, message: str) -> None:
    query = {"kind": "StickinessQuery", "series": [pageviews()], "dateRange": MAR_1_5}
    with pytest.raises(HogQLQueryError, match=message):
        KINDS["StickinessQuery"].actors(project.team, query, params, "query")


# -- through capture and the ingestion worker


@pytest.mark.clickhouse
def test_stickiness_counts_what_the_sdk_captured(live_server: Any, project: Any, other_project: Any) -> None:
    """Events sent by posthog-python through capture and the ingestion worker: an anonymous id aliased to an
    identified one is one person, active on 1, 3 and 4 Mar across both ids; someone else on 2 Mar only."""

    def at(day: int) -> dt.datetime:
        return dt.datetime(2024, 3, day, 12, tzinfo=UTC)

    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    sdk.capture("$pageview", distinct_id="anon-s", timestamp=at(1))
    sdk.capture("$pageview", distinct_id="anon-s", timestamp=at(3))
    sdk.alias(previous_id="anon-s", distinct_id="user-s")
    sdk.capture("$pageview", distinct_id="user-s", timestamp=at(3))
    sdk.capture("$pageview", distinct_id="user-s", timestamp=at(4))
    sdk.capture("$pageview", distinct_id="someone-else", timestamp=at(2))
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    for day in (1, 2, 5):
        theirs.capture("$pageview", distinct_id="anon-s", timestamp=at(day))
    theirs.shutdown()
    flush()

    [item] = results(project, tv9())
    assert item["data"] == [1, 0, 1, 0, 0] and item["count"] == 2
