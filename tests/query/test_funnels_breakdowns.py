"""FunnelsQuery breakdowns: boxed values, missing → [""], attribution (first_touch, last_touch, step,
all_events), the "Other" bucket past breakdown_limit, ordering, cohorts. Expected numbers worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from tests.query.funnel_helpers import at, load, results, step

# steps A → B, 2024-03-01, 14-day window. $browser per event:
# u1 A Chrome 10:00, B Safari 10:05         → converts
# u2 A (none) 10:00, B Firefox 10:05        → converts
# u3 A Chrome 10:00                         → A only
# u4 A (none) 10:00                         → A only
ROWS = [
    ("u1", "A", at("2024-03-01", "10:00"), {"$browser": "Chrome"}),
    ("u1", "B", at("2024-03-01", "10:05"), {"$browser": "Safari"}),
    ("u2", "A", at("2024-03-01", "10:00"), {}),
    ("u2", "B", at("2024-03-01", "10:05"), {"$browser": "Firefox"}),
    ("u3", "A", at("2024-03-01", "10:00"), {"$browser": "Chrome"}),
    ("u4", "A", at("2024-03-01", "10:00"), {}),
]


def node(**funnels: Any) -> dict[str, Any]:
    limit = funnels.pop("limit", None)
    breakdown: dict[str, Any] = {"breakdown": "$browser", "breakdown_type": "event"}
    if limit:
        breakdown["breakdown_limit"] = limit
    return {
        "kind": "FunnelsQuery",
        "series": [step("A"), step("B")],
        "funnelsFilter": funnels,
        "breakdownFilter": breakdown,
        "dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-02"},
    }


def table(items: list[list[dict[str, Any]]]) -> list[tuple]:
    return [(steps[0]["breakdown_value"], [s["count"] for s in steps]) for steps in items]


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("funnels", "expected"),
    [
        # first non-empty value: u1 Chrome, u2 Firefox (its A has none), u3 Chrome, u4 none
        ({}, [(["Chrome"], [2, 1]), (["Firefox"], [1, 1]), ([""], [1, 0])]),
        # last non-empty: u1 Safari, u2 Firefox, u3 Chrome, u4 none
        ({"breakdownAttributionType": "last_touch"}, [(["Firefox"], [1, 1]), (["Safari"], [1, 1]),
                                                       (["Chrome"], [1, 0]), ([""], [1, 0])]),
        # the value on step 0's event: u1 Chrome, u2 "", u3 Chrome, u4 ""
        ({"breakdownAttributionType": "step", "breakdownAttributionValue": 0}, [(["Chrome"], [2, 1]), ([""], [2, 1])]),
        # per value over only its events: Chrome u1 A, u3 A; "" u2 A, u4 A; Safari u1 B; Firefox u2 B → no entry
        ({"breakdownAttributionType": "all_events"}, [(["Chrome"], [2, 0]), ([""], [2, 0])]),
    ],
)  # fmt: skip
def test_attribution(project: Any, funnels: dict, expected: list) -> None:
    load(project.team.pk, ROWS)
    items = results(project, node(**funnels))
    assert table(items) == expected
    for steps in items:
        assert all(s["breakdown"] == s["breakdown_value"] for s in steps)


@pytest.mark.clickhouse
def test_values_past_the_limit_are_other(project: Any) -> None:
    load(project.team.pk, ROWS)
    # first touch: Chrome (2 entering) kept; Firefox and "" become Other: u2 converts, u4 does not
    items = results(project, node(limit=1))
    assert table(items) == [(["Chrome"], [2, 1]), (["Other"], [2, 1])]
    # Other's time is over its own actors: u2's 300 s
    assert items[1][1]["average_conversion_time"] == 300.0


@pytest.mark.clickhouse
def test_breakdown_step_shape(project: Any) -> None:
    load(project.team.pk, ROWS)
    first = results(project, node())[0]
    assert first[1] == {
        "action_id": "B", "name": "B", "custom_name": None, "order": 1, "people": [], "count": 1, "type": "events",
        "average_conversion_time": 300.0, "median_conversion_time": 300.0,
        "breakdown": ["Chrome"], "breakdown_value": ["Chrome"],
    }  # fmt: skip


@pytest.mark.clickhouse
def test_cohort_breakdown(project: Any) -> None:
    from tests.query.test_cohort_queries import static_cohort

    persons = load(project.team.pk, ROWS)
    cohort = static_cohort(project.team, "Converters", [persons["u1"], persons["u2"]])
    items = results(
        project,
        {**node(), "breakdownFilter": {"breakdown_type": "cohort", "breakdown": [cohort.pk, "all"]}},
    )
    assert [(s[0]["breakdown"], s[0]["breakdown_value"], [x["count"] for x in s]) for s in items] == [
        ("all users", 0, [4, 2]),
        ("Converters", cohort.pk, [2, 2]),
    ]
