"""Every behavioral cohort filter kind against hand-worked datasets, with events on and around each window bound.

`now` is fixed at 2024-03-15 12:00 UTC. Bounds (cohorts.filters.behavioral): "N units ago" is the start of the
team-local day of now − N units, and windows end with the end of today; so for a UTC project "7 days" runs from
2024-03-08 00:00:00 to 2024-03-15 23:59:59.999999."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.exceptions import ValidationError

from actions.models import Action
from cohorts.filters import members_select, validate_filters
from tests.cohorts.test_filters import behavioral, load_people, members, person, tree

NOW = dt.datetime(2024, 3, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, second, tzinfo=dt.UTC)


def check(project: Any, people: list[tuple[str, dict[str, Any], list[Any]]], item: dict[str, Any]) -> set[str]:
    ids = load_people(project.team.pk, people)
    filters = validate_filters(tree(item), team=project.team)
    return members(project.team, filters, ids, now=NOW)


def window_7(kind: str = "performed_event", key: str = "purchase", **extra: Any) -> dict[str, Any]:
    return behavioral(key, kind, time_value=7, time_interval="day", **extra)


# ---------------------------------------------------------------------------------------------------
# performed_event


@pytest.mark.clickhouse
def test_performed_event_window_bounds(project: Any) -> None:
    people = [
        ("ON_START", {}, [("purchase", at(8, 0))]),  # 2024-03-08 00:00:00, the first moment in
        ("JUST_BEFORE", {}, [("purchase", at(7, 23, 59, 59))]),
        ("LATER_TODAY", {}, [("purchase", at(15, 23, 0))]),  # after now, still today
        ("TOMORROW", {}, [("purchase", at(16, 0, 0, 1))]),
        ("OTHER_EVENT", {}, [("refund", at(10))]),
    ]
    assert check(project, people, window_7()) == {"ON_START", "LATER_TODAY"}


@pytest.mark.clickhouse
def test_performed_event_in_the_team_timezone(project: Any) -> None:
    project.team.timezone = "America/New_York"  # 2024-03-08 00:00 EST is 05:00 UTC
    project.team.save()
    people = [("IN", {}, [("purchase", at(8, 5, 0))]), ("OUT", {}, [("purchase", at(8, 4, 59, 59))])]
    assert check(project, people, window_7()) == {"IN"}


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("time_value", "interval", "first_in"),
    [
        pytest.param(2, "week", at(1, 0), id="weeks"),  # 03-15 − 14 days
        pytest.param(1, "month", at(15, 0, month=2), id="month"),  # calendar month back
        pytest.param(1, "year", dt.datetime(2023, 3, 15, tzinfo=dt.UTC), id="year"),
    ],
)
def test_performed_event_units(project: Any, time_value: int, interval: str, first_in: dt.datetime) -> None:
    people = [("IN", {}, [("purchase", first_in)]), ("OUT", {}, [("purchase", first_in - dt.timedelta(seconds=1))])]
    item = behavioral("purchase", "performed_event", time_value=time_value, time_interval=interval)
    assert check(project, people, item) == {"IN"}


@pytest.mark.clickhouse
def test_a_month_back_from_the_31st_clamps_to_the_last_day(project: Any) -> None:
    people = [("IN", {}, [("purchase", at(29, 0, month=2))]), ("OUT", {}, [("purchase", at(28, 23, 59, month=2))])]
    ids = load_people(project.team.pk, people)
    item = behavioral("purchase", "performed_event", time_value=1, time_interval="month")
    assert members(project.team, tree(item), ids, now=at(31, 12)) == {"IN"}  # 31 Mar − 1 month = 29 Feb


@pytest.mark.clickhouse
def test_performed_event_explicit_datetime(project: Any) -> None:
    people = [
        ("FIRST_DAY", {}, [("purchase", at(1, 0))]),
        ("LAST_DAY", {}, [("purchase", at(7, 23, 59, 59))]),
        ("AFTER", {}, [("purchase", at(8, 0))]),
        ("BEFORE", {}, [("purchase", at(29, 23, 59, 59, month=2))]),
    ]
    item = behavioral("purchase", "performed_event", explicit_datetime="2024-03-01", explicit_datetime_to="2024-03-07")
    assert check(project, people, item) == {"FIRST_DAY", "LAST_DAY"}


@pytest.mark.clickhouse
def test_performed_event_relative_explicit_datetime(project: Any) -> None:
    people = [("IN", {}, [("purchase", at(13, 0))]), ("OUT", {}, [("purchase", at(12, 23))])]
    assert check(project, people, behavioral("purchase", "performed_event", explicit_datetime="-2d")) == {"IN"}


@pytest.mark.clickhouse
def test_event_filters_narrow_the_counted_events(project: Any) -> None:
    people = [
        ("PRO", {}, [(("purchase", {"plan": "pro", "amount": 30}), at(10))]),
        ("FREE", {}, [(("purchase", {"plan": "free", "amount": 30}), at(10))]),
        ("PRO_CHEAP", {}, [(("purchase", {"plan": "pro", "amount": 5}), at(10))]),
        ("PRO_OLD", {}, [(("purchase", {"plan": "pro", "amount": 30}), at(1))]),
    ]
    filters = [
        {"type": "event", "key": "plan", "value": ["pro"], "operator": "exact"},
        {"type": "hogql", "key": "toFloat(properties.amount) > 10", "value": None},
    ]
    assert check(project, people, window_7(event_filters=filters)) == {"PRO"}


# ---------------------------------------------------------------------------------------------------
# actions


@pytest.mark.clickhouse
def test_actions_as_the_event(project: Any, other_project: Any) -> None:
    action = Action.objects.create(
        team=project.team,
        name="Pricing",
        steps_json=[{"event": "$pageview", "url": "/pricing", "url_matching": "contains"}],
    )
    people = [
        ("PRICING", {}, [(("$pageview", {"$current_url": "https://x.com/pricing"}), at(10))]),
        ("ABOUT", {}, [(("$pageview", {"$current_url": "https://x.com/about"}), at(10))]),
        ("OLD", {}, [(("$pageview", {"$current_url": "https://x.com/pricing"}), at(1))]),
        ("CLICK", {}, [(("$autocapture", {"$current_url": "https://x.com/pricing"}), at(10))]),
    ]
    item = behavioral(action.pk, "performed_event", event_type="actions", time_value=7, time_interval="day")
    assert check(project, people, item) == {"PRICING"}
    foreign = Action.objects.create(team=other_project.team, name="Theirs", steps_json=[{"event": "$pageview"}])
    stolen = behavioral(foreign.pk, "performed_event", event_type="actions", time_value=7, time_interval="day")
    for call in (lambda: validate_filters(tree(stolen), team=project.team),
                 lambda: members_select(project.team, tree(stolen), now=NOW)):  # fmt: skip
        with pytest.raises(ValidationError) as error:
            call()
        assert str(error.value.detail[0]) == f"Action {foreign.pk} does not exist"


# ---------------------------------------------------------------------------------------------------
# performed_event_multiple


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("gte", {"TWO", "THREE"}),
        ("lte", {"ONE", "TWO"}),  # NONE_IN_WINDOW has no event in the window, so is never counted
        ("gt", {"THREE"}),
        ("lt", {"ONE"}),
        ("eq", {"TWO"}),
        ("exact", {"TWO"}),
        (None, {"TWO"}),
    ],
)
def test_performed_event_multiple_operators(project: Any, operator: str | None, expected: set[str]) -> None:
    people = [
        ("ONE", {}, [("purchase", at(8, 0)), ("purchase", at(7, 23))]),
        ("TWO", {}, [("purchase", at(9)), ("purchase", at(15, 23))]),
        ("THREE", {}, [("purchase", at(9)), ("purchase", at(10)), ("purchase", at(11))]),
        ("NONE_IN_WINDOW", {}, [("purchase", at(1)), ("purchase", at(2))]),
    ]
    item = window_7("performed_event_multiple", operator_value=2, **({"operator": operator} if operator else {}))
    assert check(project, people, item) == expected


# ---------------------------------------------------------------------------------------------------
# performed_event_first_time


@pytest.mark.clickhouse
def test_performed_event_first_time(project: Any) -> None:
    people = [
        ("NEW", {}, [("purchase", at(10))]),
        ("REPEAT", {}, [("purchase", at(1)), ("purchase", at(10))]),
        ("ON_START", {}, [("purchase", at(8, 0)), ("purchase", at(12))]),
        ("TOO_EARLY", {}, [("purchase", at(7, 23, 59, 59))]),
    ]
    assert check(project, people, window_7("performed_event_first_time")) == {"NEW", "ON_START"}


@pytest.mark.clickhouse
def test_performed_event_first_time_in_an_explicit_window(project: Any) -> None:
    people = [
        ("IN", {}, [("purchase", at(10, 0)), ("purchase", at(14))]),
        ("LAST_DAY", {}, [("purchase", at(12, 23, 59, 59))]),
        ("EARLIER", {}, [("purchase", at(9, 23, 59, 59)), ("purchase", at(11))]),
        ("LATER", {}, [("purchase", at(13, 0))]),
    ]
    item = behavioral(
        "purchase", "performed_event_first_time", explicit_datetime="2024-03-10", explicit_datetime_to="2024-03-12"
    )
    assert check(project, people, item) == {"IN", "LAST_DAY"}


@pytest.mark.clickhouse
def test_performed_event_first_time_with_event_filters(project: Any) -> None:
    people = [
        ("FIRST_IS_PRO", {}, [(("purchase", {"plan": "pro"}), at(10))]),
        ("FIRST_IS_FREE", {}, [(("purchase", {"plan": "free"}), at(10)), (("purchase", {"plan": "pro"}), at(12))]),
    ]
    filters = [{"type": "event", "key": "plan", "value": "pro", "operator": "exact"}]
    # the person's first purchase ever must be the pro one (PostHog's first_time_for_user)
    assert check(project, people, window_7("performed_event_first_time", event_filters=filters)) == {"FIRST_IS_PRO"}


# ---------------------------------------------------------------------------------------------------
# performed_event_regularly


@pytest.mark.clickhouse
def test_performed_event_regularly_daily(project: Any) -> None:
    # periods: [03-14, 03-15), [03-13, 03-14), [03-12, 03-13); today does not count
    people = [
        ("TWO_PERIODS", {}, [("purchase", at(14, 9)), ("purchase", at(12, 10))]),
        ("ONE_PERIOD", {}, [("purchase", at(14, 9)), ("purchase", at(14, 10))]),
        ("TODAY_DOES_NOT_COUNT", {}, [("purchase", at(15, 9)), ("purchase", at(14, 10))]),
        ("EDGES", {}, [("purchase", at(13, 0)), ("purchase", at(12, 0))]),
        ("LATE_EDGES", {}, [("purchase", at(14, 23, 59, 59)), ("purchase", at(11, 23, 59, 59))]),
    ]
    item = behavioral("purchase", "performed_event_regularly", time_value=1, time_interval="day", operator="gte",
                      operator_value=1, min_periods=2, total_periods=3)  # fmt: skip
    assert check(project, people, item) == {"TWO_PERIODS", "EDGES"}


@pytest.mark.clickhouse
def test_performed_event_regularly_longer_periods_and_exact_counts(project: Any) -> None:
    # two-day periods [03-13, 03-15) and [03-11, 03-13); exactly 2 events in each
    people = [
        ("BOTH", {}, [("purchase", at(11, 0)), ("purchase", at(12)), ("purchase", at(13)),
                      ("purchase", at(14, 23, 59, 59)), ("purchase", at(15))]),
        ("RECENT_ONLY", {}, [("purchase", at(13, 0)), ("purchase", at(14))]),
        ("THREE_IN_ONE", {}, [("purchase", at(11)), ("purchase", at(12)), ("purchase", at(13)),
                              ("purchase", at(14)), ("purchase", at(14, 13))]),
    ]  # fmt: skip
    item = behavioral("purchase", "performed_event_regularly", time_value=2, time_interval="day", operator="eq",
                      operator_value=2, min_periods=2, total_periods=2)  # fmt: skip
    assert check(project, people, item) == {"BOTH"}


# ---------------------------------------------------------------------------------------------------
# stopped / restarted


def login_window(kind: str) -> dict[str, Any]:
    # far bound: 30 days back = 2024-02-14 00:00; recent bound: 7 days back = 2024-03-08 00:00
    return behavioral("login", kind, time_value=30, time_interval="day", seq_time_value=7, seq_time_interval="day")


@pytest.mark.clickhouse
def test_stopped_performing_event(project: Any) -> None:
    people = [
        ("STOPPED", {}, [("login", at(1))]),
        ("STILL_GOING", {}, [("login", at(1)), ("login", at(10))]),
        ("TOO_EARLY", {}, [("login", at(13, 23, 59, month=2))]),
        ("LAST_BEFORE_RECENT", {}, [("login", at(7, 23, 59, 59))]),
        ("ON_RECENT_BOUND", {}, [("login", at(8, 0))]),
        ("ON_FAR_BOUND", {}, [("login", at(14, 0, month=2))]),
    ]
    assert check(project, people, login_window("stopped_performing_event")) == {
        "STOPPED", "LAST_BEFORE_RECENT", "ON_FAR_BOUND"
    }  # fmt: skip


@pytest.mark.clickhouse
def test_restarted_performing_event(project: Any) -> None:
    people = [
        ("RESTARTED", {}, [("login", at(1, month=2)), ("login", at(10))]),
        ("NEVER_STOPPED", {}, [("login", at(1, month=2)), ("login", at(1)), ("login", at(10))]),
        ("NEW", {}, [("login", at(10))]),
        ("GONE", {}, [("login", at(1, month=2))]),
        ("BOUNDS", {}, [("login", at(13, 23, 59, 59, month=2)), ("login", at(8, 0))]),
        ("FAR_BOUND_IS_THE_GAP", {}, [("login", at(14, 0, month=2)), ("login", at(10))]),
    ]
    assert check(project, people, login_window("restarted_performing_event")) == {"RESTARTED", "BOUNDS"}


# ---------------------------------------------------------------------------------------------------
# performed_event_sequence


@pytest.mark.clickhouse
def test_performed_event_sequence(project: Any) -> None:
    people = [
        ("SAME_DAY", {}, [("signup", at(10, 10)), ("purchase", at(10, 20))]),
        ("EXACTLY_A_DAY", {}, [("signup", at(10, 10)), ("purchase", at(11, 10))]),
        ("A_SECOND_LATE", {}, [("signup", at(10, 10)), ("purchase", at(11, 10, 0, 1))]),
        ("WRONG_ORDER", {}, [("purchase", at(10, 9)), ("signup", at(10, 10))]),
        ("SIMULTANEOUS", {}, [("signup", at(10, 10)), ("purchase", at(10, 10))]),
        ("BEFORE_WINDOW", {}, [("signup", at(1)), ("purchase", at(1, 13))]),
        ("SECOND_SIGNUP", {}, [("signup", at(7, 23)), ("signup", at(9, 10)), ("purchase", at(9, 12))]),
    ]
    item = window_7("performed_event_sequence", key="signup", seq_event="purchase", seq_event_type="events",
                    seq_time_value=1, seq_time_interval="day")  # fmt: skip
    assert check(project, people, item) == {"SAME_DAY", "EXACTLY_A_DAY", "SECOND_SIGNUP"}


@pytest.mark.clickhouse
def test_performed_event_sequence_of_the_same_event(project: Any) -> None:
    people = [
        ("ONCE", {}, [("$pageview", at(10))]),
        ("TWICE", {}, [("$pageview", at(10)), ("$pageview", at(10, 13))]),
    ]
    item = window_7("performed_event_sequence", key="$pageview", seq_event="$pageview", seq_event_type="events",
                    seq_time_value=1, seq_time_interval="day")  # fmt: skip
    assert check(project, people, item) == {"TWICE"}


# ---------------------------------------------------------------------------------------------------
# with person properties, negated


@pytest.mark.clickhouse
def test_negated_behavioral_filter_subtracts(project: Any) -> None:
    people = [
        ("PRO_BUYER", {"plan": "pro"}, [("purchase", at(10))]),
        ("PRO_IDLE", {"plan": "pro"}, [("purchase", at(1))]),
        ("FREE_IDLE", {"plan": "free"}, []),
    ]
    ids = load_people(project.team.pk, people)
    filters = tree(person("plan", "exact", "pro"), window_7(negation=True))
    assert members(project.team, filters, ids, now=NOW) == {"PRO_IDLE"}
