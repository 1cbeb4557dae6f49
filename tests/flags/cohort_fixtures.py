"""People and cohorts of the reference's §8.2 fixture (person properties only: flags never read events), and
builders of cohort filters and cohort-targeted flags, for the flag ↔ cohort tests."""

from __future__ import annotations

from typing import Any

from cohorts.models import Cohort, CohortPeople
from flags.models import FeatureFlag
from persons.models import Person, PersonDistinctId
from posthog_clone.accounts.models import Team

# distinct id → stored person properties (P1..P5 of §8.2)
PEOPLE: dict[str, dict[str, Any]] = {
    "p1": {"email": "a@acme.com", "plan": "pro"},
    "p2": {"email": "b@acme.com", "plan": "free"},
    "p3": {"email": "c@other.io", "plan": "pro"},
    "p4": {"email": "d@ACME.com", "plan": "enterprise"},
    "p5": {},
}


def make_people(team: Team) -> dict[str, Person]:
    out = {}
    for distinct_id, properties in PEOPLE.items():
        person = Person.objects.create(team=team, properties=properties, created_at="2026-11-01T00:00Z")
        PersonDistinctId.objects.create(team=team, person=person, distinct_id=distinct_id)
        out[distinct_id] = person
    return out


def person(key: str, value: Any, operator: str = "exact", negation: bool = False) -> dict[str, Any]:
    return {"key": key, "type": "person", "value": value, "operator": operator, "negation": negation}


def in_cohort(target: Cohort | int, negation: bool = False) -> dict[str, Any]:
    return {"key": "id", "type": "cohort", "value": getattr(target, "pk", target), "negation": negation}


def performed(event: str, days: int = 30) -> dict[str, Any]:
    return {
        "key": event,
        "type": "behavioral",
        "value": "performed_event",
        "event_type": "events",
        "time_value": days,
        "time_interval": "day",
        "negation": False,
    }


def or_of_ands(*ands: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "OR", "values": [{"type": "AND", "values": list(values)} for values in ands]}


def cohort(
    team: Team, name: str, properties: dict[str, Any] | None = None, *, members: tuple[Person, ...] = (), **fields: Any
) -> Cohort:
    """A dynamic cohort of `properties`, or (with `is_static=True`) a static one listing `members`."""
    filters = {"properties": properties} if properties is not None else None
    made = Cohort.objects.create(team=team, name=name, filters=filters, **fields)
    for member in members:
        CohortPeople.objects.create(cohort=made, person=member)
    return made


def c1(team: Team) -> Cohort:
    return cohort(
        team, "C1", or_of_ands([person("email", "@acme.com", "icontains"), person("plan", ["pro", "enterprise"])])
    )


def cohort_condition(target: Cohort | int, operator: str | None = None, **more: Any) -> dict[str, Any]:
    prop: dict[str, Any] = {"key": "id", "type": "cohort", "value": getattr(target, "pk", target)}
    if operator is not None:
        prop["operator"] = operator
    return {"properties": [prop], "rollout_percentage": 100, **more}


def flag_on(team: Team, key: str, *conditions: dict[str, Any], **filters: Any) -> FeatureFlag:
    """A flag stored as is (no save validation: some tests need what the API refuses)."""
    return FeatureFlag.objects.create(team=team, key=key, filters={"groups": list(conditions), **filters})
