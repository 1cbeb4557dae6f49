"""TrendsQuery's other bucket (reference §1.7) for every shape of series: values past `breakdown_limit` merge into
`$$_posthog_breakdown_other_$$`, and the other bucket counts over its events together — an actor's events or a
session under two merged values once, an expression's aggregates over all of them — for count per actor, session
duration, first time, HogQL maths (also those aggregating DISTINCT values), total-value displays, histogram
bins, multiple breakdowns and active-users windows ranked by the buckets shown (weeks as Dates, a non-UTC team).
Every expected number is worked out by hand from DATASET."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.query.conftest import insert_events, insert_person, query_url

UTC = dt.UTC
JAN_7_9 = {"date_from": "2024-01-07", "date_to": "2024-01-09"}
NULL = "$$_posthog_breakdown_null_$$"
OTHER = "$$_posthog_breakdown_other_$$"
LIMIT_1 = {"breakdown": "$browser", "breakdown_limit": 1}

# (distinct_id, time, $browser, $session_id, amount). Sessions: s1 10:00-13:00 (10800 s), s2 and s3 an hour
# (3600 s) each, under both B and C; s4 one event (0 s); u4 has no browser and no session.
DATASET = [
    ("u1", dt.datetime(2024, 1, 7, 10), "A", "s1", 10),
    ("u1", dt.datetime(2024, 1, 7, 13), "A", "s1", 20),
    ("u2", dt.datetime(2024, 1, 7, 12), "B", "s2", 1),
    ("u2", dt.datetime(2024, 1, 7, 13), "C", "s2", 2),
    ("u3", dt.datetime(2024, 1, 8, 9), "B", "s3", 3),
    ("u3", dt.datetime(2024, 1, 8, 10), "C", "s3", 4),
    ("u3", dt.datetime(2024, 1, 8, 11), "A", "s4", 30),
    ("u4", dt.datetime(2024, 1, 9, 10), None, None, 5),
]


def load(team_id: int) -> None:
    events = []
    for distinct_id, time, browser, session, amount in DATASET:
        properties: dict[str, Any] = {"amount": amount}
        if browser:
            properties["$browser"] = browser
        if session:
            properties["$session_id"] = session
        events.append({"distinct_id": distinct_id, "timestamp": time.replace(tzinfo=UTC), "properties": properties})
    insert_events(team_id, events)
    for distinct_id in ("u1", "u2", "u3", "u4"):
        insert_person(team_id, [distinct_id], {})


def pageviews(math: str = "total", **extra: Any) -> dict[str, Any]:
    return {"kind": "EventsNode", "event": "$pageview", "math": math, **extra}


def run(project: Any, series: dict[str, Any], breakdown: dict[str, Any] = LIMIT_1, **node: Any) -> dict[str, Any]:
    query = {"kind": "TrendsQuery", "series": [series], "dateRange": JAN_7_9, "breakdownFilter": breakdown, **node}
    response = project.client().post(query_url(project), {"query": query}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def data(project: Any, series: dict[str, Any], breakdown: dict[str, Any] = LIMIT_1, **node: Any) -> list[tuple]:
    body = run(project, series, breakdown, **node)
    assert body["hasMore"] is True
    return [(item["breakdown_value"], item["data"]) for item in body["results"]]


@pytest.mark.clickhouse
def test_count_per_actor_counts_an_actors_events_under_merged_values_together(project: Any) -> None:
    load(project.team.pk)
    # per person and day: A u1 2 (7 Jan), u3 1 (8 Jan): total 3 ranks first over B 2, C 2, null 1. The rest:
    # u2's B and C events on 7 Jan are 2 events of one person (not two persons with 1), u3's on 8 Jan too
    assert data(project, pageviews("avg_count_per_actor")) == [("A", [2, 1, 0]), (OTHER, [2, 2, 1])]
    assert data(project, pageviews("max_count_per_actor")) == [("A", [2, 1, 0]), (OTHER, [2, 2, 1])]


@pytest.mark.clickhouse
def test_session_duration_counts_a_session_under_merged_values_once(project: Any) -> None:
    load(project.team.pk)
    # A: s1 10800 (7 Jan), s4 0 (8 Jan) ranks over B and C (7200 each); the rest: s2 once on 7 Jan, s3 once on
    # 8 Jan (not 7200 each); u4 has no session
    series = pageviews("sum", math_property="$session_duration", math_property_type="session_properties")
    assert data(project, series) == [("A", [10800, 0, 0]), (OTHER, [3600, 3600, 0])]


@pytest.mark.clickhouse
def test_first_time_for_user_other_bucket(project: Any) -> None:
    load(project.team.pk)
    # first pageviews: u1 A (7 Jan), u2 B (7 Jan), u3 B (8 Jan), u4 null (9 Jan): B (2) ranks first
    assert data(project, pageviews("first_time_for_user")) == [("B", [1, 1, 0]), (OTHER, [1, 0, 1])]


@pytest.mark.clickhouse
def test_hogql_maths_aggregate_the_other_bucket_over_its_events(project: Any) -> None:
    load(project.team.pk)
    # the spread of amounts: A 20 - 10 on 7 Jan ranks first; the rest's amounts 1, 2 (7 Jan) and 3, 4 (8 Jan)
    # spread 1 together, 0 within each value
    spread = pageviews("hogql", math_hogql="max(toFloat(properties.amount)) - min(toFloat(properties.amount))")
    assert data(project, spread) == [("A", [10, 0, 0]), (OTHER, [1, 1, 0])]
    # events per person: u2's B and C events on 7 Jan are one person's
    per_person = pageviews("hogql", math_hogql="count() / count(DISTINCT person_id)")
    assert data(project, per_person) == [("A", [2, 1, 0]), (OTHER, [2, 2, 1])]
    # persons with an amount above 1: A u1 (7 Jan), u3 (8 Jan) ties with C and ranks first by value
    above_1 = pageviews("hogql", math_hogql="countDistinctIf(person_id, toFloat(properties.amount) > 1)")
    assert data(project, above_1) == [("A", [1, 1, 0]), (OTHER, [1, 1, 1])]
    # a DISTINCT aggregate other than count (no partial state to merge: counted by a second query)
    distinct = pageviews("hogql", math_hogql="sum(DISTINCT toFloat(properties.amount)) + 0")
    assert data(project, distinct) == [("A", [30, 30, 0]), (OTHER, [3, 7, 5])]


@pytest.mark.clickhouse
def test_total_value_other_counts_persons_once(project: Any) -> None:
    load(project.team.pk)
    # persons: A u1 u3, B u2 u3, C u2 u3 (ties: A by value), null u4; the rest is u2, u3, u4 (not 2 + 2 + 1)
    body = run(project, pageviews("dau"), trendsFilter={"display": "ActionsPie"})
    assert [(item["breakdown_value"], item["aggregated_value"]) for item in body["results"]] == [("A", 2), (OTHER, 3)]
    # events per person over the range: A u1 2, u3 1 (1.5) ranks first; the rest u2 2 and u3 2 (each under B
    # and C), u4 1
    body = run(project, pageviews("avg_count_per_actor"), trendsFilter={"display": "ActionsPie"})
    got = [(item["breakdown_value"], item["aggregated_value"]) for item in body["results"]]
    assert got == [("A", 1.5), (OTHER, pytest.approx(5 / 3))]
    body = run(project, pageviews("dau"), {**LIMIT_1, "breakdown_hide_other_aggregation": True})
    assert [item["breakdown_value"] for item in body["results"]] == ["A"] and body["hasMore"] is True


@pytest.mark.clickhouse
def test_histogram_bins_past_the_limit(project: Any) -> None:
    load(project.team.pk)
    # amounts 1 … 30: bins [1,15.5] (10, 1, 2 on 7 Jan; 3, 4 on 8 Jan; 5 on 9 Jan) and [15.5,30.01] (20; 30)
    breakdown = {"breakdown": "amount", "breakdown_histogram_bin_count": 2, "breakdown_limit": 1}
    assert data(project, pageviews("dau"), breakdown) == [("[1,15.5]", [2, 1, 1]), (OTHER, [1, 1, 0])]


@pytest.mark.clickhouse
def test_multiple_breakdowns_count_per_actor(project: Any) -> None:
    load(project.team.pk)
    size = "if(toFloat(properties.amount) >= 10, 'big', 'small')"
    breakdown = {
        "breakdowns": [{"type": "event", "property": "$browser"}, {"type": "hogql", "property": size}],
        "breakdown_limit": 1,
    }
    # (A, big) ranks first (3); the rest: (B, small) and (C, small) of u2 on 7 Jan and u3 on 8 Jan, (null, small)
    expected = [(["A", "big"], [2, 1, 0]), ([OTHER, OTHER], [2, 2, 1])]
    assert data(project, pageviews("avg_count_per_actor"), breakdown) == expected


@pytest.mark.clickhouse
def test_active_users_rank_by_the_buckets_shown(project: Any) -> None:
    project.team.timezone = "America/New_York"
    project.team.save()
    rows = [("u1", dt.datetime(2023, 12, 20, 17), "Z"), ("u2", dt.datetime(2024, 1, 7, 17), "X")]
    rows += [("u3", dt.datetime(2024, 1, 9, 17), "Y"), ("u4", dt.datetime(2024, 1, 9, 17), "Y")]
    insert_events(
        project.team.pk,
        [{"distinct_id": d, "timestamp": t.replace(tzinfo=UTC), "properties": {"$browser": b}} for d, t, b in rows],
    )
    for distinct_id, *_ in rows:
        insert_person(project.team.pk, [distinct_id], {})
    # monthly active by week (week of Sun 7 Jan only): a day's event counts for the weeks starting in its 30
    # days. Z (20 Dec): weeks 24 Dec, 31 Dec, 7 Jan, 14 Jan; X (7 Jan): 7 Jan … 4 Feb; Y (9 Jan): 14 Jan …
    # Shown: X 1, Z 1 (X first by value), Y nothing, so not ranked at all
    body = run(project, pageviews("monthly_active"), interval="week")
    assert [(i["breakdown_value"], i["data"]) for i in body["results"]] == [("X", [1]), (OTHER, [1])]
    # weekly active by day: X 7-13 Jan (3 days shown), Y 9-15 Jan (1 day shown, 2 persons), Z not in range
    body = run(project, pageviews("weekly_active"))
    assert [(i["breakdown_value"], i["data"]) for i in body["results"]] == [("X", [1, 1, 1]), (OTHER, [0, 0, 2])]


def insert_pageviews(team_id: int, rows: list[tuple[str, int, dict[str, Any]]]) -> None:
    """(distinct_id, day of January 2024 at noon, properties), one person per distinct id."""
    events = [
        {"distinct_id": d, "timestamp": dt.datetime(2024, 1, day, 12, tzinfo=UTC), "properties": p}
        for d, day, p in rows
    ]
    insert_events(team_id, events)
    for distinct_id in sorted({d for d, _, _ in rows}):
        insert_person(team_id, [distinct_id], {})


@pytest.mark.clickhouse
def test_cumulative_groups_are_new_once_in_the_other_bucket(project: Any) -> None:
    rows = [("u1", 7, {"$browser": "A", "$group_0": "org-1"}), ("u2", 7, {"$browser": "B", "$group_0": "org-2"})]
    rows += [("u3", 8, {"$browser": "C", "$group_0": "org-1"}), ("u4", 9, {"$browser": "B", "$group_0": "org-3"})]
    insert_pageviews(project.team.pk, rows)
    # B: org-2 (7 Jan), org-3 (9 Jan) ranks first; the rest: org-1 under A (7 Jan) and C (8 Jan) is new once
    series = pageviews("unique_group", math_group_type_index=0)
    display = {"display": "ActionsLineGraphCumulative"}
    assert data(project, series, trendsFilter=display) == [("B", [1, 1, 2]), (OTHER, [1, 1, 1])]


@pytest.mark.clickhouse
def test_sampling_ranks_the_sample_and_scales_every_value(project: Any) -> None:
    # samplingFactor 0.3 reads user-b and user-c only (cityHash64 of the distinct id, as test_trends_maths)
    rows = [("user-b", 7, {"$browser": "X"}), ("user-b", 7, {"$browser": "Y"}), ("user-c", 7, {"$browser": "Y"})]
    rows += [("user-c", 9, {"$browser": "Z"}), ("user-a", 7, {"$browser": "X"}), ("user-d", 9, {"$browser": "Z"})]
    insert_pageviews(project.team.pk, rows)
    # sampled persons: Y b, c (7 Jan) ranks first; the rest b (X, 7 Jan), c (Z, 9 Jan); counts x 1/0.3, rounded.
    # Unsampled X, Y and Z would tie at 2 and X rank first.
    got = data(project, pageviews("dau"), samplingFactor=0.3)
    assert got == [("Y", [7, 0, 0]), (OTHER, [3, 0, 3])]
