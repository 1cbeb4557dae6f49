"""TrendsQuery breakdowns beyond one event/person property (reference §1.7): session and hogql breakdowns,
breakdown_normalize_url, histogram bins, Boolean-typed properties, multiple breakdowns with their null and other
values, formulas over them, and the 400s. Expected values are worked out by hand from DATASET."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from definitions.models import PropertyDefinition
from tests.query.conftest import insert_events, insert_person, query_url

UTC = dt.UTC
JAN_7_9 = {"date_from": "2024-01-07", "date_to": "2024-01-09"}
NULL = "$$_posthog_breakdown_null_$$"
OTHER = "$$_posthog_breakdown_other_$$"

# (distinct_id, timestamp, properties). Sessions: s1 (a, entry /home), s2 (b, entry /pricing), s3 (b, entry
# /docs); c's events have no session.
DATASET = [
    ("a", dt.datetime(2024, 1, 7, 10), {"$session_id": "s1", "$pathname": "/home", "$current_url": "https://x.com/home/",
                                        "$browser": "Chrome", "is_paid": True, "amount": 5}),
    ("a", dt.datetime(2024, 1, 7, 11), {"$session_id": "s1", "$pathname": "/pricing",
                                        "$current_url": "https://x.com/pricing?", "$browser": "Chrome", "is_paid": True,
                                        "amount": 15}),
    ("b", dt.datetime(2024, 1, 7, 12), {"$session_id": "s2", "$pathname": "/pricing",
                                        "$current_url": "https://x.com/pricing", "$browser": "Firefox",
                                        "is_paid": False, "amount": 25}),
    ("b", dt.datetime(2024, 1, 8, 9), {"$session_id": "s3", "$pathname": "/docs", "$current_url": "https://x.com/docs#top",
                                       "$browser": "Chrome", "amount": 30}),
    ("c", dt.datetime(2024, 1, 9, 10), {"$current_url": "https://x.com/", "$browser": "Safari", "is_paid": False}),
    ("c", dt.datetime(2024, 1, 9, 11), {"$current_url": "/", "amount": 40}),
]  # fmt: skip


def load(team_id: int) -> None:
    insert_events(
        team_id,
        [{"distinct_id": d, "timestamp": t.replace(tzinfo=UTC), "properties": p} for d, t, p in DATASET],
    )
    for distinct_id in ("a", "b", "c"):
        insert_person(team_id, [distinct_id], {})


def pageviews(math: str = "total", **extra: Any) -> dict[str, Any]:
    return {"kind": "EventsNode", "event": "$pageview", "math": math, **extra}


def trends(project: Any, breakdown: dict[str, Any], **node: Any) -> Any:
    query = {"kind": "TrendsQuery", "series": [pageviews()], "dateRange": JAN_7_9, "breakdownFilter": breakdown, **node}
    return project.client().post(query_url(project), {"query": query}, format="json")


def values(project: Any, breakdown: dict[str, Any], **node: Any) -> list[tuple[Any, list[float]]]:
    response = trends(project, breakdown, **node)
    assert response.status_code == 200, response.content
    return [(item["breakdown_value"], item["data"]) for item in response.json()["results"]]


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("breakdown", "expected"),
    [
        pytest.param(
            {"breakdown": "$entry_pathname", "breakdown_type": "session"},
            # s1 /home (a's two events), s2 /pricing, s3 /docs; c has no session. Ties: value ascending
            [("/home", [2, 0, 0]), ("/docs", [0, 1, 0]), ("/pricing", [1, 0, 0]), (NULL, [0, 0, 2])],
            id="session",
        ),
        pytest.param(
            {"breakdown": "if(toFloat(properties.amount) > 20, 'big', 'small')", "breakdown_type": "hogql"},
            # amounts 5, 15, 25 | 30 | none (NULL > 20 is not true), 40
            [("big", [1, 1, 1]), ("small", [2, 0, 1])],
            id="hogql",
        ),
        pytest.param(
            {"breakdown": "lower(properties.$browser)", "breakdown_type": "hogql"},
            [("chrome", [2, 1, 0]), ("firefox", [1, 0, 0]), ("safari", [0, 0, 1]), (NULL, [0, 0, 1])],
            id="hogql-null",
        ),
        pytest.param(
            {"breakdown": "$current_url", "breakdown_normalize_url": True},
            # trailing / ? # dropped: …/pricing? and …/pricing merge; "#top" is no trailing mark; "/" → "" → "/"
            [
                ("https://x.com/pricing", [2, 0, 0]),
                ("/", [0, 0, 1]),
                ("https://x.com", [0, 0, 1]),
                ("https://x.com/docs#top", [0, 1, 0]),
                ("https://x.com/home", [1, 0, 0]),
            ],
            id="normalize-url",
        ),
        pytest.param(
            {"breakdown": "amount", "breakdown_histogram_bin_count": 2},
            # amounts 5 … 40: bins of 17.5 from 5, the last raised by 0.01; c's first event has none
            [("[22.5,40.01]", [1, 1, 1]), ("[5,22.5]", [2, 0, 0]), (NULL, [0, 0, 1])],
            id="histogram",
        ),
        pytest.param(
            {"breakdown": "is_paid"},  # Boolean-typed below: true, true, false | none | false, none
            [("false", [1, 0, 1]), ("true", [2, 0, 0]), (NULL, [0, 1, 1])],
            id="boolean",
        ),
    ],
)
def test_breakdown_types(project: Any, other_project: Any, breakdown: dict, expected: list) -> None:
    PropertyDefinition.objects.create(team=project.team, name="is_paid", property_type="Boolean", type=1)
    load(project.team.pk)
    load(other_project.team.pk)  # never counted
    assert values(project, breakdown) == expected


@pytest.mark.clickhouse
def test_histogram_bins_are_per_series(project: Any) -> None:
    load(project.team.pk)
    breakdown = {"breakdown": "amount", "breakdown_histogram_bin_count": 5}
    # Chrome's amounts 5 (7 Jan), 15 (7 Jan), 30 (8 Jan): bins of 5 from 5, not of 7 as over all amounts (5 … 40)
    node = {"series": [pageviews(properties=[{"key": "$browser", "value": "Chrome"}])]}
    assert values(project, breakdown, **node) == [
        ("[15,20]", [1, 0, 0]),
        ("[25,30.01]", [0, 1, 0]),
        ("[5,10]", [1, 0, 0]),
    ]


MULTIPLE = {
    "breakdowns": [{"type": "event", "property": "$browser"}, {"type": "session", "property": "$entry_pathname"}]
}


@pytest.mark.clickhouse
def test_multiple_breakdowns(project: Any) -> None:
    load(project.team.pk)
    # (browser, session entry): a (Chrome, /home) x2 | b (Firefox, /pricing), (Chrome, /docs) | c (Safari, none),
    # (none, none). Values holding a null part rank after the real ones; lists compare part by part.
    expected = [
        (["Chrome", "/home"], [2, 0, 0]),
        (["Chrome", "/docs"], [0, 1, 0]),
        (["Firefox", "/pricing"], [1, 0, 0]),
        ([NULL, NULL], [0, 0, 1]),
        (["Safari", NULL], [0, 0, 1]),
    ]
    response = trends(project, MULTIPLE)
    body = response.json()
    assert [(item["breakdown_value"], item["data"]) for item in body["results"]] == expected
    assert [item["label"] for item in body["results"]][::3] == ["Chrome::/home", f"{NULL}::{NULL}"]
    assert body["hasMore"] is False and body["results"][0]["filter"]["breakdowns"] == MULTIPLE["breakdowns"]


@pytest.mark.clickhouse
def test_multiple_breakdowns_past_the_limit_merge_into_other(project: Any) -> None:
    load(project.team.pk)
    limited = {**MULTIPLE, "breakdown_limit": 2}
    top = [(["Chrome", "/home"], [2, 0, 0]), (["Chrome", "/docs"], [0, 1, 0])]
    # the rest: b's Firefox event on 7 Jan, c's two on 9 Jan
    assert values(project, limited) == [*top, ([OTHER, OTHER], [1, 0, 2])]
    # each series ranks its own values: by persons, every value has 1, so the top 2 are the first by value; the
    # rest counts each person once: b (Firefox) on 7 Jan, c on 9 Jan
    assert values(project, limited, series=[pageviews("dau")]) == [
        (["Chrome", "/docs"], [0, 1, 0]),
        (["Chrome", "/home"], [1, 0, 0]),
        ([OTHER, OTHER], [1, 0, 1]),
    ]
    response = trends(project, {**limited, "breakdown_hide_other_aggregation": True})
    assert [item["breakdown_value"] for item in response.json()["results"]] == [v for v, _ in top]
    assert response.json()["hasMore"] is True
    two = trends(project, limited, series=[pageviews(), pageviews("dau")]).json()["results"]
    assert [item["label"] for item in two][:3] == [
        "$pageview - Chrome::/home",
        "$pageview - Chrome::/docs",
        f"$pageview - {OTHER}::{OTHER}",
    ]


@pytest.mark.clickhouse
def test_formulas_over_multiple_breakdowns(project: Any) -> None:
    load(project.team.pk)
    node = {"series": [pageviews(), pageviews("dau")], "trendsFilter": {"formulaNodes": [{"formula": "A + B"}]}}
    items = trends(project, MULTIPLE, **node).json()["results"]
    # events + persons per value; real values by total, then points, then value (descending, as PostHog); then
    # the values holding a null part
    got = [(item["breakdown_value"], item["data"]) for item in items]
    assert got == [
        (["Chrome", "/home"], [3, 0, 0]),
        (["Firefox", "/pricing"], [2, 0, 0]),
        (["Chrome", "/docs"], [0, 2, 0]),
        (["Safari", NULL], [0, 0, 2]),
        ([NULL, NULL], [0, 0, 2]),
    ]
    assert {item["label"] for item in items} == {"Formula (A + B)"} and items[0]["action"] is None


@pytest.mark.parametrize(
    ("breakdown", "detail"),
    [
        ({"breakdown": ["x"], "breakdown_type": "cohort"}, 'a cohort breakdown must be a list of cohort IDs or "all"'),
        ({"breakdown": "name", "breakdown_type": "group", "breakdown_group_type_index": 0}, "Group breakdowns"),
        ({"breakdown": "x", "breakdown_type": "event_metadata"}, "breakdown type 'event_metadata' is not supported"),
        ({"breakdown": 3}, "must be a property name"),
        ({"breakdown": "$channel", "breakdown_type": "session"}, "unknown session property '$channel'"),
        ({"breakdown": "count()", "breakdown_type": "hogql"}, "must not aggregate"),
        ({"breakdown": "nope(event)", "breakdown_type": "hogql"}, "Unsupported function call 'nope(...)'"),
        ({"breakdown": "event, timestamp", "breakdown_type": "hogql"}, "exactly one HogQL expression"),
        ({"breakdown": "amount", "breakdown_histogram_bin_count": 0}, "histogram_bin_count must be an integer"),
        ({"breakdown": "$browser", "breakdown_limit": 0}, "breakdown_limit must be a positive integer"),
        ({"breakdowns": [{"property": "a"}] * 4}, "At most 3 breakdowns"),
        ({"breakdowns": [{"property": "a", "kind": "x"}]}, "Unknown field 'kind' in breakdowns[0]"),
        ({"breakdowns": [{"type": "cohort", "property": "1"}]}, "breakdowns[0]: Cohort breakdowns"),
        ({"breakdowns": [{"type": "event"}]}, "breakdowns[0]: the breakdown must be a property name"),
    ],
)
def test_bad_breakdowns_are_a_400(project: Any, breakdown: dict, detail: str) -> None:
    response = trends(project, breakdown)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["attr"] == "query__breakdownFilter" and detail in body["detail"], body


@pytest.mark.clickhouse
def test_a_hogql_breakdown_naming_an_unknown_field_is_a_400(project: Any) -> None:
    response = trends(project, {"breakdown": "concat(no_such_field, 'x')", "breakdown_type": "hogql"})
    assert response.status_code == 400 and "no_such_field" in response.json()["detail"], response.content
