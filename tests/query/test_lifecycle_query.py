"""LifecycleQuery on POST /query/: TV-8 of the reference (PostHog's test_lifecycle_trend) and datasets worked out by
hand (week and hour intervals, a non-UTC project across a DST change, filters, test accounts), the item shape, the
`actors` hook (who is behind one status on one day), the endpoint's cache/refresh/async envelope, isolation, events
through capture and ingestion, and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from posthog import Posthog

from ingestion.worker import flush
from query.hogql.parser import to_hogql
from query.kinds import KINDS
from query.runner import hogql_execute
from tests.query.conftest import insert_events, insert_person, poll_query, query_url

UTC = dt.UTC
PAGEVIEW = {"kind": "EventsNode", "event": "$pageview"}
TV8_RANGE = {"date_from": "2020-01-12T00:00:00Z", "date_to": "2020-01-19T00:00:00Z"}
TV8_DAYS = [f"2020-01-{d}" for d in range(12, 20)]
# TV-8: each person's pageview days in January 2020 (all at 12:00Z); persons are created at their first event
TV8 = {"p1": [11, 12, 13, 15, 17, 19], "p2": [9, 12], "p3": [12], "p4": [15]}
TV8_EXPECTED = {
    "new": [1, 0, 0, 1, 0, 0, 0, 0],
    "returning": [1, 1, 0, 0, 0, 0, 0, 0],
    "resurrecting": [1, 0, 0, 1, 0, 1, 0, 1],
    "dormant": [0, -2, -1, 0, -2, 0, -1, 0],
}


def load_persons(team_id: int, activity: dict[str, list[dt.datetime]], **created: dt.datetime) -> dict[str, str]:
    """Events at the given moments, one person per distinct id created at its first event (or `created[id]`);
    distinct id → person id."""
    insert_events(team_id, [{"distinct_id": d, "timestamp": t} for d, moments in activity.items() for t in moments])
    return {
        d: insert_person(team_id, [d], {}, created_at=created.get(d, min(moments))) for d, moments in activity.items()
    }


def load_tv8(team_id: int) -> dict[str, str]:
    activity = {d: [dt.datetime(2020, 1, day, 12, tzinfo=UTC) for day in days] for d, days in TV8.items()}
    return load_persons(team_id, activity)


def lifecycle(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    body = {"query": {"kind": "LifecycleQuery", "series": [PAGEVIEW], **node}, **extra}
    return project.client().post(query_url(project), body, format="json")


def by_status(project: Any, node: dict[str, Any]) -> dict[str, list[float]]:
    response = lifecycle(project, node)
    assert response.status_code == 200, response.content
    items = response.json()["results"]
    assert [item["status"] for item in items] == ["new", "returning", "resurrecting", "dormant"]
    return {item["status"]: item["data"] for item in items}


@pytest.mark.clickhouse
def test_tv8_lifecycle_trend(project: Any) -> None:
    load_tv8(project.team.pk)
    response = lifecycle(project, {"interval": "day", "dateRange": TV8_RANGE})
    assert response.status_code == 200, response.content
    items = response.json()["results"]
    assert {item["status"]: item["data"] for item in items} == TV8_EXPECTED
    assert [item["status"] for item in items] == ["new", "returning", "resurrecting", "dormant"]
    new = items[0]
    assert new["label"] == "$pageview - new" and items[3]["label"] == "$pageview - dormant"
    assert new["days"] == TV8_DAYS
    assert new["labels"] == [f"{d}-Jan-2020" for d in range(12, 20)]
    assert new["count"] == 2.0 and items[3]["count"] == -6.0
    assert all(isinstance(value, float) for value in new["data"])
    action = new["action"]
    assert (action["id"], action["name"], action["type"], action["order"], action["math"]) == (
        "$pageview", "$pageview", "events", 0, "total",
    )  # fmt: skip


def at(day: str, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


# Week interval (weeks start Sunday unless the project says Monday), 7..27 Jan 2024; lookback from 31 Dec 2023.
WEEKS = {
    "a": [at("2024-01-02"), at("2024-01-08"), at("2024-01-16")],
    "b": [at("2024-01-09"), at("2024-01-10"), at("2024-01-25")],
    "c": [at("2024-01-13"), at("2024-01-14")],  # Saturday and Sunday; created a month earlier
    "d": [at("2024-01-05")],
}
WEEKS_CREATED = {"c": at("2023-12-01")}
WEEKS_RANGE = {"date_from": "2024-01-07", "date_to": "2024-01-27"}


@pytest.mark.clickhouse
def test_week_interval_starting_sunday(project: Any) -> None:
    load_persons(project.team.pk, WEEKS, **WEEKS_CREATED)
    response = lifecycle(project, {"interval": "week", "dateRange": WEEKS_RANGE})
    items = response.json()["results"]
    # weeks 7, 14, 21 Jan. a: new 31 Dec (lookback), returning 7 and 14, dormant 21; b: new 7, dormant 14,
    # resurrecting 21; c: resurrecting 7 (first read, created earlier), returning 14, dormant 21; d: new 31 Dec,
    # dormant 7
    assert {item["status"]: item["data"] for item in items} == {
        "new": [1, 0, 0],
        "returning": [1, 2, 0],
        "resurrecting": [1, 0, 1],
        "dormant": [-1, -1, -2],
    }
    assert items[0]["days"] == ["2024-01-07", "2024-01-14", "2024-01-21"]
    assert items[0]["labels"] == ["7-Jan-2024", "14-Jan-2024", "21-Jan-2024"]


@pytest.mark.clickhouse
def test_week_interval_starting_monday(project: Any) -> None:
    project.team.week_start_day = 1
    project.team.save()
    load_persons(project.team.pk, WEEKS, **WEEKS_CREATED)
    # weeks 1, 8, 15, 22 Jan (the first holds date_from); lookback from 25 Dec. a: new 1, returning 8 and 15,
    # dormant 22; b: new 8, dormant 15, resurrecting 22; c: resurrecting 8 (Sat and Sun one week), dormant 15;
    # d: new 1, dormant 8
    assert by_status(project, {"interval": "week", "dateRange": WEEKS_RANGE}) == {
        "new": [2, 1, 0, 0],
        "returning": [0, 1, 1, 0],
        "resurrecting": [0, 1, 0, 1],
        "dormant": [0, -1, -2, -1],
    }


HOURS = {
    "h1": [at("2024-03-01", 9, 10), at("2024-03-01", 10, 20), at("2024-03-01", 12, 5)],
    "h2": [at("2024-03-01", 11, 0), at("2024-03-01", 11, 59), at("2024-03-01", 12, 0)],
    "h3": [at("2024-03-01", 13, 15), at("2024-03-01", 13, 45)],
    "h4": [at("2024-03-01", 8, 30), at("2024-03-01", 10, 30)],  # 08:30 is before the one-hour lookback
}
HOURS_CREATED = {"h2": at("2024-02-01"), "h4": at("2024-03-01", 8, 0)}
HOURS_RANGE = {"date_from": "2024-03-01T10:00:00", "date_to": "2024-03-01T13:59:59"}


@pytest.mark.clickhouse
def test_hour_interval(project: Any) -> None:
    load_persons(project.team.pk, HOURS, **HOURS_CREATED)
    response = lifecycle(project, {"interval": "hour", "dateRange": HOURS_RANGE})
    items = response.json()["results"]
    # 10:00..13:00. h1: new 09 (lookback), returning 10, dormant 11, resurrecting 12, dormant 13; h2: resurrecting
    # 11, returning 12, dormant 13; h3: new 13; h4: 10 is its first hour read and not its creation hour →
    # resurrecting, dormant 11
    assert {item["status"]: item["data"] for item in items} == {
        "new": [0, 0, 0, 1],
        "returning": [1, 0, 1, 0],
        "resurrecting": [1, 1, 1, 0],
        "dormant": [0, -2, 0, -2],
    }
    assert items[0]["days"] == [f"2024-03-01 {h}:00:00" for h in (10, 11, 12, 13)]
    assert items[0]["labels"] == [f"1-Mar-2024 {h}:00" for h in (10, 11, 12, 13)]


# America/New_York, across the start of daylight saving time (10 Mar 2024 is 23 hours long)
NEW_YORK = {
    "n1": [
        dt.datetime(2024, 3, 9, 4, 30, tzinfo=UTC),
        dt.datetime(2024, 3, 9, 6, 0, tzinfo=UTC),
    ],  # 8 Mar 23:30, 9 Mar 01:00
    "n2": [
        dt.datetime(2024, 3, 10, 4, 30, tzinfo=UTC),  # 9 Mar 23:30 EST
        dt.datetime(2024, 3, 11, 3, 30, tzinfo=UTC),  # 10 Mar 23:30 EDT
        dt.datetime(2024, 3, 12, 3, 0, tzinfo=UTC),  # 11 Mar 23:00 EDT
    ],
    "n3": [dt.datetime(2024, 3, 10, 6, 0, tzinfo=UTC)],  # 10 Mar 01:00 EST
}


@pytest.mark.clickhouse
def test_days_in_the_project_timezone_across_dst(project: Any) -> None:
    project.team.timezone = "America/New_York"
    project.team.save()
    load_persons(project.team.pk, NEW_YORK, n2=at("2024-01-01"))
    # local days 9, 10, 11 Mar. n1: new 8 Mar (lookback), returning 9, dormant 10; n2: resurrecting 9, returning
    # 10 and 11 (the 23-hour day still follows the 9th); n3: new 10, dormant 11
    response = lifecycle(project, {"dateRange": {"date_from": "2024-03-09", "date_to": "2024-03-11"}})
    items = response.json()["results"]
    assert {item["status"]: item["data"] for item in items} == {
        "new": [0, 1, 0],
        "returning": [1, 1, 1],
        "resurrecting": [1, 0, 0],
        "dormant": [0, -1, -1],
    }
    assert items[0]["days"] == ["2024-03-09", "2024-03-10", "2024-03-11"]
    assert response.json()["resolved_date_range"]["date_from"] == "2024-03-09T00:00:00-05:00"


def load_tv8_with_browsers(team_id: int) -> dict[str, str]:
    """TV-8's events as Chrome pageviews, plus Firefox pageviews of p2 and p3 on 13 Jan; p2 and p3 are test
    accounts (yourco.com), p1 and p4 are on the pro plan."""
    activity = {d: [dt.datetime(2020, 1, day, 12, tzinfo=UTC) for day in days] for d, days in TV8.items()}
    insert_events(
        team_id,
        [
            {"distinct_id": d, "timestamp": t, "properties": {"$browser": "Chrome"}}
            for d, ts in activity.items()
            for t in ts
        ]
        + [
            {"distinct_id": d, "timestamp": at("2020-01-13"), "properties": {"$browser": "Firefox"}}
            for d in ("p2", "p3")
        ],
    )
    props = {
        "p1": {"plan": "pro", "email": "one@example.com"},
        "p2": {"plan": "free", "email": "two@yourco.com"},
        "p3": {"email": "three@YourCo.com"},
        "p4": {"plan": "pro"},
    }
    return {d: insert_person(team_id, [d], props[d], created_at=min(ts)) for d, ts in activity.items()}


# p1 and p4 alone: p1 returning 12, 13, dormant 14, resurrecting 15, 17, 19 and dormant 16, 18; p4 new 15, dormant 16
P1_P4 = {
    "new": [0, 0, 0, 1, 0, 0, 0, 0],
    "returning": [1, 1, 0, 0, 0, 0, 0, 0],
    "resurrecting": [0, 0, 0, 1, 0, 1, 0, 1],
    "dormant": [0, 0, -1, 0, -2, 0, -1, 0],
}


@pytest.mark.clickhouse
def test_event_and_person_property_filters(project: Any) -> None:
    load_tv8_with_browsers(project.team.pk)
    chrome = [{"type": "event", "key": "$browser", "value": "Chrome"}]
    assert by_status(project, {"dateRange": TV8_RANGE, "properties": chrome}) == TV8_EXPECTED
    as_series = {"dateRange": TV8_RANGE, "series": [{**PAGEVIEW, "properties": chrome}]}
    assert by_status(project, as_series) == TV8_EXPECTED
    # unfiltered, p2 and p3 are active on 13 Jan too: returning there, dormant on 14 Jan instead of 13 Jan
    everything = by_status(project, {"dateRange": TV8_RANGE})
    assert everything["returning"][:3] == [1, 3, 0] and everything["dormant"][:3] == [0, 0, -3]
    pro = [{"type": "person", "key": "plan", "value": "pro"}]
    assert by_status(project, {"dateRange": TV8_RANGE, "properties": pro}) == P1_P4


@pytest.mark.clickhouse
def test_filter_test_accounts(project: Any) -> None:
    project.team.test_account_filters = [
        {"type": "person", "key": "email", "operator": "not_icontains", "value": "@yourco.com"},
        {"type": "event", "key": "$browser", "value": "Chrome"},
    ]
    project.team.save()
    load_tv8_with_browsers(project.team.pk)
    assert by_status(project, {"dateRange": TV8_RANGE, "filterTestAccounts": True}) == P1_P4
    assert by_status(project, {"dateRange": TV8_RANGE, "filterTestAccounts": False})["returning"][1] == 3


@pytest.mark.clickhouse
def test_all_events_and_display_keys(project: Any) -> None:
    load_tv8(project.team.pk)
    insert_events(project.team.pk, [{"distinct_id": "p3", "event": "signup", "timestamp": at("2020-01-13")}])
    node = {
        "series": [{"kind": "EventsNode", "event": None}],
        "dateRange": TV8_RANGE,
        "lifecycleFilter": {"toggledLifecycles": ["new", "dormant"], "showLegend": True, "stacked": False},
        "samplingFactor": None,
        "aggregation_group_type_index": None,
        "filterTestAccounts": False,
        "tags": {"productKey": "product_analytics"},
        "dataColorTheme": 1,
        "version": 2,
    }
    response = lifecycle(project, node)
    assert response.status_code == 200, response.content
    items = response.json()["results"]
    assert [item["label"] for item in items] == [
        f"All events - {s}" for s in ("new", "returning", "resurrecting", "dormant")
    ]
    assert items[0]["action"]["id"] is None and items[0]["action"]["name"] == "All events"
    # p3's signup on 13 Jan: returning there, dormant on 14 Jan (not 13 Jan)
    assert items[1]["data"][:3] == [1, 2, 0] and items[3]["data"][:3] == [0, -1, -2]


def actors(project: Any, node: dict[str, Any], **params: Any) -> set[str]:
    """The `actors` hook's persons for one data point, run as HogQL (what ActorsQuery's `source` will join)."""
    query = {"kind": "LifecycleQuery", "series": [PAGEVIEW], **node}
    serializer = KINDS["LifecycleQuery"].request(data=query)
    assert serializer.is_valid(), serializer.errors
    select = KINDS["LifecycleQuery"].actors(project.team, dict(serializer.validated_data), params, "query")
    result = hogql_execute(team=project.team, query=to_hogql(select), limit_context="query")
    assert result.columns[0] == "actor_id"
    return {row[0] for row in result.results}


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("day", "status", "expected"),
    [
        ("2020-01-12", "new", {"p3"}),
        ("2020-01-12", "returning", {"p1"}),
        ("2020-01-12", "resurrecting", {"p2"}),  # created 9 Jan, outside the one-day lookback
        ("2020-01-12", "dormant", set()),
        ("2020-01-13", "dormant", {"p2", "p3"}),
        ("2020-01-13", "returning", {"p1"}),
        ("2020-01-15", "new", {"p4"}),
        ("2020-01-15", "resurrecting", {"p1"}),
        ("2020-01-16", "dormant", {"p1", "p4"}),
        ("2020-01-19T00:00:00Z", "resurrecting", {"p1"}),
    ],
)
def test_tv8_actors(project: Any, other_project: Any, day: str, status: str, expected: set[str]) -> None:
    persons = load_tv8(project.team.pk)
    load_tv8(other_project.team.pk)  # never listed
    names = {person_id: name for name, person_id in persons.items()}
    got = actors(project, {"dateRange": TV8_RANGE}, day=day, status=status)
    assert {names[person_id] for person_id in got} == expected


@pytest.mark.clickhouse
def test_actors_for_week_hour_and_timezone_buckets(project: Any) -> None:
    weeks = load_persons(project.team.pk, WEEKS, **WEEKS_CREATED)
    week = {"interval": "week", "dateRange": WEEKS_RANGE}
    assert actors(project, week, day="2024-01-14", status="returning") == {weeks["a"], weeks["c"]}
    assert actors(project, week, day="2024-01-21", status="dormant") == {weeks["a"], weeks["c"]}
    hours = load_persons(project.team.pk, HOURS, **HOURS_CREATED)
    hour = {"interval": "hour", "dateRange": HOURS_RANGE}
    assert actors(project, hour, day="2024-03-01 11:00:00", status="dormant") == {hours["h1"], hours["h4"]}
    assert actors(project, hour, day="2024-03-01 10:00:00", status="resurrecting") == {hours["h4"]}


@pytest.mark.clickhouse
def test_actors_in_the_project_timezone(project: Any) -> None:
    project.team.timezone = "America/New_York"
    project.team.save()
    persons = load_persons(project.team.pk, NEW_YORK, n2=at("2024-01-01"))
    node = {"dateRange": {"date_from": "2024-03-09", "date_to": "2024-03-11"}}
    assert actors(project, node, day="2024-03-11", status="returning") == {persons["n2"]}
    assert actors(project, node, day="2024-03-10", status="dormant") == {persons["n1"]}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"day": "2020-01-12", "status": "lost"}, "status must be one of new, returning, resurrecting, dormant"),
        ({"day": "2020-01-12"}, "status must be one of"),
        ({"day": "2020-02-01", "status": "new"}, "day '2020-02-01' is not a bucket of this lifecycle"),
        ({"day": "soon", "status": "new"}, "day 'soon' is not a bucket"),
        ({"status": "new"}, "day 'None' is not a bucket"),
    ],
)
def test_actors_bad_parameters(project: Any, params: dict, message: str) -> None:
    from query.hogql.errors import HogQLQueryError

    query = {"kind": "LifecycleQuery", "series": [PAGEVIEW], "dateRange": TV8_RANGE}
    with pytest.raises(HogQLQueryError, match=message):
        KINDS["LifecycleQuery"].actors(project.team, query, params, "query")


@pytest.mark.clickhouse
def test_results_are_cached_until_refreshed(project: Any) -> None:
    node = {"dateRange": TV8_RANGE}
    load_persons(project.team.pk, {"p1": [at("2020-01-12")]})
    first = lifecycle(project, node).json()
    load_persons(project.team.pk, {"p2": [at("2020-01-14")]})
    cached = lifecycle(project, node).json()
    fresh = lifecycle(project, node, refresh="force_blocking").json()
    assert (first["results"][0]["data"][:3], first["is_cached"]) == ([1, 0, 0], False)
    assert (cached["results"][0]["data"][:3], cached["is_cached"], cached["cache_key"]) == (
        [1, 0, 0], True, first["cache_key"],
    )  # fmt: skip
    assert (fresh["results"][0]["data"][:3], fresh["is_cached"]) == ([1, 0, 1], False)
    for key in ("hogql", "timings", "modifiers", "last_refresh", "next_allowed_client_refresh", "timezone"):
        assert key in fresh, key
    assert fresh["query_status"] is None and fresh["timezone"] == "UTC"
    assert fresh["resolved_date_range"] == {
        "date_from": "2020-01-12T00:00:00+00:00",
        "date_to": "2020-01-19T23:59:59.999999+00:00",
    }
    assert "groupUniqArray" in fresh["hogql"]


@pytest.mark.clickhouse
def test_filters_override_replaces_dates_and_ands_properties(project: Any) -> None:
    load_tv8_with_browsers(project.team.pk)
    override = {**TV8_RANGE, "properties": [{"type": "event", "key": "$browser", "value": "Chrome"}]}
    response = lifecycle(project, {"dateRange": {"date_from": "-7d"}}, filters_override=override)
    assert response.status_code == 200, response.content
    assert {item["status"]: item["data"] for item in response.json()["results"]} == TV8_EXPECTED


@pytest.mark.clickhouse
def test_async_round_trip_and_cache(project: Any) -> None:
    load_tv8(project.team.pk)
    node = {"dateRange": TV8_RANGE}
    started = lifecycle(project, node, refresh="async", client_query_id="lifecycle-1")
    assert started.status_code == 202, started.content
    done = poll_query(project, "lifecycle-1")
    assert done.status_code == 200, done.content
    final = done.json()["query_status"]
    assert final["complete"] is True and final["error"] is False
    assert {item["status"]: item["data"] for item in final["results"]["results"]} == TV8_EXPECTED
    again = lifecycle(project, node, refresh="lazy_async")
    assert again.status_code == 200 and again.json()["is_cached"] is True
    assert again.json()["results"][3]["data"] == TV8_EXPECTED["dormant"]


@pytest.mark.clickhouse
def test_another_projects_persons_and_events_never_count(project: Any, other_project: Any) -> None:
    load_tv8(other_project.team.pk)
    # the same distinct ids in this project, created long ago and active only on 12 Jan: all resurrecting
    load_persons(project.team.pk, {d: [at("2020-01-12")] for d in TV8}, **dict.fromkeys(TV8, at("2019-06-01")))
    got = by_status(project, {"dateRange": TV8_RANGE})
    assert got == {
        "new": [0] * 8,
        "returning": [0] * 8,
        "resurrecting": [4, 0, 0, 0, 0, 0, 0, 0],
        "dormant": [0, -4, 0, 0, 0, 0, 0, 0],
    }


@pytest.mark.parametrize(
    ("node", "attr", "detail"),
    [
        ({"series": [PAGEVIEW, PAGEVIEW]}, "query__series", "Lifecycle takes exactly one series, not 2"),
        ({"series": []}, "query__series", "Lifecycle takes exactly one series, not 0"),
        ({"series": [{"kind": "ActionsNode"}]}, "query__series__0__id", "required"),
        ({"series": [{"kind": "DataWarehouseNode"}]}, "query__series__0", "'DataWarehouseNode' is not supported"),
        ({"chart": 1}, "query__chart", "Extra inputs"),
        ({"lifecycleFilter": {"display": "ActionsBar"}}, "query__lifecycleFilter__display", "Extra inputs"),
        ({"lifecycleFilter": {"toggledLifecycles": ["lost"]}}, "query__lifecycleFilter__toggledLifecycles__0", "lost"),
        ({"interval": "fortnight"}, "query__interval", "Value 'fortnight' is not an instance of IntervalType"),
        ({"interval": "second"}, "query__interval", "second interval is not supported"),
        ({"dateRange": {"date_from": "soon"}}, "query__date_from", "'soon'"),
        ({"aggregation_group_type_index": 0}, "query__aggregation_group_type_index", "by groups is not supported"),
        (
            {"properties": [{"type": "event", "key": "$browser", "operator": "between", "value": 3}]},
            "query__properties__0__value",
            "between operator requires a two-element array [min, max]",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(project: Any, node: dict, attr: str, detail: str) -> None:
    response = lifecycle(project, node)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error" and body["attr"] == attr and detail in body["detail"], body


@pytest.mark.clickhouse
def test_lifecycle_of_what_the_sdk_captured(live_server: Any, project: Any, other_project: Any) -> None:
    """Pageviews through capture and the ingestion worker, which creates each person at its first event's
    timestamp and merges an alias into it: the default range (8 days to today) sees a new person who returns and
    goes dormant, and a person created before the read window who resurrects."""

    today = dt.datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    days_ago = {k: today - dt.timedelta(days=k) for k in (1, 2, 3, 10)}
    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    sdk.capture("$pageview", distinct_id="anon-a", timestamp=days_ago[3])
    sdk.alias(previous_id="anon-a", distinct_id="user-a")
    sdk.capture("$pageview", distinct_id="user-a", timestamp=days_ago[2])
    sdk.capture("$pageview", distinct_id="anon-b", timestamp=days_ago[10])
    sdk.capture("$pageview", distinct_id="anon-b", timestamp=days_ago[1])
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    theirs.capture("$pageview", distinct_id="anon-a", timestamp=days_ago[1])
    theirs.shutdown()
    flush()

    # buckets today-7 .. today: a new (index 4), returning (5), dormant (6); b resurrecting (6), dormant (7)
    got = by_status(project, {})
    assert got == {
        "new": [0, 0, 0, 0, 1, 0, 0, 0],
        "returning": [0, 0, 0, 0, 0, 1, 0, 0],
        "resurrecting": [0, 0, 0, 0, 0, 0, 1, 0],
        "dormant": [0, 0, 0, 0, 0, 0, -1, -1],
    }
    [person_id] = actors(project, {}, day=days_ago[3].strftime("%Y-%m-%d"), status="new")
    ids = hogql_execute(
        team=project.team, query=f"SELECT distinct_id FROM person_distinct_ids WHERE person_id = '{person_id}'"
    )
    assert sorted(row[0] for row in ids.results) == ["anon-a", "user-a"]
