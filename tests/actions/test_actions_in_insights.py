"""One action, the same events, every way a query can name it: HogQL `matchesAction`, an `ActionsNode` series
in TrendsQuery, StickinessQuery and LifecycleQuery, a funnel step, and the people behind a trends point.
Expected numbers worked out by hand below."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.actions.test_action_matching import CHAIN_A, CHAIN_B, create_action
from tests.query.conftest import insert_events, insert_person, query_url, run

UTC = dt.UTC
SIGNUP = [{"event": "$autocapture", "selector": "#cta"}, {"event": "$pageview", "url": "/signup"}]
RANGE = {"date_from": "2024-01-07", "date_to": "2024-01-09"}


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2024, 1, day, hour, tzinfo=UTC)


def load(team_id: int) -> dict[str, str]:
    """u1 clicks #cta on 7 Jan and views /signup on 8 Jan; u2 clicks a nav link on 7 Jan (not the action) and
    views /signup on 9 Jan; u3 views /pricing on 8 Jan (not the action). Persons are created at 7 Jan 09:00."""
    insert_events(
        team_id,
        [
            {"distinct_id": "u1", "event": "$autocapture", "elements_chain": CHAIN_A, "timestamp": at(7)},
            {"distinct_id": "u1", "properties": {"$current_url": "https://x.io/signup"}, "timestamp": at(8)},
            {"distinct_id": "u2", "event": "$autocapture", "elements_chain": CHAIN_B, "timestamp": at(7)},
            {"distinct_id": "u2", "properties": {"$current_url": "https://x.io/signup?a=1"}, "timestamp": at(9)},
            {"distinct_id": "u3", "properties": {"$current_url": "https://x.io/pricing"}, "timestamp": at(8)},
        ],
    )
    return {d: insert_person(team_id, [d], {}, created_at=at(7, 9)) for d in ("u1", "u2", "u3")}


def query(project: Any, node: dict[str, Any]) -> dict[str, Any]:
    response = project.client().post(query_url(project), {"query": node}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.clickhouse
def test_one_action_everywhere(project: Any, other_project: Any) -> None:
    people = load(project.team.pk)
    load(other_project.team.pk)
    action_id = create_action(project, SIGNUP, name="Signup intent")
    series = [{"kind": "ActionsNode", "id": action_id}, {"kind": "ActionsNode", "id": action_id, "math": "dau"}]

    assert run(project, f"SELECT count() FROM events WHERE matchesAction({action_id})").json()["results"] == [[3]]

    total, dau = query(project, {"kind": "TrendsQuery", "series": series, "dateRange": RANGE})["results"]
    assert (total["data"], dau["data"]) == ([1, 1, 1], [1, 1, 1])
    assert (total["label"], total["action"]["id"], total["action"]["type"]) == ("Signup intent", action_id, "actions")

    [sticky] = query(project, {"kind": "StickinessQuery", "series": series[:1], "dateRange": RANGE})["results"]
    assert (sticky["data"], sticky["count"], sticky["label"]) == ([1, 1, 0], 2, "Signup intent")

    lifecycle = query(project, {"kind": "LifecycleQuery", "series": series[:1], "dateRange": RANGE})["results"]
    assert {item["status"]: item["data"] for item in lifecycle} == {
        "new": [1, 0, 0],  # u1 on 7 Jan, the day it was created
        "returning": [0, 1, 0],  # u1 on 8 Jan
        "resurrecting": [0, 0, 1],  # u2 on 9 Jan: created 7 Jan, first matching activity 9 Jan
        "dormant": [0, 0, -1],  # u1 after 8 Jan
    }
    assert lifecycle[0]["label"] == "Signup intent - new"
    assert (lifecycle[0]["action"]["id"], lifecycle[0]["action"]["type"]) == (str(action_id), "actions")

    # a funnel of the action twice: u1 did it on 7 and 8 Jan (both steps), u2 once on 9 Jan (the first step only)
    funnel = {"kind": "FunnelsQuery", "series": [series[0], series[0]], "dateRange": RANGE}
    steps = query(project, funnel)["results"]
    assert [(step["name"], step["count"]) for step in steps] == [("Signup intent", 2), ("Signup intent", 1)]

    source = {"kind": "TrendsQuery", "series": series, "dateRange": RANGE}
    actors = {
        "kind": "ActorsQuery",
        "select": ["id", "event_count"],
        "source": {"kind": "InsightActorsQuery", "day": "2024-01-09", "series": 0, "source": source},
    }
    assert query(project, actors)["results"] == [[people["u2"], 1]]


@pytest.mark.clickhouse
def test_an_unknown_or_foreign_action_drops_the_trends_series_and_fails_elsewhere(
    project: Any, other_project: Any
) -> None:
    load(project.team.pk)
    mine = create_action(project, SIGNUP, name="Mine")
    theirs = create_action(other_project, SIGNUP, name="Theirs")
    series = [
        {"kind": "ActionsNode", "id": theirs},
        {"kind": "ActionsNode", "id": mine},
        {"kind": "ActionsNode", "id": 999999},
    ]
    results = query(project, {"kind": "TrendsQuery", "series": series, "dateRange": RANGE})["results"]
    assert [(item["label"], item["data"]) for item in results] == [("Mine", [1, 1, 1])]
    node = {"kind": "LifecycleQuery", "series": [{"kind": "ActionsNode", "id": theirs}], "dateRange": RANGE}
    response = project.client().post(query_url(project), {"query": node}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == f"Action {theirs} does not exist"


@pytest.mark.clickhouse
def test_a_deleted_action_is_gone_from_queries(project: Any) -> None:
    load(project.team.pk)
    action_id = create_action(project, SIGNUP, name="Short-lived")
    node = {"kind": "TrendsQuery", "series": [{"kind": "ActionsNode", "id": action_id}], "dateRange": RANGE}
    assert len(query(project, node)["results"]) == 1
    project.client().patch(f"/api/projects/{project.team.pk}/actions/{action_id}/", {"deleted": True}, format="json")
    assert query(project, node)["results"] == []  # not the cached answer: the action changed


@pytest.mark.clickhouse
def test_events_query_by_action_and_by_steps(project: Any, other_project: Any) -> None:
    load(project.team.pk)
    action_id = create_action(project, SIGNUP, name="Signup intent")
    theirs = create_action(other_project, SIGNUP, name="Theirs")
    node = {"kind": "EventsQuery", "select": ["distinct_id", "event"], "after": "2024-01-01", "orderBy": ["timestamp"]}
    expected = [["u1", "$autocapture"], ["u1", "$pageview"], ["u2", "$pageview"]]
    assert query(project, {**node, "actionId": action_id})["results"] == expected
    assert query(project, {**node, "actionSteps": SIGNUP})["results"] == expected
    response = project.client().post(query_url(project), {"query": {**node, "actionId": theirs}}, format="json")
    assert response.status_code == 400  # another project's action is not found
