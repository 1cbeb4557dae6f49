"""RetentionQuery on POST /query/: TV-7 of the reference (matrix form), a hand-worked first-time vs recurring
triangle, week and month periods (both week starts, a non-UTC project), breakdowns, entity filters, actions,
the cache envelope, async runs, isolation and bad input. Every expected number was worked out by hand from the
events listed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.query.conftest import insert_events, insert_person, query_url

UTC = dt.UTC

# TV-7: person1 (ids person1, alias1) on 10, 11, 12, 15 (09:00 via alias1), 16 Jun; person2 on 11, 12, 13, 16 Jun
TV7_EVENTS = [
    ("person1", dt.datetime(2020, 6, 10, 5)),
    ("person1", dt.datetime(2020, 6, 11, 5)),
    ("person1", dt.datetime(2020, 6, 12, 5)),
    ("person1", dt.datetime(2020, 6, 15, 5)),
    ("alias1", dt.datetime(2020, 6, 15, 9)),
    ("person1", dt.datetime(2020, 6, 16, 5)),
    ("person2", dt.datetime(2020, 6, 11, 5)),
    ("person2", dt.datetime(2020, 6, 12, 5)),
    ("person2", dt.datetime(2020, 6, 13, 5)),
    ("person2", dt.datetime(2020, 6, 16, 5)),
]
TV7_COUNTS = [
    [1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0],
    [2, 2, 1, 0, 1, 2, 0, 0, 0, 0, 0],
    [2, 1, 0, 1, 2, 0, 0, 0, 0, 0, 0],
    [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
    [0] * 11,
    [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0] * 11,
    [0] * 11,
    [0] * 11,
    [0] * 11,
]


def load_tv7(team_id: int) -> dict[str, str]:
    insert_events(
        team_id, [{"distinct_id": d, "event": "$pageview", "timestamp": t.replace(tzinfo=UTC)} for d, t in TV7_EVENTS]
    )
    return {
        "person1": insert_person(team_id, ["person1", "alias1"], {}),
        "person2": insert_person(team_id, ["person2"], {}),
    }


def tv7(**extra: Any) -> dict[str, Any]:
    retention = {
        "period": "Day",
        "totalIntervals": 11,
        "retentionType": "retention_recurring",
        "targetEntity": {"id": "$pageview", "type": "events"},
        "returningEntity": {"id": "$pageview", "type": "events"},
        **extra.pop("retentionFilter", {}),
    }
    return {"dateRange": {"date_to": "2020-06-20T06:00:00"}, "retentionFilter": retention, **extra}


def retention(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    body = {"query": {"kind": "RetentionQuery", **node}, **extra}
    return project.client().post(query_url(project), body, format="json")


def results(project: Any, node: dict[str, Any]) -> list[dict[str, Any]]:
    response = retention(project, node)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def counts(rows: list[dict[str, Any]]) -> list[list[int]]:
    return [[v["count"] for v in row["values"]] for row in rows]


@pytest.mark.clickhouse
def test_tv7_matrix(project: Any, other_project: Any) -> None:
    load_tv7(project.team.pk)
    load_tv7(other_project.team.pk)
    response = retention(project, tv7())
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"]
    assert [row["label"] for row in rows] == [f"Day {i}" for i in range(11)]
    assert rows[0]["date"] == "2020-06-10T00:00:00Z" and rows[10]["date"] == "2020-06-20T00:00:00Z"
    assert counts(rows) == TV7_COUNTS
    assert rows[0]["values"][:3] == [
        {"count": 1, "label": "Day 0"}, {"count": 1, "label": "Day 1"}, {"count": 1, "label": "Day 2"},
    ]  # fmt: skip
    assert all("breakdown_value" not in row for row in rows)
    assert set(body) >= {"hogql", "timings", "modifiers", "is_cached", "cache_key", "timezone", "resolved_date_range"}


@pytest.mark.clickhouse
def test_default_total_intervals_is_eight(project: Any) -> None:
    """Newer schema default (8): without date_from, the 8 days up to 20 Jun, i.e. TV-7's rows 3… cut to 8."""
    load_tv7(project.team.pk)
    node = tv7()
    del node["retentionFilter"]["totalIntervals"]
    rows = results(project, node)
    assert rows[0]["date"] == "2020-06-13T00:00:00Z" and len(rows) == 8
    assert counts(rows) == [row[:8] for row in TV7_COUNTS[3:]]


# The triangle (1–5 Mar 2024, Day, 5 intervals; D = 6 Mar). (distinct id, UTC time, $browser):
#   a: 28 Feb (before the range), 1, 2 Mar, 4 Mar twice   b: 1 Mar (Safari), 3 Mar
#   c: 2, 3, 5 Mar (Safari)                               d: 4 Mar, 6 Mar (after D), no $browser
TRI = [
    ("a", dt.datetime(2024, 2, 28, 10), "Chrome"),
    ("a", dt.datetime(2024, 3, 1, 10), "Chrome"),
    ("a", dt.datetime(2024, 3, 2, 10), "Chrome"),
    ("a", dt.datetime(2024, 3, 4, 10), "Chrome"),
    ("a", dt.datetime(2024, 3, 4, 20), "Chrome"),
    ("b", dt.datetime(2024, 3, 1, 11), "Safari"),
    ("b", dt.datetime(2024, 3, 3, 11), "Chrome"),
    ("c", dt.datetime(2024, 3, 2, 12), "Chrome"),
    ("c", dt.datetime(2024, 3, 3, 12), "Chrome"),
    ("c", dt.datetime(2024, 3, 5, 12), "Safari"),
    ("d", dt.datetime(2024, 3, 4, 13), None),
    ("d", dt.datetime(2024, 3, 6, 13), None),
]
RECURRING = [[2, 1, 1, 1, 0], [2, 1, 1, 1, 0], [2, 0, 1, 0, 0], [2, 0, 0, 0, 0], [1, 0, 0, 0, 0]]
CHROME = {"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}


def load_tri(team_id: int) -> dict[str, str]:
    rows = [
        {"distinct_id": d, "timestamp": t.replace(tzinfo=UTC), "properties": {"$browser": b} if b else {}}
        for d, t, b in TRI
    ]
    insert_events(team_id, rows)
    emails = {"a": "a@x.io", "b": "b@x.io", "c": "c@x.io", "d": "d@test.io"}
    return {k: insert_person(team_id, [k], {"email": email}) for k, email in emails.items()}


def tri(**extra: Any) -> dict[str, Any]:
    retention = {"period": "Day", "totalIntervals": 5, **extra.pop("retentionFilter", {})}
    return {"dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-05"}, "retentionFilter": retention, **extra}


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (tri(), RECURRING),
        (tri(retentionFilter={"retentionType": "retention_recurring"}), RECURRING),
        # first-time: a's first event is 28 Feb (outside), b's 1 Mar, c's 2 Mar, d's 4 Mar
        (
            tri(retentionFilter={"retentionType": "retention_first_time"}),
            [[1, 0, 1, 0, 0], [1, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
        ),
        (
            tri(retentionFilter={"cumulative": True}),
            [[2, 2, 2, 1, 0], [2, 2, 2, 1, 0], [2, 1, 1, 0, 0], [2, 0, 0, 0, 0], [1, 0, 0, 0, 0]],
        ),
        # a return period needs two events: only a's 4 Mar
        (
            tri(retentionFilter={"minimumOccurrences": 2}),
            [[2, 0, 0, 1, 0], [2, 0, 1, 0, 0], [2, 0, 0, 0, 0], [2, 0, 0, 0, 0], [1, 0, 0, 0, 0]],
        ),
        # target events must be Chrome, returns are any pageview
        (
            tri(retentionFilter={"targetEntity": {"id": "$pageview", "type": "events", "properties": [CHROME]}}),
            [[1, 1, 0, 1, 0], [2, 1, 1, 1, 0], [2, 0, 1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
        ),
        # returns must be Chrome, target any pageview
        (
            tri(retentionFilter={"returningEntity": {"id": "$pageview", "type": "events", "properties": [CHROME]}}),
            [[2, 1, 1, 1, 0], [2, 1, 1, 0, 0], [2, 0, 0, 0, 0], [2, 0, 0, 0, 0], [1, 0, 0, 0, 0]],
        ),
        # global properties apply to both
        (
            tri(properties=[CHROME]),
            [[1, 1, 0, 1, 0], [2, 1, 1, 0, 0], [2, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
        ),
        # the target is another event nobody did
        (tri(retentionFilter={"targetEntity": {"id": "signup", "type": "events"}}), [[0] * 5] * 5),
    ],
)
def test_triangle(project: Any, node: dict, expected: list) -> None:
    load_tri(project.team.pk)
    rows = results(project, node)
    assert [row["date"][:10] for row in rows] == ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04", "2024-03-05"]
    assert counts(rows) == expected


@pytest.mark.clickhouse
def test_filter_test_accounts(project: Any) -> None:
    load_tri(project.team.pk)
    project.team.test_account_filters = [
        {"key": "email", "value": "@test.io", "operator": "not_icontains", "type": "person"}
    ]
    project.team.save()
    assert counts(results(project, tri(filterTestAccounts=True)))[3] == [1, 0, 0, 0, 0]  # d is a test account
    assert counts(results(project, tri())) == RECURRING


@pytest.mark.clickhouse
def test_breakdown(project: Any) -> None:
    """The value of an actor's cohort is its first target event's in the period: row 0 a Chrome / b Safari,
    row 3 d has none (""), row 4 c Safari. Chrome's cohorts total 6, Safari's 2, ""'s 1."""
    load_tri(project.team.pk)
    rows = results(project, tri(breakdownFilter={"breakdown": "$browser", "breakdown_type": "event"}))
    values = [row["breakdown_value"] for row in rows]
    assert values == ["Chrome"] * 5 + ["Safari"] * 5 + [""] * 5
    assert counts(rows[:5]) == [[1, 1, 0, 1, 0], [2, 1, 1, 1, 0], [2, 0, 1, 0, 0], [1, 0, 0, 0, 0], [0] * 5]
    assert counts(rows[5:10]) == [[1, 0, 1, 0, 0], [0] * 5, [0] * 5, [0] * 5, [1, 0, 0, 0, 0]]
    assert counts(rows[10:]) == [[0] * 5, [0] * 5, [0] * 5, [1, 0, 0, 0, 0], [0] * 5]
    assert rows[5]["label"] == "Day 0" and rows[5]["date"] == "2024-03-01T00:00:00Z"
    # past breakdown_limit, Safari and "" sum into the other bucket
    limited = results(project, tri(breakdownFilter={"breakdown": "$browser", "breakdown_limit": 1}))
    assert [row["breakdown_value"] for row in limited] == ["Chrome"] * 5 + ["$$_posthog_breakdown_other_$$"] * 5
    assert counts(limited[5:]) == [[1, 0, 1, 0, 0], [0] * 5, [0] * 5, [1, 0, 0, 0, 0], [1, 0, 0, 0, 0]]
    # `breakdowns`: the first one is used
    multiple = results(project, tri(breakdownFilter={"breakdowns": [{"property": "$browser", "type": "event"}]}))
    assert [row["breakdown_value"] for row in multiple] == values


@pytest.mark.clickhouse
def test_person_breakdown(project: Any) -> None:
    load_tri(project.team.pk)
    rows = results(project, tri(breakdownFilter={"breakdown": "email", "breakdown_type": "person"}))
    # each person's own table: a 1+1+0+1 cohorts … ranked by total cohort size, then value
    sizes = {}
    for row in rows:
        sizes[row["breakdown_value"]] = sizes.get(row["breakdown_value"], 0) + row["values"][0]["count"]
    assert sizes == {"a@x.io": 3, "c@x.io": 3, "b@x.io": 2, "d@test.io": 1}
    assert [rows[i]["breakdown_value"] for i in range(0, 20, 5)] == ["a@x.io", "c@x.io", "b@x.io", "d@test.io"]
    assert counts(rows[:5]) == [[1, 1, 0, 1, 0], [1, 0, 1, 0, 0], [0] * 5, [1, 0, 0, 0, 0], [0] * 5]


@pytest.mark.clickhouse
def test_action_entity(project: Any) -> None:
    load_tri(project.team.pk)
    response = project.client().post(
        f"/api/projects/{project.team.pk}/actions/",
        {"name": "Chrome view", "steps": [{"event": "$pageview", "properties": [CHROME]}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    action = {"id": response.json()["id"], "type": "actions", "name": "Chrome view"}
    rows = results(project, tri(retentionFilter={"targetEntity": action}))
    assert counts(rows) == [[1, 1, 0, 1, 0], [2, 1, 1, 1, 0], [2, 0, 1, 0, 0], [1, 0, 0, 0, 0], [0] * 5]
    as_node = {"id": response.json()["id"], "kind": "ActionsNode"}
    assert counts(results(project, tri(retentionFilter={"targetEntity": as_node}))) == counts(rows)
    missing = retention(project, tri(retentionFilter={"targetEntity": {"id": 999999, "type": "actions"}}))
    assert missing.status_code == 400 and "999999" in missing.json()["detail"]


@pytest.mark.clickhouse
def test_groups_are_the_actors(project: Any) -> None:
    """aggregation_group_type_index 0: the `$group_0` values are the actors (events without one skipped)."""
    insert_events(
        project.team.pk,
        [
            {
                "distinct_id": "x",
                "timestamp": dt.datetime(2024, 3, 1, 9, tzinfo=UTC),
                "properties": {"$group_0": "acme"},
            },
            {
                "distinct_id": "y",
                "timestamp": dt.datetime(2024, 3, 2, 9, tzinfo=UTC),
                "properties": {"$group_0": "acme"},
            },
            {"distinct_id": "z", "timestamp": dt.datetime(2024, 3, 2, 9, tzinfo=UTC), "properties": {}},
        ],
    )
    rows = results(project, tri(aggregation_group_type_index=0))
    assert counts(rows)[:2] == [[1, 1, 0, 0, 0], [1, 0, 0, 0, 0]]


@pytest.mark.clickhouse
def test_another_projects_events_never_count(project: Any, other_project: Any) -> None:
    load_tri(other_project.team.pk)
    assert counts(results(project, tri())) == [[0] * 5] * 5
    load_tri(project.team.pk)
    response = retention(project, tri(), refresh="force_blocking")
    assert counts(response.json()["results"]) == RECURRING


# -- weeks, months, hours and the project's timezone

# p: Tue 5 Mar 12:00Z, Mon 11 Mar 03:00Z (= Sun 10 Mar 23:00 in New York); q: Sun 10 Mar 14:00Z, Tue 19 Mar 12:00Z
WEEK_EVENTS = [
    ("p", dt.datetime(2024, 3, 5, 12)),
    ("p", dt.datetime(2024, 3, 11, 3)),
    ("q", dt.datetime(2024, 3, 10, 14)),
    ("q", dt.datetime(2024, 3, 19, 12)),
]
WEEKS = {
    "dateRange": {"date_from": "2024-03-04", "date_to": "2024-03-24"},
    "retentionFilter": {"period": "Week", "totalIntervals": 3},
}


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("timezone", "week_start_day", "dates", "expected"),
    [
        # Monday weeks in New York: p only in week 4 Mar; q in weeks 4 and 18 Mar
        (
            "America/New_York", 1,
            ["2024-03-04T00:00:00-05:00", "2024-03-11T00:00:00-04:00", "2024-03-18T00:00:00-04:00"],
            [[2, 0, 1], [0, 0, 0], [1, 0, 0]],
        ),
        # Monday weeks in UTC: p's second event is Monday 11 Mar
        (
            "UTC", 1,
            ["2024-03-04T00:00:00Z", "2024-03-11T00:00:00Z", "2024-03-18T00:00:00Z"],
            [[2, 1, 1], [1, 0, 0], [1, 0, 0]],
        ),
        # Sunday weeks in New York: 4 Mar is in the week of 3 Mar, 24 Mar starts a fourth week (D = 31 Mar)
        (
            "America/New_York", 0,
            ["2024-03-03T00:00:00-05:00", "2024-03-10T00:00:00-05:00",
             "2024-03-17T00:00:00-04:00", "2024-03-24T00:00:00-04:00"],
            [[1, 1, 0], [2, 1, 0], [1, 0, 0], [0, 0, 0]],
        ),
    ],
)  # fmt: skip
def test_weeks(project: Any, timezone: str, week_start_day: int, dates: list, expected: list) -> None:
    project.team.timezone, project.team.week_start_day = timezone, week_start_day
    project.team.save()
    insert_events(project.team.pk, [{"distinct_id": d, "timestamp": t.replace(tzinfo=UTC)} for d, t in WEEK_EVENTS])
    for distinct_id in ("p", "q"):
        insert_person(project.team.pk, [distinct_id], {})
    rows = results(project, WEEKS)
    assert [row["date"] for row in rows] == dates
    assert [row["label"] for row in rows] == [f"Week {i}" for i in range(len(dates))]
    assert [v["label"] for v in rows[0]["values"]] == ["Week 0", "Week 1", "Week 2"]
    assert counts(rows) == expected


# r: 31 Jan 23:30Z, 1 Mar 10:00Z; s: 1 Feb 00:30Z, 29 Feb 12:00Z, 31 Mar 23:00Z (1 Apr 08:00 in Tokyo)
MONTH_EVENTS = [
    ("r", dt.datetime(2024, 1, 31, 23, 30)),
    ("r", dt.datetime(2024, 3, 1, 10)),
    ("s", dt.datetime(2024, 2, 1, 0, 30)),
    ("s", dt.datetime(2024, 2, 29, 12)),
    ("s", dt.datetime(2024, 3, 31, 23)),
]


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("timezone", "first", "expected"),
    [
        ("UTC", "2024-01-01T00:00:00Z", [[1, 0, 1], [1, 1, 0], [2, 0, 0]]),
        ("Asia/Tokyo", "2024-01-01T00:00:00+09:00", [[0, 0, 0], [2, 1, 0], [1, 0, 0]]),
    ],
)
def test_months_without_date_from(project: Any, timezone: str, first: str, expected: list) -> None:
    """No date_from: totalIntervals months up to the one holding date_to (D = 1 Apr, team-local)."""
    project.team.timezone = timezone
    project.team.save()
    insert_events(project.team.pk, [{"distinct_id": d, "timestamp": t.replace(tzinfo=UTC)} for d, t in MONTH_EVENTS])
    for distinct_id in ("r", "s"):
        insert_person(project.team.pk, [distinct_id], {})
    rows = results(
        project, {"dateRange": {"date_to": "2024-03-15"}, "retentionFilter": {"period": "Month", "totalIntervals": 3}}
    )
    assert rows[0]["date"] == first and [row["label"] for row in rows] == ["Month 0", "Month 1", "Month 2"]
    assert counts(rows) == expected


@pytest.mark.clickhouse
def test_hours(project: Any) -> None:
    """date_to 05:30 (kept for the hour period) → D = 06:00, three hourly cohorts from 03:00."""
    times = [dt.datetime(2024, 3, 1, 3, 10), dt.datetime(2024, 3, 1, 5, 59), dt.datetime(2024, 3, 1, 6, 0)]
    insert_events(project.team.pk, [{"distinct_id": "h", "timestamp": t.replace(tzinfo=UTC)} for t in times])
    insert_person(project.team.pk, ["h"], {})
    node = {"dateRange": {"date_to": "2024-03-01T05:30:00"}, "retentionFilter": {"period": "Hour", "totalIntervals": 3}}
    rows = results(project, node)
    assert [row["date"] for row in rows] == ["2024-03-01T03:00:00Z", "2024-03-01T04:00:00Z", "2024-03-01T05:00:00Z"]
    assert rows[1]["label"] == "Hour 1" and counts(rows) == [[1, 0, 1], [0, 0, 0], [1, 0, 0]]
