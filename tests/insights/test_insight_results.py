"""Acceptance 2: a saved trends insight's results through the query service, its refresh modes and the
staleness rules (reference §1.4, §1.5, test vectors §8.4), on TV-1 (query_kinds.md §12: total [3, 1, 2],
DAU [2, 1, 2] over 7–9 Jan 2024)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from tests.insights.conftest import UTC, Clock, create_insight, insights_url, load_tv1, trends_node
from tests.query.conftest import insert_events


def get(project: Any, insight_id: int, **params: str) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = project.client().get(insights_url(project, f"{insight_id}/?{query}"))
    assert response.status_code == 200, response.content
    return response.json()


def series(body: dict[str, Any]) -> list[list[float]]:
    return [item["data"] for item in body["result"]]


def iso(moment: dt.datetime) -> dt.datetime:
    return dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment


@pytest.mark.clickhouse
def test_blocking_create_then_cache_then_force_blocking(project: Any) -> None:
    load_tv1(project.team.pk)
    created = create_insight(project, params="?refresh=blocking")
    assert series(created) == [[3, 1, 2], [2, 1, 2]]
    assert created["is_cached"] is False and created["last_refresh"] is not None
    assert created["filters_hash"].startswith("cache_") and created["query_status"] is None
    assert created["hogql"].startswith("SELECT") and created["timezone"] == "UTC"

    default = get(project, created["id"])  # force_cache: the stored result
    assert (series(default), default["is_cached"], default["last_refresh"]) == (
        [[3, 1, 2], [2, 1, 2]],
        True,
        created["last_refresh"],
    )
    blocking = get(project, created["id"], refresh="blocking")
    assert blocking["is_cached"] is True and blocking["filters_hash"] == created["filters_hash"]

    # one more pageview on 8 Jan: only a forced run sees it
    insert_events(project.team.pk, [{"distinct_id": "u4", "timestamp": dt.datetime(2024, 1, 8, 12, tzinfo=UTC)}])
    assert series(get(project, created["id"], refresh="blocking")) == [[3, 1, 2], [2, 1, 2]]
    forced = get(project, created["id"], refresh="force_blocking")
    assert (series(forced), forced["is_cached"]) == ([[3, 2, 2], [2, 2, 2]], False)
    legacy = get(project, created["id"], refresh="true")  # `true` is force_blocking
    assert legacy["is_cached"] is False
    assert series(get(project, created["id"])) == [[3, 2, 2], [2, 2, 2]]


@pytest.mark.clickhouse
def test_cache_miss_and_list_never_compute(project: Any) -> None:
    load_tv1(project.team.pk)
    created = create_insight(project)
    assert (created["result"], created["last_refresh"], created["is_cached"]) == (None, None, False)
    assert get(project, created["id"], refresh="nonsense")["result"] is None  # unknown → force_cache
    listed = project.client().get(insights_url(project, "?limit=100")).json()
    assert listed["count"] == 1 and listed["results"][0]["result"] is None
    computed = get(project, created["id"], refresh="1")
    assert series(computed) == [[3, 1, 2], [2, 1, 2]]
    listed = project.client().get(insights_url(project, "?limit=100")).json()
    assert series(listed["results"][0]) == [[3, 1, 2], [2, 1, 2]] and listed["results"][0]["is_cached"] is True


def _recent_pageviews(project: Any) -> None:
    now = dt.datetime.now(UTC)
    insert_events(project.team.pk, [{"distinct_id": "u1", "timestamp": now - dt.timedelta(days=1, hours=1)}])


@pytest.mark.clickhouse
def test_staleness_table_with_a_frozen_clock(project: Any, clock: Clock) -> None:
    """§8.4: interval day, date_from -3d (≤ 7 days): stale after 6 h, lazy after 12 h, refresh after 3 min."""
    _recent_pageviews(project)
    insight = create_insight(project, trends_node({"date_from": "-3d"}))
    start = clock.moment
    first = get(project, insight["id"], refresh="blocking")
    assert first["is_cached"] is False and sum(first["result"][0]["data"]) == 1
    assert iso(first["last_refresh"]) == start

    clock.advance(hours=1)
    cached = get(project, insight["id"], refresh="force_cache")
    assert cached["is_cached"] is True and iso(cached["last_refresh"]) == start
    assert iso(cached["cache_target_age"]) == start + dt.timedelta(hours=6)
    assert iso(cached["next_allowed_client_refresh"]) == start + dt.timedelta(minutes=3)
    assert get(project, insight["id"], refresh="blocking")["is_cached"] is True

    _recent_pageviews(project)  # a second pageview: what a recalculation will find
    clock.advance(hours=6)  # T+7h: stale by the default threshold, not by the lazy one (12 h)
    lazy = get(project, insight["id"], refresh="lazy_async")
    assert (lazy["is_cached"], lazy["query_status"], iso(lazy["last_refresh"])) == (True, None, start)

    pending = get(project, insight["id"], refresh="async")  # the stale result, and a recalculation queued
    assert pending["is_cached"] is True and iso(pending["last_refresh"]) == start
    assert sum(pending["result"][0]["data"]) == 1
    status = pending["query_status"]
    assert status["complete"] is False and status["query_async"] is True and status["insight_id"] == insight["id"]
    assert status["id"] == pending["filters_hash"]  # async runs are keyed by the cache key

    deadline = time.monotonic() + 20
    while iso((latest := get(project, insight["id"]))["last_refresh"]) == start:
        assert time.monotonic() < deadline, "the async recalculation never landed"
        time.sleep(0.05)
    assert iso(latest["last_refresh"]) == clock.moment and sum(latest["result"][0]["data"]) == 2

    clock.advance(hours=7)
    recomputed = get(project, insight["id"], refresh="blocking")
    assert recomputed["is_cached"] is False and iso(recomputed["last_refresh"]) == clock.moment


@pytest.mark.clickhouse
def test_a_fully_past_range_is_never_stale(project: Any, clock: Clock) -> None:
    load_tv1(project.team.pk)
    insight = create_insight(project)
    first = get(project, insight["id"], refresh="blocking")
    assert iso(first["next_allowed_client_refresh"]) == clock.moment + dt.timedelta(minutes=3)  # spans 3 days
    clock.advance(days=30)
    again = get(project, insight["id"], refresh="blocking")
    assert again["is_cached"] is True and again["last_refresh"] == first["last_refresh"]


@pytest.mark.clickhouse
def test_an_eight_day_range_refreshes_after_fifteen_minutes_and_force_async_only_queues(
    project: Any, clock: Clock
) -> None:
    insight = create_insight(project, trends_node({"date_from": "-7d"}))
    body = get(project, insight["id"], refresh="blocking")
    assert iso(body["next_allowed_client_refresh"]) == clock.moment + dt.timedelta(minutes=15)
    clock.advance(minutes=1)
    queued = get(project, insight["id"], refresh="force_async")
    assert queued["result"] is None and queued["query_status"]["complete"] is False
    deadline = time.monotonic() + 20
    while get(project, insight["id"])["last_refresh"] == body["last_refresh"]:  # let the run end in this test
        assert time.monotonic() < deadline
        time.sleep(0.05)
