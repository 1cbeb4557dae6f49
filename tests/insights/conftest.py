"""Helpers for the insights, dashboards and annotations tests: TV-1's events (query_kinds.md §12), trends
nodes, insight and dashboard URLs, and a movable clock for the result cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from query import clock as query_clock
from tests.query.conftest import insert_events, insert_person

UTC = dt.UTC
JAN_7_9 = {"date_from": "2024-01-07", "date_to": "2024-01-09"}
TV1 = [
    ("u1", dt.datetime(2024, 1, 7, 9, 0)),
    ("u1", dt.datetime(2024, 1, 7, 15, 0)),
    ("u1", dt.datetime(2024, 1, 9, 10, 0)),
    ("u2", dt.datetime(2024, 1, 7, 23, 59, 59)),
    ("u2", dt.datetime(2024, 1, 8, 0, 0, 0)),
    ("u3", dt.datetime(2024, 1, 9, 23, 30)),
    ("u3", dt.datetime(2024, 1, 10, 0, 30)),
    ("u4", dt.datetime(2024, 1, 6, 23, 59)),
]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()  # results are cached per project id, which tests reuse
    yield
    cache.clear()


def load_tv1(team_id: int) -> None:
    insert_events(team_id, [{"distinct_id": d, "timestamp": t.replace(tzinfo=UTC)} for d, t in TV1])
    for distinct_id in ("u1", "u2", "u3", "u4"):
        insert_person(team_id, [distinct_id], {})


def trends_node(date_range: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """TV-1's worked query (§2.3): total and DAU of $pageview by day."""
    source = {
        "kind": "TrendsQuery",
        "interval": "day",
        "series": [
            {"kind": "EventsNode", "event": "$pageview", "math": "total"},
            {"kind": "EventsNode", "event": "$pageview", "math": "dau"},
        ],
        "dateRange": date_range or JAN_7_9,
        **extra,
    }
    return {"kind": "InsightVizNode", "source": source}


def insights_url(project: Any, suffix: str = "") -> str:
    return f"/api/projects/{project.team.pk}/insights/{suffix}"


def dashboards_url(project: Any, suffix: str = "") -> str:
    return f"/api/projects/{project.team.pk}/dashboards/{suffix}"


def create_insight(project: Any, query: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    params = extra.pop("params", "")
    body = {"name": "Pageviews", "query": query or trends_node(), **extra}
    response = project.client().post(insights_url(project, params), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


class Clock:
    """The query layer's clock (query.clock.now, the edge), moved by tests: the result cache ages results by it
    and relative dates resolve against it (so a result computed "7 h later" covers a range ending then)."""

    def __init__(self, start: dt.datetime) -> None:
        self.moment = start

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, **delta: float) -> dt.datetime:
        self.moment += dt.timedelta(**delta)
        return self.moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(dt.datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(query_clock, "now", frozen)
    return frozen
