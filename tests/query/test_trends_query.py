"""TrendsQuery on POST /query/: tables over a fixed dataset (TV-1, TV-1b, TV-2, TV-3 of the reference, the
expected numbers worked out by hand), the response item's shape, total-value displays, compareFilter,
breakdowns, the endpoint's cache/refresh envelope, isolation and bad input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.query.conftest import insert_events, insert_person, poll_query, query_url

UTC = dt.UTC
JAN_7_9 = {"date_from": "2024-01-07", "date_to": "2024-01-09"}

# TV-1's events, with TV-2's $browser, an `amount` and session ids: (distinct_id, timestamp, properties)
DATASET = [
    ("u1", dt.datetime(2024, 1, 7, 9, 0), {"$browser": "Chrome", "amount": 10, "$session_id": "s1"}),
    ("u1", dt.datetime(2024, 1, 7, 15, 0), {"$browser": "Chrome", "amount": 20, "$session_id": "s1"}),
    ("u1", dt.datetime(2024, 1, 9, 10, 0), {"$browser": "Safari", "amount": 5, "$session_id": "s2"}),
    ("u2", dt.datetime(2024, 1, 7, 23, 59, 59), {"$browser": "Chrome", "amount": 30, "$session_id": "s3"}),
    ("u2", dt.datetime(2024, 1, 8, 0, 0, 0), {"$session_id": "s3"}),
    ("u3", dt.datetime(2024, 1, 9, 23, 30), {"$browser": "Firefox", "$session_id": "s4"}),
    ("u3", dt.datetime(2024, 1, 10, 0, 30), {}),
    ("u4", dt.datetime(2024, 1, 6, 23, 59), {"$browser": "Chrome"}),
]


def load(team_id: int, event: str = "$pageview") -> None:
    insert_events(
        team_id,
        [
            {"distinct_id": d, "event": event, "timestamp": t.replace(tzinfo=UTC), "properties": p}
            for d, t, p in DATASET
        ],
    )
    for distinct_id in ("u1", "u2", "u3", "u4"):
        insert_person(team_id, [distinct_id], {})


def trends(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    body = {"query": {"kind": "TrendsQuery", **node}, **extra}
    return project.client().post(query_url(project), body, format="json")


def pageviews(math: str = "total", **extra: Any) -> dict[str, Any]:
    return {"kind": "EventsNode", "event": "$pageview", "math": math, **extra}


def results(project: Any, node: dict[str, Any]) -> list[dict[str, Any]]:
    response = trends(project, node)
    assert response.status_code == 200, response.content
    return response.json()["results"]


TABLE = [
    pytest.param(pageviews(), "day", JAN_7_9, [3, 1, 2], id="total"),
    pytest.param(pageviews("dau"), "day", JAN_7_9, [2, 1, 2], id="dau"),
    pytest.param(pageviews("unique_session"), "day", JAN_7_9, [2, 1, 2], id="unique-session"),
    pytest.param(pageviews("sum", math_property="amount"), "day", JAN_7_9, [60, 0, 5], id="sum"),
    pytest.param(pageviews("avg", math_property="amount"), "day", JAN_7_9, [20, 0, 5], id="avg"),
    pytest.param(pageviews("min", math_property="amount"), "day", JAN_7_9, [10, 0, 5], id="min"),
    pytest.param(pageviews("max", math_property="amount"), "day", JAN_7_9, [30, 0, 5], id="max"),
    pytest.param(pageviews("median", math_property="amount"), "day", JAN_7_9, [20, 0, 5], id="median"),
    pytest.param(
        pageviews(properties=[{"key": "$browser", "value": "Chrome"}]), "day", JAN_7_9, [3, 0, 0], id="properties"
    ),
    pytest.param({"kind": "EventsNode", "event": None}, "day", JAN_7_9, [3, 1, 2], id="all-events"),
    pytest.param(pageviews(), "week", JAN_7_9, [6], id="week"),
    pytest.param(pageviews(), "month", {"date_from": "2024-01-01", "date_to": "2024-01-31"}, [8], id="month"),
]


@pytest.mark.clickhouse
@pytest.mark.parametrize(("series", "interval", "date_range", "expected"), TABLE)
def test_trends_table(project: Any, other_project: Any, series: dict, interval: str, date_range: dict, expected: list):
    load(project.team.pk)
    load(other_project.team.pk)  # never counted
    insert_events(project.team.pk, [{"distinct_id": "u1", "event": "signup", "timestamp": dt.datetime(2024, 1, 8)}])
    [item] = results(project, {"series": [series], "interval": interval, "dateRange": date_range})
    if series.get("event") is None:
        expected = [3, 2, 2]  # the signup on 8 Jan counts too
    assert item["data"] == pytest.approx(expected)
    assert item["count"] == pytest.approx(sum(expected))


@pytest.mark.clickhouse
def test_tv1_item_shape(project: Any) -> None:
    load(project.team.pk)
    total, dau = results(project, {"series": [pageviews(), pageviews("dau")], "interval": "day", "dateRange": JAN_7_9})
    assert total["data"] == [3, 1, 2] and total["count"] == 6.0 and dau["data"] == [2, 1, 2] and dau["count"] == 5.0
    assert total["days"] == ["2024-01-07", "2024-01-08", "2024-01-09"]
    assert total["labels"] == ["7-Jan-2024", "8-Jan-2024", "9-Jan-2024"]
    assert total["label"] == "$pageview"
    action = total["action"]
    assert (action["id"], action["type"], action["order"], action["name"], action["math"]) == (
        "$pageview", "events", 0, "$pageview", "total",
    )  # fmt: skip
    assert action["days"][0].startswith("2024-01-07T00:00:00")
    assert (dau["action"]["order"], dau["action"]["math"]) == (1, "dau")
    assert total["filter"]["insight"] == "TRENDS" and total["filter"]["interval"] == "day"
    assert "breakdown_value" not in total and "compare" not in total


@pytest.mark.clickhouse
def test_hour_interval_has_every_bucket(project: Any) -> None:
    load(project.team.pk)
    [item] = results(
        project,
        {
            "series": [pageviews()],
            "interval": "hour",
            "dateRange": {"date_from": "2024-01-08", "date_to": "2024-01-08T23:59:59"},
        },
    )
    assert len(item["data"]) == 24 and item["data"][0] == 1 and sum(item["data"]) == 1
    assert item["days"][0] == "2024-01-08 00:00:00" and item["labels"][0] == "8-Jan 00:00"


@pytest.mark.clickhouse
def test_tv1b_buckets_in_the_project_timezone(project: Any) -> None:
    project.team.timezone = "America/New_York"
    project.team.save()
    load(project.team.pk)
    total, dau = results(project, {"series": [pageviews(), pageviews("dau")], "interval": "day", "dateRange": JAN_7_9})
    assert total["data"] == [4, 0, 3] and dau["data"] == [2, 0, 2]
    assert total["days"] == ["2024-01-07", "2024-01-08", "2024-01-09"]


@pytest.mark.clickhouse
def test_tv3_weekly_active_reads_before_the_range(project: Any) -> None:
    days = {"u1": 1, "u2": 5, "u3": 8, "u4": 9}
    insert_events(
        project.team.pk,
        [{"distinct_id": d, "timestamp": dt.datetime(2024, 1, n, 12, tzinfo=UTC)} for d, n in days.items()],
    )
    for distinct_id in days:
        insert_person(project.team.pk, [distinct_id], {})
    date_range = {"date_from": "2024-01-06", "date_to": "2024-01-09"}
    wau, dau = results(project, {"series": [pageviews("weekly_active"), pageviews("dau")], "dateRange": date_range})
    assert wau["data"] == [2, 2, 2, 3] and dau["data"] == [0, 0, 1, 1]
    [mau] = results(project, {"series": [pageviews("monthly_active")], "dateRange": date_range})
    assert mau["data"] == [2, 2, 3, 4]
    [weekly] = results(project, {"series": [pageviews("weekly_active")], "interval": "week", "dateRange": date_range})
    assert weekly["action"]["math"] == "dau" and weekly["data"] == [2, 2]  # weeks of 31 Dec and 7 Jan: u2 | u3, u4


@pytest.mark.clickhouse
def test_monthly_active_by_week_counts_the_30_days_to_each_week_start(project: Any) -> None:
    """Bucket d (a Sunday) counts persons active on days d-29 … d: 7 Jan holds 9 Dec … 7 Jan, 14 Jan holds
    16 Dec … 14 Jan. u1 (10 Dec) → 7 Jan only; u2 (8 Jan, after the 7 Jan start) → 14 Jan only; u3 (20 Dec) → both;
    u4 (8 Dec) → neither."""
    days = {"u1": (2023, 12, 10), "u2": (2024, 1, 8), "u3": (2023, 12, 20), "u4": (2023, 12, 8)}
    insert_events(
        project.team.pk, [{"distinct_id": d, "timestamp": dt.datetime(*n, 12, tzinfo=UTC)} for d, n in days.items()]
    )
    for distinct_id in days:
        insert_person(project.team.pk, [distinct_id], {})
    node = {
        "series": [pageviews("monthly_active")],
        "interval": "week",
        "dateRange": {"date_from": "2024-01-07", "date_to": "2024-01-20"},
    }
    [mau] = results(project, node)
    assert (mau["days"], mau["data"], mau["action"]["math"]) == (["2024-01-07", "2024-01-14"], [2, 2], "monthly_active")


@pytest.mark.clickhouse
def test_total_value_displays(project: Any) -> None:
    load(project.team.pk)
    for display in ("BoldNumber", "ActionsPie", "ActionsTable", "WorldMap"):
        total, dau = results(
            project,
            {"series": [pageviews(), pageviews("dau")], "dateRange": JAN_7_9, "trendsFilter": {"display": display}},
        )
        assert (total["aggregated_value"], dau["aggregated_value"]) == (6, 3), display
        assert total["data"] == [] and total["count"] == 0 and "labels" not in total
        assert total["days"] == ["2024-01-07", "2024-01-08", "2024-01-09"]


@pytest.mark.clickhouse
def test_compare_with_the_previous_period(project: Any) -> None:
    load(project.team.pk)
    current, previous = results(
        project,
        {
            "series": [pageviews()],
            "dateRange": {"date_from": "2024-01-08", "date_to": "2024-01-09"},
            "compareFilter": {"compare": True},
        },
    )
    assert (current["compare"], current["compare_label"], current["data"]) == (True, "current", [1, 2])
    assert (previous["compare"], previous["compare_label"], previous["data"]) == (True, "previous", [1, 3])
    assert previous["days"] == ["2024-01-06", "2024-01-07"] and previous["labels"] == ["6-Jan-2024", "7-Jan-2024"]


BREAKDOWN = {"breakdown": "$browser", "breakdown_type": "event"}


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("extra", "expected", "has_more"),
    [
        (
            {},
            [
                ("Chrome", [3, 0, 0]),
                ("Firefox", [0, 0, 1]),
                ("Safari", [0, 0, 1]),
                ("$$_posthog_breakdown_null_$$", [0, 1, 0]),
            ],
            False,
        ),
        (
            {"breakdown_limit": 2},
            [("Chrome", [3, 0, 0]), ("Firefox", [0, 0, 1]), ("$$_posthog_breakdown_other_$$", [0, 1, 1])],
            True,
        ),
        (
            {"breakdown_limit": 2, "breakdown_hide_other_aggregation": True},
            [("Chrome", [3, 0, 0]), ("Firefox", [0, 0, 1])],
            True,
        ),
    ],
)
def test_tv2_breakdown_null_and_other(project: Any, extra: dict, expected: list, has_more: bool) -> None:
    load(project.team.pk)
    node = {"series": [pageviews()], "dateRange": JAN_7_9, "breakdownFilter": {**BREAKDOWN, **extra}}
    body = trends(project, node).json()
    got = [(item["breakdown_value"], item["data"]) for item in body["results"]]
    assert got == expected and body["hasMore"] is has_more
    assert [item["label"] for item in body["results"]] == [value for value, _ in expected]


@pytest.mark.clickhouse
def test_breakdown_other_counts_persons_once(project: Any) -> None:
    load(project.team.pk)
    node = {"series": [pageviews("dau")], "dateRange": JAN_7_9, "breakdownFilter": {**BREAKDOWN, "breakdown_limit": 1}}
    body = trends(project, node).json()
    # Chrome: u1, u2 on 7 Jan; the rest: u2 (null) on 8 Jan, u1 (Safari) and u3 (Firefox) on 9 Jan
    got = [(item["breakdown_value"], item["data"]) for item in body["results"]]
    assert got == [("Chrome", [2, 0, 0]), ("$$_posthog_breakdown_other_$$", [0, 1, 2])]


def insert_browsers(team_id: int, rows: list[tuple[str, dt.datetime, str, int | None]]) -> None:
    """(distinct_id, timestamp, $browser, amount) pageviews, one person per distinct id."""
    events = [
        {"distinct_id": d, "timestamp": t, "properties": {"$browser": b, **({"amount": a} if a is not None else {})}}
        for d, t, b, a in rows
    ]
    insert_events(team_id, events)
    for distinct_id in sorted({row[0] for row in rows}):
        insert_person(team_id, [distinct_id], {})


@pytest.mark.clickhouse
def test_breakdown_other_aggregates_the_events_of_its_values_together(project: Any) -> None:
    day1, day2 = dt.datetime(2024, 1, 7, 12, tzinfo=UTC), dt.datetime(2024, 1, 8, 12, tzinfo=UTC)
    rows = [
        ("u1", day1, "A", 100), ("u3", day2, "A", 50),
        ("u2", day1, "B", 1), ("u2", day1, "B", 2), ("u3", day2, "B", 4),
        ("u3", day1, "C", 6),
    ]  # fmt: skip
    insert_browsers(project.team.pk, rows)
    breakdown = {**BREAKDOWN, "breakdown_limit": 1}
    other = "$$_posthog_breakdown_other_$$"

    def data(math: str, **extra: Any) -> list[tuple[str, list]]:
        node = {"series": [pageviews(math, **extra)], "dateRange": JAN_7_9, "breakdownFilter": breakdown}
        return [(item["breakdown_value"], item["data"]) for item in results(project, node)]

    # A ranks first (150 against C 6 and B 5.5); the other bucket is B's and C's amounts 1, 2, 6 on 7 Jan and
    # B's 4 on 8 Jan, not an average of the values' averages (3.75 on 7 Jan)
    assert data("avg", math_property="amount") == [("A", [100, 50, 0]), (other, [3, 4, 0])]
    assert data("median", math_property="amount") == [("A", [100, 50, 0]), (other, [2, 4, 0])]
    # cumulative persons: A (u1, u3) ties with B (u2, u3) and ranks first by value; in the other bucket u3 is
    # new once, on 7 Jan (C), not again on 8 Jan (B)
    node = {"series": [pageviews("dau")], "dateRange": JAN_7_9, "breakdownFilter": breakdown}
    node["trendsFilter"] = {"display": "ActionsLineGraphCumulative"}
    got = [(item["breakdown_value"], item["data"]) for item in results(project, node)]
    assert got == [("A", [1, 2, 2]), (other, [2, 2, 2])]


@pytest.mark.clickhouse
def test_weekly_active_breakdown_ranks_by_the_buckets_shown(project: Any) -> None:
    # X: u1 and u2 on 9 Jan (active 9-15 Jan, 2 in range); Y: u3 on 7 Jan (active 7-13 Jan, 3 in range)
    rows = [("u1", dt.datetime(2024, 1, 9, 12, tzinfo=UTC), "X", None)]
    rows += [("u2", dt.datetime(2024, 1, 9, 12, tzinfo=UTC), "X", None)]
    rows += [("u3", dt.datetime(2024, 1, 7, 12, tzinfo=UTC), "Y", None)]
    insert_browsers(project.team.pk, rows)
    node = {
        "series": [pageviews("weekly_active")],
        "dateRange": JAN_7_9,
        "breakdownFilter": {**BREAKDOWN, "breakdown_limit": 1},
    }
    body = trends(project, node).json()
    got = [(item["breakdown_value"], item["data"]) for item in body["results"]]
    assert got == [("Y", [1, 1, 1]), ("$$_posthog_breakdown_other_$$", [0, 0, 2])] and body["hasMore"] is True


@pytest.mark.clickhouse
def test_results_are_cached_until_refreshed(project: Any) -> None:
    node = {"series": [pageviews()], "dateRange": JAN_7_9}
    insert_events(project.team.pk, [{"timestamp": dt.datetime(2024, 1, 8, 12, tzinfo=UTC)}])
    first = trends(project, node).json()
    insert_events(project.team.pk, [{"timestamp": dt.datetime(2024, 1, 8, 13, tzinfo=UTC)}])
    cached = trends(project, node).json()
    fresh = trends(project, node, refresh="force_blocking").json()
    assert (first["results"][0]["data"], first["is_cached"]) == ([0, 1, 0], False)
    assert (cached["results"][0]["data"], cached["is_cached"], cached["cache_key"]) == (
        [0, 1, 0], True, first["cache_key"],
    )  # fmt: skip
    assert (fresh["results"][0]["data"], fresh["is_cached"]) == ([0, 2, 0], False)
    for key in ("hasMore", "hogql", "timings", "error", "modifiers", "last_refresh", "timezone", "query_status"):
        assert key in fresh, key
    assert fresh["error"] == "" and fresh["resolved_date_range"]["date_from"].startswith("2024-01-07T00:00:00")


@pytest.mark.clickhouse
def test_another_projects_events_never_count(project: Any, other_project: Any) -> None:
    load(other_project.team.pk)
    [item] = results(project, {"series": [pageviews()], "dateRange": JAN_7_9})
    assert item["data"] == [0, 0, 0] and item["count"] == 0


@pytest.mark.parametrize(
    ("node", "attr", "detail"),
    [
        ({"series": [pageviews("cubes")]}, "query__series__0__math", "Math 'cubes' is not supported"),
        ({"series": [pageviews("sum")]}, "query__series__0__math_property", "needs a math_property"),
        ({"series": [pageviews()], "interval": "fortnight"}, "query__interval", "'fortnight'"),
        ({"series": [pageviews()], "dateRange": {"date_from": "soon"}}, "query__date_from", "'soon'"),
        ({"series": [{"kind": "ActionsNode"}]}, "query__series__0__id", "required"),
        ({"series": []}, "query__series", ""),
        ({"series": [pageviews()], "chart": 1}, "query__chart", "Extra inputs"),
        ({"series": [pageviews()], "trendsFilter": {"display": "Pyramid"}}, "query__trendsFilter", "Pyramid"),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(project: Any, node: dict, attr: str, detail: str) -> None:
    response = trends(project, node)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["attr"] == attr and detail in body["detail"], body


@pytest.mark.clickhouse
def test_tv4_formula(project: Any) -> None:
    # A (signup) [1, 0, 2], B ($pageview) [2, 0, 4] over 7..9 Jan
    insert_events(
        project.team.pk,
        [{"event": "signup", "timestamp": dt.datetime(2024, 1, 7, 12, tzinfo=UTC)}]
        + [{"event": "signup", "timestamp": dt.datetime(2024, 1, 9, h, tzinfo=UTC)} for h in (1, 2)]
        + [{"event": "$pageview", "timestamp": dt.datetime(2024, 1, 7, h, tzinfo=UTC)} for h in (1, 2)]
        + [{"event": "$pageview", "timestamp": dt.datetime(2024, 1, 9, h, tzinfo=UTC)} for h in (1, 2, 3, 4)],
    )
    series = [{"kind": "EventsNode", "event": "signup"}, pageviews()]
    [item] = results(
        project, {"series": series, "dateRange": JAN_7_9, "trendsFilter": {"formulaNodes": [{"formula": "A/B"}]}}
    )
    assert item["data"] == [0.5, 0, 0.5] and item["count"] == 1.0
    assert item["label"] == "Formula (A/B)" and item["action"] is None
    [named] = results(
        project,
        {"series": series, "dateRange": JAN_7_9, "trendsFilter": {"formulas": ["b - 2 * a + 1"]}},
    )
    assert named["data"] == [1, 1, 1]
    [total] = results(
        project,
        {
            "series": series,
            "dateRange": JAN_7_9,
            "trendsFilter": {"display": "BoldNumber", "formulaNodes": [{"formula": "A / B", "custom_name": "Rate"}]},
        },
    )
    assert total["aggregated_value"] == 0.5 and total["label"] == "Rate"


@pytest.mark.parametrize(
    ("formula", "detail"),
    [
        ("A/C", "Formula references series C, but only 2 series are defined (A, B)"),
        ("sum(A)", "not sum(). To aggregate a series"),
        ("A // B", "Formulas only support arithmetic ( + - * / % ** ) between series, not FloorDiv"),
    ],
)
def test_bad_formula_is_a_400(project: Any, formula: str, detail: str) -> None:
    series = [{"kind": "EventsNode", "event": "signup"}, pageviews()]
    response = trends(project, {"series": series, "trendsFilter": {"formulaNodes": [{"formula": formula}]}})
    assert response.status_code == 400 and response.json()["attr"] == "query__trendsFilter"
    assert detail in response.json()["detail"]


@pytest.mark.clickhouse
def test_cumulative_and_smoothing(project: Any) -> None:
    load(project.team.pk)
    cumulative = {"series": [pageviews(), pageviews("dau")], "dateRange": JAN_7_9}
    total, dau = results(project, {**cumulative, "trendsFilter": {"display": "ActionsLineGraphCumulative"}})
    assert (total["data"], total["count"]) == ([3, 4, 6], 6.0)
    assert (dau["data"], dau["count"]) == ([2, 2, 3], 3.0)  # u1, u2 first on 7 Jan; u3 new on 9 Jan
    [smooth] = results(
        project, {"series": [pageviews()], "dateRange": JAN_7_9, "trendsFilter": {"smoothingIntervals": 2}}
    )
    assert smooth["data"] == [3, 2, 1]  # floor of [3], [3, 1], [1, 2]


@pytest.mark.clickhouse
def test_compare_to_and_filters_override(project: Any) -> None:
    load(project.team.pk)
    node = {
        "series": [pageviews()],
        "dateRange": {"date_from": "2024-01-08", "date_to": "2024-01-09"},
        "compareFilter": {"compare": True, "compare_to": "-1d"},
    }
    current, previous = results(project, node)
    assert (current["data"], previous["data"], previous["days"]) == ([1, 2], [3, 1], ["2024-01-07", "2024-01-08"])
    override = {
        "date_from": "2024-01-07",
        "date_to": "2024-01-09",
        "properties": [{"key": "$browser", "value": "Safari"}],
    }
    body = trends(project, {"series": [pageviews()], "dateRange": {"date_from": "-7d"}}, filters_override=override)
    assert body.json()["results"][0]["data"] == [0, 0, 1]


@pytest.mark.clickhouse
def test_person_breakdown_and_series_labels(project: Any) -> None:
    load(project.team.pk)
    for distinct_id, plan in (("u1", "pro"), ("u2", "free"), ("u3", "pro")):
        insert_person(project.team.pk, [distinct_id], {"plan": plan}, version=1)
    node = {
        "series": [pageviews()],
        "dateRange": JAN_7_9,
        "breakdownFilter": {"breakdown": "plan", "breakdown_type": "person"},
    }
    got = [(item["breakdown_value"], item["data"]) for item in results(project, node)]
    assert got == [("pro", [2, 0, 2]), ("free", [1, 1, 0])]
    node = {
        "series": [pageviews(), pageviews("dau", custom_name="Users")],
        "dateRange": JAN_7_9,
        "breakdownFilter": {**BREAKDOWN, "breakdown_limit": 1},
    }
    items = results(project, node)
    assert [item["label"] for item in items] == [
        "$pageview - Chrome",
        "$pageview - $$_posthog_breakdown_other_$$",
        "$pageview - Chrome",
        "$pageview - $$_posthog_breakdown_other_$$",
    ]
    assert [item["action"]["custom_name"] for item in items] == [None, None, "Users", "Users"]
    pie = {"series": [pageviews()], "dateRange": JAN_7_9, "breakdownFilter": BREAKDOWN}
    pie["trendsFilter"] = {"display": "ActionsPie"}
    got = [(item["breakdown_value"], item["aggregated_value"]) for item in results(project, pie)]
    assert got == [("Chrome", 3), ("Firefox", 1), ("Safari", 1), ("$$_posthog_breakdown_null_$$", 1)]


@pytest.mark.clickhouse
def test_date_from_all_starts_at_the_first_event(project: Any) -> None:
    load(project.team.pk)
    [item] = results(project, {"series": [pageviews()], "dateRange": {"date_from": "all", "date_to": "2024-01-09"}})
    assert item["days"] == ["2024-01-06", "2024-01-07", "2024-01-08", "2024-01-09"] and item["data"] == [1, 3, 1, 2]


@pytest.mark.clickhouse
def test_a_cut_result_is_a_400_not_wrong_numbers(project: Any, monkeypatch: Any) -> None:
    load(project.team.pk)
    monkeypatch.setattr("query.kinds.trends.MAX_ROWS", 3)  # 4 (day, browser) points below
    response = trends(project, {"series": [pageviews()], "dateRange": JAN_7_9, "breakdownFilter": BREAKDOWN})
    assert response.status_code == 400 and "more than 3 points" in response.json()["detail"]


@pytest.mark.clickhouse
def test_async_round_trip_and_cache(project: Any, other_project: Any) -> None:
    load(project.team.pk)
    load(other_project.team.pk)
    node = {"series": [pageviews()], "dateRange": JAN_7_9}
    started = trends(project, node, refresh="async", client_query_id="trends-1")
    assert started.status_code == 202, started.content
    done = poll_query(project, "trends-1")
    assert done.status_code == 200, done.content
    final = done.json()["query_status"]
    assert final["complete"] is True and final["error"] is False
    assert final["results"]["results"][0]["data"] == [3, 1, 2]
    again = trends(project, node, refresh="lazy_async")
    assert again.status_code == 200 and again.json()["is_cached"] is True
    assert again.json()["results"][0]["data"] == [3, 1, 2]


@pytest.mark.clickhouse
def test_filter_test_accounts_drops_the_teams_test_accounts(project: Any) -> None:
    load(project.team.pk)
    for distinct_id, email in (("u1", "dev@yourco.com"), ("u2", "jane@example.com")):  # u3 has no email
        insert_person(project.team.pk, [distinct_id], {"email": email}, version=1)
    project.team.test_account_filters = [
        {"key": "email", "type": "person", "operator": "not_icontains", "value": "@yourco.com"},
        {"key": "$browser", "type": "event", "operator": "is_not", "value": "Firefox"},
    ]
    project.team.save()
    node = {"series": [pageviews()], "dateRange": JAN_7_9}
    [everyone] = results(project, node)
    [real] = results(project, {**node, "filterTestAccounts": True})
    assert everyone["data"] == [3, 1, 2]
    # u1's events (two on 7 Jan, one on 9 Jan) and u3's Firefox one on 9 Jan go; u2's stay
    assert real["data"] == [1, 1, 0] and real["filter"]["filter_test_accounts"] is True
    project.team.test_account_filters = project.team.test_account_filters[:1]
    project.team.save()
    [changed] = results(project, {**node, "filterTestAccounts": True})  # not the cached answer to other filters
    assert changed["data"] == [1, 1, 1]  # u3's Firefox event counts again


@pytest.mark.clickhouse
def test_weeks_start_on_the_projects_week_start_day(project: Any) -> None:
    # 6 Jan 2024 is a Saturday, 7 Jan a Sunday, 8 Jan a Monday
    days = [6, 7, 8, 8, 14, 15]
    insert_events(project.team.pk, [{"timestamp": dt.datetime(2024, 1, d, 12, tzinfo=UTC)} for d in days])
    node = {
        "series": [pageviews()],
        "interval": "week",
        "dateRange": {"date_from": "2024-01-03", "date_to": "2024-01-16"},
    }
    [sunday] = results(project, node)
    assert sunday["days"] == ["2023-12-31", "2024-01-07", "2024-01-14"] and sunday["data"] == [1, 3, 2]
    project.team.week_start_day = 1
    project.team.save()
    [monday] = results(project, node)
    assert monday["days"] == ["2024-01-01", "2024-01-08", "2024-01-15"] and monday["data"] == [2, 3, 1]
    assert monday["labels"] == ["3–7 Jan", "8–14 Jan", "15–16 Jan"]
