"""FunnelsQuery steps viz on POST /query/: TV-5 (ordered, strict, unordered) and TV-6 of the reference, and
hand-worked datasets (five users 4 → 2 → 1, a window cutting one user, an exclusion removing one). Every expected
number was worked out by hand from the events listed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.query.conftest import insert_distinct_id, insert_events, insert_person
from tests.query.funnel_helpers import TV5, at, counts, load, results, step, tv5


@pytest.mark.clickhouse
def test_tv5_ordered_matches_the_reference_field_by_field(project: Any) -> None:
    load(project.team.pk, TV5)
    items = results(project, tv5("ordered"))
    assert items == [
        {"action_id": "signup", "name": "signup", "custom_name": None, "order": 0, "people": [], "count": 5,
         "type": "events", "average_conversion_time": None, "median_conversion_time": None},
        {"action_id": "view_item", "name": "view_item", "custom_name": None, "order": 1, "people": [], "count": 3,
         "type": "events", "average_conversion_time": 28940.0, "median_conversion_time": 300.0},
        {"action_id": "purchase", "name": "purchase", "custom_name": None, "order": 2, "people": [], "count": 2,
         "type": "events", "average_conversion_time": 180.0, "median_conversion_time": 180.0},
    ]  # fmt: skip


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("order", "expected", "names"),
    [
        ("strict", [5, 2, 1], ["signup", "view_item", "purchase"]),
        # newer sliding window: c (view, signup, purchase within 2 h) converts; f and g reach 2 distinct steps
        ("unordered", [7, 6, 3], ["Completed 1 step", "Completed 2 steps", "Completed 3 steps"]),
    ],
)
def test_tv5_strict_and_unordered(project: Any, order: str, expected: list, names: list) -> None:
    load(project.team.pk, TV5)
    items = results(project, tv5(order))
    assert counts(items) == expected
    assert [item["name"] for item in items] == names
    if order == "unordered":
        assert {item["action_id"] for item in items} == {None}


@pytest.mark.clickhouse
def test_tv5_strict_times(project: Any) -> None:
    load(project.team.pk, TV5)
    items = results(project, tv5("strict"))
    # step 2: a 300 s, b 86 400 s; step 3: a 300 s
    assert [i["average_conversion_time"] for i in items] == [None, 43350.0, 300.0]
    assert [i["median_conversion_time"] for i in items] == [None, 43350.0, 300.0]


TV6 = [
    ("person1", "sign up", at("2020-01-01", "12:00"), {}),
    ("person1", "play movie", at("2020-01-01", "13:00"), {}),
    ("person1", "buy", at("2020-01-01", "15:00"), {}),
    ("person2", "sign up", at("2020-01-02", "14:00"), {}),
    ("person2", "play movie", at("2020-01-02", "16:00"), {}),
    ("person3", "sign up", at("2020-01-02", "14:00"), {}),
    ("person3", "play movie", at("2020-01-02", "16:00"), {}),
    ("person3", "buy", at("2020-01-02", "17:00"), {}),
]


@pytest.mark.clickhouse
def test_tv6_conversion_times(project: Any) -> None:
    load(project.team.pk, TV6)
    node = {
        "kind": "FunnelsQuery",
        "series": [step("sign up"), step("play movie"), step("buy")],
        "funnelsFilter": {"funnelWindowInterval": 7},
        "dateRange": {"date_from": "2020-01-01", "date_to": "2020-01-08"},
    }
    items = results(project, node)
    assert counts(items) == [3, 3, 2]
    assert [i["average_conversion_time"] for i in items] == [None, 6000.0, 5400.0]
    assert [i["median_conversion_time"] for i in items] == [None, 7200.0, 5400.0]


# TV-6 companion: three sign-ups; conversions after 5 and 15 minutes, one never
COMPANION = [
    ("p1", "sign up", at("2020-01-01", "12:00"), {}),
    ("p1", "play movie", at("2020-01-01", "12:05"), {}),
    ("p2", "sign up", at("2020-01-01", "12:00"), {}),
    ("p2", "play movie", at("2020-01-01", "12:15"), {}),
    ("p3", "sign up", at("2020-01-01", "12:00"), {}),
]


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("window", "expected", "average"),
    [
        ({"funnelWindowInterval": 14}, [3, 2], 600.0),
        ({"funnelWindowInterval": 5, "funnelWindowIntervalUnit": "minute"}, [3, 1], 300.0),
    ],
)
def test_tv6_companion_window_is_inclusive(project: Any, window: dict, expected: list, average: float) -> None:
    load(project.team.pk, COMPANION)
    node = {
        "kind": "FunnelsQuery",
        "series": [step("sign up"), step("play movie")],
        "funnelsFilter": window,
        "dateRange": {"date_from": "2020-01-01", "date_to": "2020-01-08"},
    }
    items = results(project, node)
    assert counts(items) == expected and items[1]["average_conversion_time"] == average


# Five users, 2024-03-01, steps A → B → C:
# u1 A 10:00, B 10:10, C 10:30   → 3 (B 600 s, C 1200 s)
# u2 A 11:00, B 11:20            → 2 (B 1200 s)
# u3 A 12:00, C 12:05            → 1 (C before B never counts)
# u4 B 09:00, A 09:30            → 1 (B before A)
# u5 C 08:00                     → 0
FIVE = [
    ("u1", "A", at("2024-03-01", "10:00"), {}), ("u1", "B", at("2024-03-01", "10:10"), {}),
    ("u1", "C", at("2024-03-01", "10:30"), {}),
    ("u2", "A", at("2024-03-01", "11:00"), {}), ("u2", "B", at("2024-03-01", "11:20"), {}),
    ("u3", "A", at("2024-03-01", "12:00"), {}), ("u3", "C", at("2024-03-01", "12:05"), {}),
    ("u4", "B", at("2024-03-01", "09:00"), {}), ("u4", "A", at("2024-03-01", "09:30"), {}),
    ("u5", "C", at("2024-03-01", "08:00"), {}),
]  # fmt: skip


def abc(**funnels: Any) -> dict[str, Any]:
    return {
        "kind": "FunnelsQuery",
        "series": [step("A"), step("B"), step("C")],
        "funnelsFilter": funnels,
        "dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-02"},
    }


@pytest.mark.clickhouse
def test_five_users_ordered_is_4_2_1(project: Any) -> None:
    load(project.team.pk, FIVE)
    items = results(project, abc())
    assert counts(items) == [4, 2, 1]
    assert [i["average_conversion_time"] for i in items] == [None, 900.0, 1200.0]
    assert [i["median_conversion_time"] for i in items] == [None, 900.0, 1200.0]


@pytest.mark.clickhouse
def test_a_15_minute_window_cuts_u2(project: Any) -> None:
    load(project.team.pk, FIVE)
    # u1 reaches B after 10 min but C after 30 (outside); u2's B after 20 min is outside
    items = results(project, abc(funnelWindowInterval=15, funnelWindowIntervalUnit="minute"))
    assert counts(items) == [4, 1, 0]


@pytest.mark.clickhouse
def test_an_exclusion_removes_one_user(project: Any) -> None:
    rows = [*FIVE, ("u2", "X", at("2024-03-01", "11:10"), {}), ("u1", "X", at("2024-03-01", "10:40"), {})]
    load(project.team.pk, rows)
    # u2's X falls between A and B: u2 is gone from every step; u1's X comes after it converted: ignored
    exclusion = {"kind": "EventsNode", "event": "X", "funnelFromStep": 0, "funnelToStep": 1}
    items = results(project, abc(exclusions=[exclusion]))
    assert counts(items) == [3, 1, 1]


@pytest.mark.clickhouse
def test_re_entry_uses_the_latest_step_one_within_the_window(project: Any) -> None:
    rows = [
        ("r", "A", at("2024-03-01", "10:00"), {}),
        ("r", "A", at("2024-03-01", "12:00"), {}),
        ("r", "B", at("2024-03-01", "12:30"), {}),
    ]
    load(project.team.pk, rows)
    # a 1-hour window: the 10:00 entry is too old for B at 12:30, the 12:00 one converts in 1800 s
    items = results(project, abc(funnelWindowInterval=1, funnelWindowIntervalUnit="hour"))
    assert counts(items) == [1, 1, 0] and items[1]["average_conversion_time"] == 1800.0


@pytest.mark.clickhouse
def test_no_actors_is_an_empty_list(project: Any) -> None:
    assert results(project, abc()) == []


@pytest.mark.clickhouse
def test_more_steps_than_the_scalar_fold_takes(project: Any) -> None:
    """33 steps run the array fold (the scalar one takes up to 31): one user does e0…e31 a minute apart, then
    stops; another only e0."""
    rows = [("long", f"e{k}", at("2024-03-01", f"10:{k:02d}"), {}) for k in range(32)]
    load(project.team.pk, [*rows, ("short", "e0", at("2024-03-01", "11:00"), {})])
    node = abc()
    node["series"] = [step(f"e{k}") for k in range(33)]
    items = results(project, node)
    assert counts(items) == [2] + [1] * 31 + [0]
    assert items[31]["average_conversion_time"] == 60.0 and items[32]["average_conversion_time"] is None


@pytest.mark.clickhouse
def test_a_person_with_several_distinct_ids_is_one_actor(project: Any) -> None:
    """Events are matched per person, not per distinct id: p did A as `anon`, B as `known`, C as `anon` again;
    q's `q-old` was merged into q (its newest pdi row points at q), so q-old's B continues q-new's A. Per distinct
    id nobody would get past A ([3, 0, 0])."""
    team = project.team.pk
    insert_events(
        team,
        [
            {"distinct_id": "anon", "event": "A", "timestamp": at("2024-03-01", "10:00")},
            {"distinct_id": "known", "event": "B", "timestamp": at("2024-03-01", "10:10")},
            {"distinct_id": "anon", "event": "C", "timestamp": at("2024-03-01", "10:40")},
            {"distinct_id": "q-new", "event": "A", "timestamp": at("2024-03-01", "09:00")},
            {"distinct_id": "q-old", "event": "B", "timestamp": at("2024-03-01", "09:30")},
            {"distinct_id": "r", "event": "A", "timestamp": at("2024-03-01", "11:00")},
        ],
    )
    insert_person(team, ["anon", "known"], {})
    insert_person(team, ["q-old"], {})  # version 0, then merged into q:
    q = insert_person(team, ["q-new"], {})
    insert_distinct_id(team, "q-old", q, version=1)
    insert_person(team, ["r"], {})
    items = results(project, abc())
    # p: B 600 s after A, C 1800 s after B; q: B 1800 s after A; r: A only
    assert counts(items) == [3, 2, 1]
    assert [i["average_conversion_time"] for i in items] == [None, 1200.0, 1800.0]
    assert [i["median_conversion_time"] for i in items] == [None, 1200.0, 1800.0]


@pytest.mark.clickhouse
def test_one_event_in_two_steps(project: Any) -> None:
    """A → A → B: the second A moves the first A's entry to step 2 and opens a new entry; B moves that on."""
    rows = [
        ("u", "A", at("2024-03-01", "10:00"), {}),
        ("u", "A", at("2024-03-01", "10:05"), {}),
        ("u", "B", at("2024-03-01", "10:15"), {}),
        ("v", "A", at("2024-03-01", "11:00"), {}),  # one A: step 1 only
    ]
    load(project.team.pk, rows)
    node = abc()
    node["series"] = [step("A"), step("A"), step("B")]
    items = results(project, node)
    assert counts(items) == [2, 1, 1]
    assert [i["average_conversion_time"] for i in items] == [None, 300.0, 600.0]


@pytest.mark.clickhouse
def test_steps_at_the_same_moment(project: Any) -> None:
    """B and A at the same instant: the earlier step goes first, so B moves the entry A opened, in 0 s (zero
    durations are left out of the times: null)."""
    rows = [("u", "B", at("2024-03-01", "10:00"), {}), ("u", "A", at("2024-03-01", "10:00"), {})]
    load(project.team.pk, rows)
    items = results(project, abc())
    assert counts(items) == [1, 1, 0]
    assert items[1]["average_conversion_time"] is None and items[1]["median_conversion_time"] is None


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("order", "rows", "expected"),
    [
        # u2's X between A and B removes u2, whichever of the two exclusions counts it: 4 → 3, 2 → 1, 1 → 1
        ("ordered", [*FIVE, ("u2", "X", at("2024-03-01", "11:10"), {})], [3, 1, 1]),
        # strict, A → B → C: w does A, B, C; v does A, X, B, C (X would reset v to A anyway, but first removes v)
        (
            "strict",
            [
                ("w", "A", at("2024-03-01", "10:00"), {}), ("w", "B", at("2024-03-01", "10:01"), {}),
                ("w", "C", at("2024-03-01", "10:02"), {}),
                ("v", "A", at("2024-03-01", "11:00"), {}), ("v", "X", at("2024-03-01", "11:01"), {}),
                ("v", "B", at("2024-03-01", "11:02"), {}), ("v", "C", at("2024-03-01", "11:03"), {}),
            ],
            [1, 1, 1],
        ),
    ],
)  # fmt: skip
def test_overlapping_exclusions_block_once(project: Any, order: str, rows: list, expected: list) -> None:
    """Two exclusions of X over the same steps (0 → 1 and 0 → 2) exclude exactly as one does."""
    load(project.team.pk, rows)
    exclusions = [
        {"kind": "EventsNode", "event": "X", "funnelFromStep": 0, "funnelToStep": 1},
        {"kind": "EventsNode", "event": "X", "funnelFromStep": 0, "funnelToStep": 2},
    ]
    items = results(project, abc(exclusions=exclusions, funnelOrderType=order))
    assert counts(items) == expected


@pytest.mark.clickhouse
def test_at_one_moment_an_exclusion_marked_event_goes_last(project: Any) -> None:
    """Steps A (b = y) → B, excluding A with c = 1 between them. u's two A at 10:00 are both step 1, one also
    excluded: the plain one opens the entry first, then the marked one falls inside it before B, so u is dropped
    (the other order would let u convert); v converts."""
    rows = [
        ("u", "A", at("2024-03-01", "10:00"), {"b": "y", "c": 1}),
        ("u", "A", at("2024-03-01", "10:00"), {"b": "y"}),
        ("u", "B", at("2024-03-01", "10:05"), {}),
        ("v", "A", at("2024-03-01", "11:00"), {"b": "y"}),
        ("v", "B", at("2024-03-01", "11:05"), {}),
    ]
    load(project.team.pk, rows)
    exclusion = {
        "kind": "EventsNode",
        "event": "A",
        "funnelFromStep": 0,
        "funnelToStep": 1,
        "properties": [{"key": "c", "value": "1", "operator": "exact", "type": "event"}],
    }
    node = abc(exclusions=[exclusion])
    node["series"] = [
        step("A", properties=[{"key": "b", "value": "y", "operator": "exact", "type": "event"}]),
        step("B"),
    ]
    assert counts(results(project, node)) == [1, 1]
