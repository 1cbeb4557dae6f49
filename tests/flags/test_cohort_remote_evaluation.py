"""Remote evaluation of cohort conditions through /flags and /decide (every version): static cohorts by
their Postgres members, dynamic ones by their person-property tree (nested, negated), and everything that
must never match (filters on events, deleted, missing, looping, another project's cohort)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cohorts.models import Cohort, CohortPeople
from flags.cohort_tree import CohortDefinition, cohort_properties
from flags.evaluation import EvaluationContext, FlagDefinition, evaluate_flag
from flags.models import FeatureFlag
from persons.models import Person
from tests.flags.cohort_fixtures import (
    c1,
    cohort,
    cohort_condition,
    flag_on,
    in_cohort,
    make_people,
    or_of_ands,
    performed,
    person,
)

DISTINCT_IDS = ["p1", "p2", "p3", "p4", "p5", "stranger"]  # "stranger" has no person

# flag key → the distinct ids it is enabled for, worked out by hand from the §8.2 people:
# p1 a@acme.com pro, p2 b@acme.com free, p3 c@other.io pro, p4 d@ACME.com enterprise, p5 nothing.
EXPECTED = {
    "f-c1": {"p1", "p4"},  # icontains is case-insensitive: d@ACME.com is in
    "f-c7": {"p1", "p3"},  # `plan exact "PRO"` matches "pro" in flags (ClickHouse would say nobody)
    "f-static": {"p2", "p5"},
    "f-nested": {"p1", "p3", "p4"},
    "f-negated-cohort": {"p3"},
    "f-negated-person": {"p1", "p4"},
    "f-not-in": {"p2", "p3", "p5", "stranger"},
    "f-static-nested": {"p2"},
    "f-and-person": {"p4"},
    "f-behavioral": set(),
    "f-behavioral-nested": set(),
    "f-deleted": set(),
    "f-missing": set(),
    "f-loop": set(),
    "f-foreign": set(),
    "f-foreign-static": set(),
}


@pytest.fixture
def world(project: Any, other_project: Any) -> dict[str, Any]:
    team = project.team
    people = make_people(team)
    first = c1(team)
    c2 = cohort(team, "C2", or_of_ands([performed("purchase")]))
    c5 = cohort(team, "C5", or_of_ands([in_cohort(first), in_cohort(c2, negation=True)]))
    c7 = cohort(team, "C7", or_of_ands([person("plan", "PRO")]))
    s1 = cohort(team, "S1", is_static=True, members=(people["p2"], people["p5"]))
    nested = cohort(team, "C8", or_of_ands([in_cohort(first)], [person("email", "other.io", "icontains")]))
    negated_cohort = cohort(team, "C9", or_of_ands([person("plan", "pro"), in_cohort(first, negation=True)]))
    negated_person = cohort(
        team, "C10", or_of_ands([person("email", "acme", "icontains"), person("plan", "free", negation=True)])
    )
    static_nested = cohort(team, "C11", or_of_ands([in_cohort(s1), person("plan", "free")]))
    deleted = cohort(team, "D", or_of_ands([person("email", "", "is_set")]), deleted=True)
    loop_a = cohort(team, "L1", or_of_ands([person("plan", "pro")]))
    loop_b = cohort(team, "L2", or_of_ands([in_cohort(loop_a)]))
    loop_a.filters = {"properties": or_of_ands([person("plan", "pro"), in_cohort(loop_b)])}
    loop_a.save()
    foreign = cohort(other_project.team, "everyone", or_of_ands([person("email", "", "is_set")]))
    foreign_static = cohort(other_project.team, "theirs", is_static=True, members=(people["p1"],))
    for key, target in [
        ("f-c1", first),
        ("f-c7", c7),
        ("f-static", s1),
        ("f-nested", nested),
        ("f-negated-cohort", negated_cohort),
        ("f-negated-person", negated_person),
        ("f-static-nested", static_nested),
        ("f-behavioral", c2),
        ("f-behavioral-nested", c5),
        ("f-deleted", deleted),
        ("f-missing", 999_999),
        ("f-loop", loop_a),
        ("f-foreign", foreign),
        ("f-foreign-static", foreign_static),
    ]:
        flag_on(team, key, cohort_condition(target))
    flag_on(team, "f-not-in", cohort_condition(first, operator="not_in"))
    and_person = cohort_condition(first)
    and_person["properties"].append(person("email", "d@", "icontains"))
    flag_on(team, "f-and-person", and_person)
    return {"people": people, "c1": first, "s1": s1}


def post(path: str, body: dict[str, Any]) -> Any:
    response = Client().post(path, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def enabled_keys(path: str, token: str, distinct_id: str, **more: Any) -> set[str]:
    """The enabled flags, read from whichever shape `path` answers in."""
    body = post(path, {"token": token, "distinct_id": distinct_id, **more})
    if "flags" in body:
        return {key for key, flag in body["flags"].items() if flag["enabled"]}
    flags = body["featureFlags"]
    return set(flags) if isinstance(flags, list) else {key for key, value in flags.items() if value}


def expected_for(distinct_id: str) -> set[str]:
    return {key for key, ids in EXPECTED.items() if distinct_id in ids}


@pytest.mark.parametrize(
    "path", ["/flags/?v=2", "/flags/", "/flags/?v=1", "/decide/?v=1", "/decide/?v=2", "/decide/?v=3", "/decide/?v=4"]
)
def test_cohort_conditions_on_every_endpoint_version(project: Any, world: dict[str, Any], path: str) -> None:
    for distinct_id in DISTINCT_IDS:
        assert enabled_keys(path, project.team.api_token, distinct_id) == expected_for(distinct_id), distinct_id


def test_reasons(project: Any, world: dict[str, Any]) -> None:
    p4 = post("/flags/?v=2", {"token": project.team.api_token, "distinct_id": "p4"})["flags"]
    assert p4["f-c1"]["reason"] == {
        "code": "condition_match",
        "condition_index": 0,
        "description": "Matched condition set 1",
    }
    p2 = post("/flags/?v=2", {"token": project.team.api_token, "distinct_id": "p2"})["flags"]
    assert p2["f-c1"]["reason"]["code"] == "no_condition_match"
    assert p2["f-behavioral"]["reason"]["code"] == "no_condition_match"


def test_request_properties_override_stored_ones(project: Any, world: dict[str, Any]) -> None:
    token = project.team.api_token
    assert "f-c1" in enabled_keys("/flags/?v=2", token, "p2", person_properties={"plan": "Pro"})
    assert "f-c1" not in enabled_keys("/flags/?v=2", token, "p1", person_properties={"email": "a@other.io"})


def test_static_members_are_read_per_request(project: Any, world: dict[str, Any]) -> None:
    token = project.team.api_token
    assert "f-static" not in enabled_keys("/flags/?v=2", token, "p1")
    CohortPeople.objects.create(cohort=world["s1"], person=world["people"]["p1"])
    assert "f-static" in enabled_keys("/flags/?v=2", token, "p1")


def test_cohort_edits_reach_flags(project: Any, world: dict[str, Any]) -> None:
    token = project.team.api_token
    assert "f-c1" not in enabled_keys("/flags/?v=2", token, "p3")
    first: Cohort = world["c1"]
    first.filters = {"properties": or_of_ands([person("plan", "pro")])}
    first.save()
    assert "f-c1" in enabled_keys("/flags/?v=2", token, "p3")
    first.deleted = True
    first.save()
    assert "f-c1" not in enabled_keys("/flags/?v=2", token, "p1")


def test_queries_do_not_grow_with_cohorts(project: Any, world: dict[str, Any]) -> None:
    """Definitions are cached; a request reads the person once and its static cohorts once."""
    body = {"token": project.team.api_token, "distinct_id": "p2"}
    post("/flags/?v=2", body)
    with CaptureQueriesContext(connection) as queries:
        post("/flags/?v=2", body)
    sql = [q["sql"] for q in queries]
    assert len(sql) == 2, sql
    assert 'FROM "ingestion_person"' in sql[0]
    assert 'FROM "cohorts_cohortpeople"' in sql[1]


def test_no_person_lookup_without_person_conditions(project: Any) -> None:
    FeatureFlag.objects.create(team=project.team, key="all", filters={"groups": [{"rollout_percentage": 100}]})
    body = {"token": project.team.api_token, "distinct_id": "p1"}
    post("/flags/?v=2", body)
    with CaptureQueriesContext(connection) as queries:
        post("/flags/?v=2", body)
    assert len(queries) == 0, [q["sql"] for q in queries]


def test_another_projects_flag_on_our_cohort_never_matches(
    project: Any, other_project: Any, world: dict[str, Any]
) -> None:
    """A cohort id of this project named by the other project's flag: their persons are not looked up here,
    and the cohort is not theirs."""
    theirs = Person.objects.create(team=other_project.team, properties={"plan": "pro"}, created_at="2026-11-01T00:00Z")
    theirs.distinct_ids.create(team=other_project.team, distinct_id="p1")
    flag_on(other_project.team, "borrowed", cohort_condition(world["c1"]), cohort_condition(world["s1"]))
    assert enabled_keys("/flags/?v=2", other_project.team.api_token, "p1") == set()


# ---------------------------------------------------------------------------------------------------
# The matcher on its own (pure): shapes the API may not produce but stored rows can hold


def matches(tree: Any, person_properties: dict[str, Any], *, groups: Any = None, value: Any = 7) -> bool:
    props = cohort_properties(
        is_static=False, filters={"properties": tree} if tree is not None else None, groups=groups
    )
    ctx = EvaluationContext(
        distinct_id="someone",
        person_properties=person_properties,
        cohorts={7: CohortDefinition(id=7, name="C", is_static=False, properties=props)},
    )
    flag = FlagDefinition(id=1, key="f", active=True, filters={"groups": [cohort_condition(value)]})
    return evaluate_flag(flag, ctx).enabled


PRO = person("plan", "pro")
PURE = [
    ("person filter", or_of_ands([PRO]), {"plan": "PRO"}, True),
    ("id given as a string", or_of_ands([PRO]), {"plan": "pro"}, True),
    ("flat list is an AND", [PRO, person("email", "x", "icontains")], {"plan": "pro", "email": "y"}, False),
    ("missing property, negated", or_of_ands([person("plan", "pro", negation=True)]), {}, True),
    ("operator flags do not know, negated", or_of_ands([person("plan", ["pro"], "in", negation=True)]), {}, False),
    ("behavioural branch of an OR", or_of_ands([PRO], [performed("buy")]), {"plan": "pro"}, False),
    ("negated behavioural filter", or_of_ands([PRO, {**performed("buy"), "negation": True}]), {"plan": "pro"}, False),
    ("event property filter", or_of_ands([{"key": "$browser", "type": "event", "value": "x"}]), {}, False),
    ("no filters at all", None, {}, True),
]


@pytest.mark.parametrize(("name", "tree", "properties", "expected"), PURE, ids=[p[0] for p in PURE])
def test_matcher(name: str, tree: Any, properties: dict[str, Any], expected: bool) -> None:
    assert matches(tree, properties, value="7" if "string" in name else 7) is expected


def test_legacy_groups() -> None:
    legacy = [
        {"properties": [{"key": "plan", "value": "pro", "type": "person"}]},
        {"properties": [{"key": "vip", "value": "yes"}]},
    ]
    assert matches(None, {"plan": "pro"}, groups=legacy) is True
    assert matches(None, {"vip": "YES"}, groups=legacy) is True
    assert matches(None, {"plan": "free"}, groups=legacy) is False
    assert matches(None, {"plan": "pro"}, groups=[*legacy, {"action_id": 3, "days": 7}]) is False
