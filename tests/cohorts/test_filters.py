"""Dynamic cohort members (cohorts.filters.members_select run through query.runner.hogql_execute): the reference's
§8.2 vectors C1–C7, nested groups and negation, cohorts in cohorts (dynamic, static, deleted, loops), and
isolation. Persons and events go straight into ClickHouse; every expected member list is worked out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.exceptions import ValidationError

from cohorts.filters import members_select, validate_filters
from cohorts.models import Cohort, CohortPeople
from persons.models import Person
from query.runner import hogql_execute
from tests.query.conftest import insert_events, insert_person

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()  # property types are cached per project id, which tests reuse
    yield
    cache.clear()


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


# §8.2: (name, properties, [(event, days ago), ...])
PEOPLE: list[tuple[str, dict[str, Any], list[tuple[str, float]]]] = [
    (
        "P1",
        {"email": "a@acme.com", "plan": "pro"},
        [("purchase", 3), ("$pageview", 1), ("$pageview", 2), ("$pageview", 5), ("login", 10)],
    ),
    (
        "P2",
        {"email": "b@acme.com", "plan": "free"},
        [("purchase", 45), ("$pageview", 1), ("$pageview", 4), ("login", 10), ("login", 2)],
    ),
    (
        "P3",
        {"email": "c@other.io", "plan": "pro"},
        [("purchase", 10), *[("$pageview", d) for d in (2, 6, 9, 12, 20)], ("login", 40)],
    ),
    ("P4", {"email": "d@ACME.com", "plan": "enterprise"}, []),
    ("P5", {}, [("purchase", 1)]),
]


def load_people(team_id: int, people: list[tuple[str, dict[str, Any], list[tuple[str, Any]]]]) -> dict[str, str]:
    """Insert each person (distinct id = lower-cased name) and its events; name → person id."""
    ids, events = {}, []
    for name, properties, happened in people:
        ids[name] = insert_person(team_id, [name.lower()], properties)
        for event, when in happened:
            moment = days_ago(when) if isinstance(when, (int, float)) else when
            props = {}
            if isinstance(event, tuple):
                event, props = event
            events.append({"distinct_id": name.lower(), "event": event, "timestamp": moment, "properties": props})
    if events:
        insert_events(team_id, events)
    return ids


def members(team: Any, cohort: Cohort | dict[str, Any], ids: dict[str, str], now: dt.datetime = NOW) -> set[str]:
    names = {person_id: name for name, person_id in ids.items()}
    result = hogql_execute(team=team, query=members_select(team, cohort, now=now), limit=1000)
    assert result.columns == ["id"]
    return {names.get(row[0], f"stranger {row[0]}") for row in result.results}


def person(key: str, operator: str, value: Any = None, negation: bool = False) -> dict[str, Any]:
    item = {"type": "person", "key": key, "operator": operator, "negation": negation}
    return item if value is None else {**item, "value": value}


def behavioral(key: Any, kind: str, negation: bool = False, event_type: str = "events", **extra: Any) -> dict[str, Any]:
    return {"type": "behavioral", "key": key, "value": kind, "event_type": event_type, "negation": negation, **extra}


def in_cohort(cohort: Cohort, negation: bool = False) -> dict[str, Any]:
    return {"type": "cohort", "key": "id", "value": cohort.pk, "negation": negation}


def tree(*values: dict[str, Any], kind: str = "AND") -> dict[str, Any]:
    """filters = OR[<kind>[values]] (the usual top level)."""
    return {"properties": {"type": "OR", "values": [{"type": kind, "values": list(values)}]}}


def saved(team: Any, filters: dict[str, Any], **fields: Any) -> Cohort:
    return Cohort.objects.create(team=team, name=fields.pop("name", "c"), filters=filters, **fields)


C1 = tree(person("email", "icontains", "@acme.com"), person("plan", "exact", ["pro", "enterprise"]))
C2 = tree(behavioral("purchase", "performed_event", time_value=30, time_interval="day"))
C3 = tree(
    behavioral("$pageview", "performed_event_multiple", operator="gte", operator_value=3, time_value=7,
               time_interval="day")
)  # fmt: skip
C4 = tree(
    behavioral("login", "stopped_performing_event", time_value=30, time_interval="day", seq_time_value=7,
               seq_time_interval="day")
)  # fmt: skip
C7 = tree(person("plan", "exact", "PRO"))


@pytest.fixture
def people(project: Any) -> dict[str, str]:
    return load_people(project.team.pk, PEOPLE)


# ---------------------------------------------------------------------------------------------------
# §8.2


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param(C1, {"P1", "P4"}, id="C1-person-properties"),
        pytest.param(C2, {"P1", "P3", "P5"}, id="C2-performed-event"),
        pytest.param(C3, {"P1"}, id="C3-performed-event-multiple"),
        pytest.param(C4, {"P1"}, id="C4-stopped-performing"),
        pytest.param(C7, set(), id="C7-exact-is-case-sensitive"),
    ],
)
def test_reference_vectors(project: Any, people: dict[str, str], filters: dict[str, Any], expected: set[str]) -> None:
    validate_filters(filters, team=project.team)
    assert members(project.team, filters, people) == expected


@pytest.mark.clickhouse
def test_c5_cohort_in_cohort_with_negation(project: Any, people: dict[str, str]) -> None:
    c1, c2 = saved(project.team, C1), saved(project.team, C2)
    c5 = saved(project.team, tree(in_cohort(c1), in_cohort(c2, negation=True)))
    assert members(project.team, c5, people) == {"P4"}  # {P1, P4} minus {P1, P3, P5}


@pytest.mark.clickhouse
def test_c6_a_lone_negation_is_refused(project: Any, people: dict[str, str]) -> None:
    c2 = saved(project.team, C2)
    c6 = saved(project.team, tree(in_cohort(c2, negation=True)))
    with pytest.raises(ValidationError) as error:
        members_select(project.team, c6, now=NOW)
    assert str(error.value.detail[0]) == "Negations must be paired with a positive filter."


@pytest.mark.clickhouse
def test_a_cohort_saved_with_legacy_groups_is_read_as_person_filters(project: Any, people: dict[str, str]) -> None:
    legacy = Cohort.objects.create(team=project.team, name="old", groups=[{"properties": {"plan": "pro"}}])
    assert members(project.team, legacy, people) == {"P1", "P3"}


# ---------------------------------------------------------------------------------------------------
# nested groups and negation


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        pytest.param(
            {"type": "OR", "values": [
                {"type": "AND", "values": [
                    person("email", "icontains", "@acme.com"), person("plan", "exact", "free", negation=True)]},
                {"type": "AND", "values": [
                    C2["properties"]["values"][0]["values"][0], person("plan", "exact", "pro")]},
            ]},
            {"P1", "P3", "P4"},  # {P1, P4} ∪ {P1, P3}
            id="or-of-ands",
        ),
        pytest.param(
            {"type": "AND", "values": [
                {"type": "OR", "values": [person("plan", "exact", "enterprise"), person("plan", "exact", "free")]},
                behavioral("login", "performed_event", negation=True, time_value=30, time_interval="day"),
            ]},
            {"P4"},  # {P2, P4} minus login in 30 days {P1, P2}
            id="and-of-or-minus-behavioral",
        ),
        pytest.param(
            {"type": "AND", "values": [
                C2["properties"]["values"][0]["values"][0], person("plan", "exact", "pro", negation=True)]},
            {"P5"},  # {P1, P3, P5} minus pro {P1, P3}: P5 has no plan at all, so is not "pro"
            id="negated-property-keeps-persons-without-it",
        ),
        pytest.param(
            {"type": "AND", "values": [
                person("email", "icontains", "acme"),
                {"type": "OR", "values": [
                    person("plan", "exact", "pro"),
                    behavioral("login", "performed_event", negation=True, time_value=30, time_interval="day"),
                ]},
            ]},
            {"P1", "P4"},  # {P1, P2, P4} ∩ (pro {P1, P3} ∪ no login in 30 days {P3, P4, P5})
            id="negation-inside-or-paired-by-the-parent",
        ),
        pytest.param(
            {"type": "OR", "values": [{"type": "AND", "values": [
                {"type": "AND", "values": [{"type": "OR", "values": [person("plan", "is_set")]}]},
                person("email", "not_icontains", "acme")]}]},
            {"P3"},  # plan set {P1..P4}, email without "acme" (case-insensitive) {P3, P5}
            id="deeply-nested",
        ),
        pytest.param({"type": "AND", "values": []}, set(), id="no-criteria-no-members"),
    ],
)  # fmt: skip
def test_nested_groups(project: Any, people: dict[str, str], properties: dict[str, Any], expected: set[str]) -> None:
    filters = {"properties": properties}
    validate_filters(filters, team=project.team)
    assert members(project.team, filters, people) == expected


# ---------------------------------------------------------------------------------------------------
# cohorts in cohorts


def listed(team: Any, cohort: Cohort, person_ids: list[str]) -> None:
    for person_id in person_ids:
        row = Person.objects.create(team=team, uuid=person_id, created_at=NOW)
        CohortPeople.objects.create(cohort=cohort, person=row)


@pytest.mark.clickhouse
def test_a_static_cohort_contributes_its_listed_members(project: Any, people: dict[str, str]) -> None:
    static = saved(project.team, None, is_static=True)
    listed(project.team, static, [people["P1"], people["P2"], people["P4"]])
    assert members(project.team, static, people) == {"P1", "P2", "P4"}
    both = tree(in_cohort(static), person("plan", "exact", ["pro", "free"]))
    assert members(project.team, both, people) == {"P1", "P2"}
    minus = tree(person("plan", "is_set"), in_cohort(static, negation=True))
    assert members(project.team, minus, people) == {"P3"}
    empty = saved(project.team, None, is_static=True)
    assert members(project.team, tree(person("plan", "is_set"), in_cohort(empty)), people) == set()


@pytest.mark.clickhouse
def test_a_static_cohort_too_large_to_inline_is_refused(project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cohorts.filters.compile.STATIC_LIST_LIMIT", 1)
    ids = load_people(project.team.pk, PEOPLE)
    static = saved(project.team, None, is_static=True)
    listed(project.team, static, [ids["P1"], ids["P2"]])
    with pytest.raises(ValidationError) as error:
        members_select(project.team, tree(person("plan", "is_set"), in_cohort(static)), now=NOW)
    assert str(error.value.detail[0]) == (
        f"Cohort {static.pk} is a static cohort of 2 persons: a dynamic cohort can include static cohorts of up to 1 "
        "persons"
    )


@pytest.mark.clickhouse
def test_nested_dynamic_cohorts_are_compiled_in_place(project: Any, people: dict[str, str]) -> None:
    c1 = saved(project.team, C1)  # {P1, P4}
    middle = saved(
        project.team, {"properties": {"type": "OR", "values": [in_cohort(c1), person("plan", "exact", "free")]}}
    )
    outer = saved(project.team, tree(in_cohort(middle), person("email", "icontains", "acme.com")))
    assert members(project.team, outer, people) == {"P1", "P2", "P4"}


@pytest.mark.clickhouse
def test_a_deleted_referenced_cohort_has_no_members(project: Any, people: dict[str, str]) -> None:
    gone = saved(project.team, tree(person("plan", "exact", "pro")), deleted=True)
    assert members(project.team, tree(person("plan", "is_set"), in_cohort(gone)), people) == set()
    assert members(project.team, tree(person("plan", "is_set"), in_cohort(gone, negation=True)), people) == {
        "P1", "P2", "P3", "P4"
    }  # fmt: skip


@pytest.mark.clickhouse
def test_a_stored_loop_fails_the_calculation(project: Any, people: dict[str, str]) -> None:
    a = saved(project.team, C1)
    b = saved(project.team, tree(in_cohort(a)))
    a.filters = tree(in_cohort(b))
    a.save()  # written around validation, as an old row could be
    with pytest.raises(ValidationError) as error:
        members_select(project.team, a, now=NOW)
    assert str(error.value.detail[0]) == "Cohorts cannot reference other cohorts in a loop."


# ---------------------------------------------------------------------------------------------------
# isolation


@pytest.mark.clickhouse
def test_another_projects_persons_and_events_never_count(project: Any, other_project: Any) -> None:
    ours = load_people(project.team.pk, PEOPLE)
    # The other project has the same distinct ids, properties and events, and persons of its own.
    load_people(other_project.team.pk, [*PEOPLE, ("P6", {"plan": "pro", "email": "x@acme.com"}, [])])
    for filters, expected in ((C1, {"P1", "P4"}), (C2, {"P1", "P3", "P5"}), (C3, {"P1"}), (C4, {"P1"})):
        assert members(project.team, filters, ours) == expected  # a foreign id would show as "stranger …"


@pytest.mark.clickhouse
def test_another_projects_cohort_cannot_be_referenced(project: Any, other_project: Any) -> None:
    load_people(project.team.pk, PEOPLE)
    foreign = saved(other_project.team, C1)
    filters = tree(person("plan", "is_set"), in_cohort(foreign))
    with pytest.raises(ValidationError) as error:
        members_select(project.team, filters, now=NOW)
    assert str(error.value.detail[0]) == "Invalid Cohort ID in filter"
    with pytest.raises(ValidationError):
        validate_filters(filters, team=project.team)


# ---------------------------------------------------------------------------------------------------
# through capture and ingestion


@pytest.mark.clickhouse
def test_members_of_what_the_python_sdk_captured(live_server: Any, project: Any, other_project: Any) -> None:
    from posthog import Posthog
    from posthog import request as posthog_request

    from ingestion.worker import flush

    def send(token: str, distinct_id: str, pageviews: int, email: str) -> None:
        sdk = Posthog(token, host=live_server.url, sync_mode=True, max_retries=0)
        for _ in range(pageviews):
            sdk.capture("$pageview", distinct_id=f"anon-{distinct_id}")
        sdk.alias(previous_id=f"anon-{distinct_id}", distinct_id=distinct_id)
        sdk.set(distinct_id=distinct_id, properties={"email": email})
        sdk.shutdown()

    try:
        send(project.team.api_token, "fan", 3, "fan@acme.com")
        send(project.team.api_token, "browser", 1, "browser@acme.com")
        send(project.team.api_token, "outsider", 4, "out@other.io")
        send(other_project.team.api_token, "fan", 3, "fan@acme.com")
        flush()
    finally:
        posthog_request._get_session().close()

    filters = tree(
        person("email", "icontains", "acme"),
        behavioral("$pageview", "performed_event_multiple", operator="gte", operator_value=3, time_value=1,
                   time_interval="day"),
    )  # fmt: skip
    found = hogql_execute(
        team=project.team, query=members_select(project.team, validate_filters(filters, team=project.team))
    )
    fans = hogql_execute(team=project.team, query="SELECT id FROM persons WHERE properties.email = 'fan@acme.com'")
    assert len(fans.results) == 1
    assert found.results == fans.results
