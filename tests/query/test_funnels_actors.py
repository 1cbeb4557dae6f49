"""FunnelsActorsQuery as an ActorsQuery source: who reached, who dropped off, per breakdown value and per trends
entry interval (TV-5 and the breakdown dataset), and its 400s (§9.2 strings). Expected persons worked out by
hand."""

from __future__ import annotations

from typing import Any

import pytest

from tests.query.funnel_helpers import TV5, load, post, tv5
from tests.query.test_funnels_breakdowns import ROWS
from tests.query.test_funnels_breakdowns import node as breakdown_node


def actors(project: Any, funnel: dict[str, Any], **params: Any) -> Any:
    body = {
        "kind": "ActorsQuery",
        "select": ["person"],
        "source": {"kind": "FunnelsActorsQuery", "source": funnel, **params},
    }
    return post(project, body)


def names(project: Any, persons: dict[str, str], funnel: dict[str, Any], **params: Any) -> set[str]:
    response = actors(project, funnel, **params)
    assert response.status_code == 200, response.content
    by_id = {v: k for k, v in persons.items()}
    return {by_id[row[0]["id"]] for row in response.json()["results"]}


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("order", "step", "expected"),
    [
        ("ordered", 1, {"a", "b", "c", "d", "e"}),
        ("ordered", 2, {"a", "b", "d"}),
        ("ordered", 3, {"a", "d"}),
        ("ordered", -2, {"c", "e"}),  # signed up, never viewed
        ("ordered", -3, {"b"}),  # viewed, never bought
        ("strict", -3, {"b"}),
        ("strict", -2, {"c", "d", "e"}),
        ("unordered", 3, {"a", "c", "d"}),
        ("unordered", -3, {"b", "f", "g"}),
    ],
)
def test_tv5_step_actors(project: Any, other_project: Any, order: str, step: int, expected: set) -> None:
    persons = load(project.team.pk, TV5)
    load(other_project.team.pk, TV5)  # the same distinct ids elsewhere never appear
    assert names(project, persons, tv5(order), funnelStep=step) == expected


@pytest.mark.clickhouse
def test_breakdown_value_actors(project: Any) -> None:
    persons = load(project.team.pk, ROWS)
    funnel = breakdown_node()
    assert names(project, persons, funnel, funnelStep=1, funnelStepBreakdown=["Chrome"]) == {"u1", "u3"}
    assert names(project, persons, funnel, funnelStep=2, funnelStepBreakdown=["Chrome"]) == {"u1"}
    assert names(project, persons, funnel, funnelStep=-2, funnelStepBreakdown=[""]) == {"u4"}
    assert names(project, persons, funnel, funnelStep=2, funnelStepBreakdown="Firefox") == {"u2"}


@pytest.mark.clickhouse
def test_trends_entry_period_actors(project: Any) -> None:
    persons = load(project.team.pk, TV5)
    funnel = {**tv5(funnelVizType="trends"), "interval": "day"}
    converted = names(project, persons, funnel, funnelTrendsDropOff=False, funnelTrendsEntrancePeriodStart="2024-02-01")
    dropped = names(project, persons, funnel, funnelTrendsDropOff=True, funnelTrendsEntrancePeriodStart="2024-02-01")
    assert (converted, dropped) == ({"a"}, {"b"})


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("funnel", "params", "detail"),
    [
        (tv5(), {"funnelStep": -1}, "The first valid drop-off argument for funnelStep is -2. -2 refers to persons "
         "who performed the first step but never made it to the second."),
        (tv5(), {"funnelStep": 4}, "out of range"),
        ({**tv5(funnelVizType="trends"), "interval": "day"}, {"funnelTrendsEntrancePeriodStart": "2024-02-01"},
         "Actors parameter `funnelTrendsDropOff` must be provided for funnel trends persons!"),
        ({**tv5(funnelVizType="trends"), "interval": "day"}, {"funnelTrendsDropOff": True},
         "Actors parameter `funnelTrendsEntrancePeriodStart` must be provided for funnel trends persons!"),
    ],
)  # fmt: skip
def test_bad_parameters_are_400s(project: Any, funnel: dict, params: dict, detail: str) -> None:
    response = actors(project, funnel, **params)
    assert response.status_code == 400, response.content
    assert detail in response.json()["detail"]
