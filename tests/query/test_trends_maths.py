"""TrendsQuery maths beyond counts and property aggregates (reference §1.3): unique_group, first_time_for_user,
first_matching_event_for_user, the count-per-actor family, hogql, person_properties, $session_duration, and
samplingFactor (§1.9). Every expected number is worked out by hand from DATASET below; a comment says how."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.query.conftest import insert_events, insert_person, query_url

UTC = dt.UTC
JAN_7_9 = {"date_from": "2024-01-07", "date_to": "2024-01-09"}

# (distinct_id, timestamp, properties); persons a (age 30), b (age 40), c (age 50)
#   a: 5 Jan (before the range), 7 Jan x2 (session s1, an hour apart), 8 Jan (s4)
#   b: 7 Jan (s2), 9 Jan x3 (session s3, 09:00-11:00)
#   c: 9 Jan (no session)
DATASET = [
    ("a", dt.datetime(2024, 1, 5, 10), {"$browser": "Chrome", "$session_id": "s0"}),
    ("a", dt.datetime(2024, 1, 7, 10), {"$browser": "Chrome", "$session_id": "s1", "$group_0": "org-1", "amount": 10}),
    ("a", dt.datetime(2024, 1, 7, 11), {"$browser": "Chrome", "$session_id": "s1", "amount": 20}),
    ("a", dt.datetime(2024, 1, 8, 10), {"$browser": "Safari", "$session_id": "s4", "$group_0": "org-2"}),
    ("b", dt.datetime(2024, 1, 7, 12), {"$browser": "Chrome", "$session_id": "s2", "$group_0": "org-1", "amount": 5}),
    ("b", dt.datetime(2024, 1, 9, 9), {"$browser": "Safari", "$session_id": "s3", "$group_0": "org-1"}),
    ("b", dt.datetime(2024, 1, 9, 10), {"$browser": "Firefox", "$session_id": "s3", "amount": 7}),
    ("b", dt.datetime(2024, 1, 9, 11), {"$session_id": "s3", "$group_0": ""}),
    ("c", dt.datetime(2024, 1, 9, 12), {"$browser": "Safari", "$group_0": "org-3"}),
]
AGES = {"a": 30, "b": 40, "c": 50}


def load(team_id: int) -> None:
    insert_events(
        team_id,
        [{"distinct_id": d, "timestamp": t.replace(tzinfo=UTC), "properties": p} for d, t, p in DATASET],
    )
    for distinct_id, age in AGES.items():
        insert_person(team_id, [distinct_id], {"age": age, "email": f"{distinct_id}@example.com"})


def pageviews(math: str = "total", **extra: Any) -> dict[str, Any]:
    return {"kind": "EventsNode", "event": "$pageview", "math": math, **extra}


def trends(project: Any, node: dict[str, Any]) -> Any:
    body = {"query": {"kind": "TrendsQuery", "dateRange": JAN_7_9, **node}}
    return project.client().post(query_url(project), body, format="json")


def results(project: Any, node: dict[str, Any]) -> list[dict[str, Any]]:
    response = trends(project, node)
    assert response.status_code == 200, response.content
    return response.json()["results"]


SAFARI = [{"key": "$browser", "value": "Safari"}]

# events per person and day: 7 Jan a 2, b 1 | 8 Jan a 1 | 9 Jan b 3, c 1 (quantiles interpolate linearly)
PER_ACTOR = [
    ("avg_count_per_actor", [1.5, 1, 2]),
    ("min_count_per_actor", [1, 1, 1]),
    ("max_count_per_actor", [2, 1, 3]),
    ("median_count_per_actor", [1.5, 1, 2]),
    ("p75_count_per_actor", [1.75, 1, 2.5]),
    ("p90_count_per_actor", [1.9, 1, 2.8]),
    ("p95_count_per_actor", [1.95, 1, 2.9]),
    ("p99_count_per_actor", [1.99, 1, 2.98]),
]

TABLE = [
    # org-1 on 7 Jan | org-2 on 8 Jan | org-1, org-3 on 9 Jan (the empty $group_0 and missing ones are no group)
    pytest.param(pageviews("unique_group", math_group_type_index=0), [1, 1, 2], id="unique-group"),
    # first $pageview ever: a on 5 Jan (before the range), b on 7 Jan, c on 9 Jan
    pytest.param(pageviews("first_time_for_user"), [1, 0, 1], id="first-time"),
    # ... and it must be Safari: a's (5 Jan) and b's (7 Jan) first are Chrome; c's is Safari
    pytest.param(pageviews("first_time_for_user", properties=SAFARI), [0, 0, 1], id="first-time-filtered"),
    # first Safari $pageview: a on 8 Jan, b and c on 9 Jan
    pytest.param(pageviews("first_matching_event_for_user", properties=SAFARI), [0, 1, 2], id="first-matching"),
    *(pytest.param(pageviews(math), data, id=math) for math, data in PER_ACTOR),
    # amounts 10 + 20 + 5 on 7 Jan, none on 8 Jan, 7 on 9 Jan
    pytest.param(pageviews("hogql", math_hogql="sum(toFloat(properties.amount)) * 2"), [70, 0, 14], id="hogql"),
    # ages of the persons behind each event: a a b | a | b b b c
    pytest.param(
        pageviews("sum", math_property="age", math_property_type="person_properties"), [100, 30, 170], id="person"
    ),
    # sessions: s1 3600 s and s2 0 s on 7 Jan, s4 0 s on 8 Jan, s3 7200 s on 9 Jan (c's event has none), once each
    pytest.param(pageviews("avg", math_property="$session_duration"), [1800, 0, 7200], id="session-avg"),
    pytest.param(pageviews("sum", math_property="$session_duration"), [3600, 0, 7200], id="session-sum"),
    pytest.param(
        pageviews("max", math_property="$session_duration", math_property_type="session_properties"),
        [3600, 0, 7200],
        id="session-max",
    ),
]


@pytest.mark.clickhouse
@pytest.mark.parametrize(("series", "expected"), TABLE)
def test_math_table(project: Any, other_project: Any, series: dict[str, Any], expected: list[float]) -> None:
    load(project.team.pk)
    load(other_project.team.pk)  # never counted
    [item] = results(project, {"series": [series]})
    assert item["data"] == pytest.approx(expected)
    assert item["count"] == pytest.approx(sum(expected))
    assert item["action"]["math"] == series["math"]


@pytest.mark.clickhouse
def test_total_value_maths(project: Any) -> None:
    load(project.team.pk)
    series = [
        pageviews("avg_count_per_actor"),  # a 3, b 4, c 1 events in the range: 8 / 3
        pageviews("first_time_for_user"),  # b and c
        pageviews("avg", math_property="$session_duration"),  # s1 3600, s2 0, s4 0, s3 7200: 10800 / 4
        pageviews("unique_group", math_group_type_index=0),  # org-1, org-2, org-3
        pageviews("hogql", math_hogql="count(DISTINCT properties.$browser)"),  # Chrome, Safari, Firefox
    ]
    items = results(project, {"series": series, "trendsFilter": {"display": "BoldNumber"}})
    assert [item["aggregated_value"] for item in items] == pytest.approx([8 / 3, 2, 2700, 3, 3])
    assert items[4]["action"]["math_hogql"] == "count(DISTINCT properties.$browser)"
    assert items[3]["action"]["math_group_type_index"] == 0


@pytest.mark.clickhouse
def test_cumulative_unique_groups_count_each_group_once(project: Any) -> None:
    load(project.team.pk)
    node = {
        "series": [pageviews("unique_group", math_group_type_index=0)],
        "trendsFilter": {"display": "ActionsLineGraphCumulative"},
    }
    [item] = results(project, node)
    assert item["data"] == [1, 2, 3] and item["count"] == 3  # org-1 first on 7 Jan (again on 9 Jan), org-2, org-3


@pytest.mark.clickhouse
def test_maths_with_a_breakdown(project: Any) -> None:
    load(project.team.pk)
    breakdown = {"breakdown": "$browser"}
    # persons first seen in the range, at the browser of that first event: b (Chrome, 7 Jan), c (Safari, 9 Jan)
    got = results(project, {"series": [pageviews("first_time_for_user")], "breakdownFilter": breakdown})
    assert [(i["breakdown_value"], i["data"]) for i in got] == [("Chrome", [1, 0, 0]), ("Safari", [0, 0, 1])]
    # events per person per day and browser: Chrome 7 Jan a 2, b 1; Safari 8 Jan a 1, 9 Jan b 1, c 1;
    # Firefox 9 Jan b 1; no browser 9 Jan b 1. Ranked by the sum of the points: Safari 2, Chrome 1.5, …
    got = results(project, {"series": [pageviews("avg_count_per_actor")], "breakdownFilter": breakdown})
    assert [(i["breakdown_value"], i["data"]) for i in got] == [
        ("Safari", [0, 1, 1]),
        ("Chrome", [1.5, 0, 0]),
        ("Firefox", [0, 0, 1]),
        ("$$_posthog_breakdown_null_$$", [0, 0, 1]),
    ]
    # one duration per session and browser: Chrome s1 3600 and s2 0 on 7 Jan; on 9 Jan s3 under Safari, Firefox, none
    got = results(
        project, {"series": [pageviews("sum", math_property="$session_duration")], "breakdownFilter": breakdown}
    )
    assert [(i["breakdown_value"], i["data"]) for i in got][:2] == [("Firefox", [0, 0, 7200]), ("Safari", [0, 0, 7200])]


# samplingFactor 0.3 reads the events whose cityHash64(distinct_id) < 0.3 * 2^64: of user-a … user-d, that is
# user-b and user-c (found once with ClickHouse; the hash is fixed). 7 Jan: user-b x3, user-c, user-a x2, user-d;
# 9 Jan: user-c, user-a.
SAMPLED = [
    ("user-b", 7, 1), ("user-b", 7, 2), ("user-b", 7, 3), ("user-c", 7, 4), ("user-a", 7, 10), ("user-a", 7, 10),
    ("user-d", 7, 10), ("user-c", 9, 6), ("user-a", 9, 10),
]  # fmt: skip


@pytest.mark.clickhouse
def test_sampling_reads_a_sample_and_scales_counts_and_sums(project: Any) -> None:
    insert_events(
        project.team.pk,
        [
            {"distinct_id": d, "timestamp": dt.datetime(2024, 1, day, 12, tzinfo=UTC), "properties": {"amount": a}}
            for d, day, a in SAMPLED
        ],
    )
    for distinct_id in ("user-a", "user-b", "user-c", "user-d"):
        insert_person(project.team.pk, [distinct_id], {})
    series = [
        pageviews(),  # sample: 4 | 0 | 1 → round(x / 0.3); count round(5 / 0.3)
        pageviews("dau"),  # sample: 2 | 0 | 1
        pageviews("sum", math_property="amount"),  # sample: 10 | 0 | 6
        pageviews("avg", math_property="amount"),  # sample: 2.5 | 0 | 6, not scaled
        pageviews("avg_count_per_actor"),  # sample: b 3, c 1 → 2 | 0 | 1, not scaled
        pageviews("hogql", math_hogql="count()"),  # scaled as a count, whatever it computes (as PostHog)
    ]
    total, dau, amount, average, per_actor, hogql = results(project, {"series": series, "samplingFactor": 0.3})
    assert (total["data"], total["count"]) == ([13, 0, 3], 17)
    assert (dau["data"], dau["count"]) == ([7, 0, 3], 10)
    assert (amount["data"], amount["count"]) == ([33, 0, 20], 53)
    assert average["data"] == [2.5, 0, 6] and per_actor["data"] == [2, 0, 1] and hogql["data"] == [13, 0, 3]
    assert total["filter"]["sampling_factor"] == 0.3
    [unsampled] = results(project, {"series": [pageviews()], "samplingFactor": 1})
    assert unsampled["data"] == [7, 0, 2]
    [bold] = results(
        project, {"series": [pageviews()], "samplingFactor": 0.3, "trendsFilter": {"display": "BoldNumber"}}
    )
    assert bold["aggregated_value"] == 17  # 5 sampled events


@pytest.mark.parametrize(
    ("series", "attr", "detail"),
    [
        (pageviews("cube_root"), "math", "Math 'cube_root' is not supported"),
        (pageviews("unique_group"), "math_group_type_index", "needs a math_group_type_index"),
        (pageviews("unique_group", math_group_type_index=7), "math_group_type_index", "0 to 4"),
        (pageviews("hogql"), "math_hogql", "non-empty HogQL expression"),
        (pageviews("hogql", math_hogql="properties.amount"), "math_hogql", "must be an aggregation"),
        (pageviews("hogql", math_hogql="sum(1) + properties.amount"), "math_hogql", "outside an aggregation"),
        (pageviews("hogql", math_hogql="sum(("), "math_hogql", "is not valid HogQL"),
        (pageviews("hogql", math_hogql="sum(x) AS y"), "math_hogql", "without an alias"),
        (pageviews("hogql", math_hogql="sleep(3)"), "math_hogql", "Unsupported function call 'sleep(...)'"),
        (pageviews("hogql", math_hogql="sum(count())"), "math_hogql", "cannot be nested"),
        (pageviews("sum", math_property="x", math_property_type="group_properties"), "math_property_type", "group"),
        (pageviews("sum", math_property="x", math_property_type="session_properties"), "math_property", "only session"),
    ],
)
def test_bad_maths_are_a_400_naming_the_field(project: Any, series: dict, attr: str, detail: str) -> None:
    response = trends(project, {"series": [series]})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["attr"] == f"query__series__0__{attr}" and detail in body["detail"], body


@pytest.mark.parametrize("factor", [0, -0.5, 1.5])
def test_a_sampling_factor_outside_0_1_is_a_400(project: Any, factor: float) -> None:
    response = trends(project, {"series": [pageviews()], "samplingFactor": factor})
    assert response.status_code == 400 and response.json()["attr"] == "query__samplingFactor", response.content


@pytest.mark.clickhouse
def test_a_math_hogql_naming_an_unknown_field_is_a_400(project: Any) -> None:
    response = trends(project, {"series": [pageviews("hogql", math_hogql="sum(no_such_field)")]})
    assert response.status_code == 400, response.content
    assert "no_such_field" in response.json()["detail"]
