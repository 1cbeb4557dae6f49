"""Schema enforcement: the pure rule (tables) and the per-project cached rules behind `violations`."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from definitions import enforcement
from definitions.enforcement import PropertyRule, check_properties, merge_rules, type_matches, violations
from definitions.models import EventDefinition, EventSchema, SchemaPropertyGroup, SchemaPropertyGroupProperty

TYPE_CASES = [
    ("String", "x", True),
    ("String", 0, True),
    ("String", False, True),
    ("String", {"a": 1}, True),
    ("Numeric", 1, True),
    ("Numeric", 1.5, True),
    ("Numeric", " 42 ", True),
    ("Numeric", "-3.5e2", True),
    ("Numeric", "4x", False),
    ("Numeric", "", False),
    ("Numeric", True, False),
    ("Numeric", float("nan"), False),
    ("Numeric", float("inf"), False),
    ("Numeric", "Infinity", False),
    ("Numeric", [1], False),
    ("Boolean", True, True),
    ("Boolean", False, True),
    ("Boolean", "true", True),
    ("Boolean", "false", True),
    ("Boolean", "TRUE", False),
    ("Boolean", 1, False),
    ("DateTime", "2024-05-01T10:00:00Z", True),
    ("DateTime", "2024-05-01 10:00:00", True),
    ("DateTime", "2024-05-01", True),
    ("DateTime", "Wed, 01 May 2024 10:00:00 +0000", True),
    ("DateTime", 1714557600, True),
    ("DateTime", "1714557600", True),
    ("DateTime", "not a date", False),
    ("DateTime", True, False),
    ("DateTime", {"at": 1}, False),
    ("Object", {"a": 1}, True),
    ("Object", [1, 2], True),
    ("Object", "{}", False),
    ("Object", 3, False),
    ("Duration", "anything", True),
    ("Mystery", 1, True),
]


@pytest.mark.parametrize(("property_type", "value", "expected"), TYPE_CASES)
def test_type_matches_mirrors_query_time_coercion(property_type: str, value: Any, expected: bool) -> None:
    assert type_matches(property_type, value) is expected


def rule(name: str, *types: str, rules: tuple[Any, ...] | None = None) -> PropertyRule:
    return PropertyRule(name=name, types=types, rule_sets=rules or tuple(None for _ in types))


ENUM = {"enum": ["free", "pro"]}
NOT_ENUM = {"not": {"enum": ["banned"]}}
RANGE = {"minimum": 1, "exclusiveMaximum": 10}

CHECK_CASES: list[tuple[str, tuple[PropertyRule, ...], dict[str, Any], list[tuple[str, str]]]] = [
    ("present string passes", (rule("plan", "String"),), {"plan": "pro"}, []),
    ("absent is missing", (rule("plan", "String"),), {}, [("plan", "missing_required")]),
    ("null is missing", (rule("plan", "String"),), {"plan": None}, [("plan", "missing_required")]),
    ("wrong numeric type", (rule("seats", "Numeric"),), {"seats": "many"}, [("seats", "type_mismatch")]),
    ("numeric string passes", (rule("seats", "Numeric"),), {"seats": "3"}, []),
    ("bool is not numeric", (rule("seats", "Numeric"),), {"seats": True}, [("seats", "type_mismatch")]),
    ("object accepts arrays", (rule("meta", "Object"),), {"meta": []}, []),
    ("unknown type passes", (rule("x", "Whatever"),), {"x": 1}, []),
    ("any of several types passes", (rule("v", "Numeric", "Boolean"),), {"v": "true"}, []),
    ("none of several types", (rule("v", "Numeric", "Boolean"),), {"v": "maybe"}, [("v", "type_mismatch")]),
    ("enum pass", (rule("plan", "String", rules=(ENUM,)),), {"plan": "free"}, []),
    ("enum fail", (rule("plan", "String", rules=(ENUM,)),), {"plan": "gold"}, [("plan", "value_validation_failed")]),
    ("not-enum fail", (rule("p", "String", rules=(NOT_ENUM,)),), {"p": "banned"}, [("p", "value_validation_failed")]),
    ("not-enum pass", (rule("p", "String", rules=(NOT_ENUM,)),), {"p": "ok"}, []),
    ("range pass", (rule("n", "Numeric", rules=(RANGE,)),), {"n": 9.5}, []),
    ("range low", (rule("n", "Numeric", rules=(RANGE,)),), {"n": 0}, [("n", "value_validation_failed")]),
    ("range exclusive high", (rule("n", "Numeric", rules=(RANGE,)),), {"n": "10"}, [("n", "value_validation_failed")]),
    ("rule sets are OR-ed", (rule("plan", "String", "String", rules=(ENUM, None)),), {"plan": "gold"}, []),
    (
        "several errors in rule order",
        (rule("a", "String"), rule("b", "Numeric")),
        {"b": "x"},
        [("a", "missing_required"), ("b", "type_mismatch")],
    ),
    ("no rules, anything goes", (), {"whatever": None}, []),
]


@pytest.mark.parametrize(("case", "rules", "properties", "expected"), CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_check_properties(
    case: str, rules: tuple[PropertyRule, ...], properties: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    errors = check_properties(rules, properties)
    assert [(e["property"], e["reason"]) for e in errors] == expected
    for error in errors:
        assert set(error) == {"property", "reason", "expectedTypes", "actualValue", "validationDetail"}
        assert error["actualValue"] == properties.get(error["property"])
        assert (error["validationDetail"] is not None) == (error["reason"] == "value_validation_failed")


def test_error_carries_expected_types_and_actual_value() -> None:
    [error] = check_properties((rule("seats", "Numeric", "Boolean"),), {"seats": "lots"})
    assert error == {
        "property": "seats",
        "reason": "type_mismatch",
        "expectedTypes": ["Numeric", "Boolean"],
        "actualValue": "lots",
        "validationDetail": None,
    }


def test_merge_rules_keeps_one_rule_per_name_with_every_groups_type() -> None:
    merged = merge_rules([("b", "Numeric", None), ("a", "String", ENUM), ("b", "Boolean", {})])
    assert merged == (
        PropertyRule(name="a", types=("String",), rule_sets=(ENUM,)),
        PropertyRule(name="b", types=("Numeric", "Boolean"), rule_sets=(None, None)),
    )


@pytest.fixture
def enforced(project: Any) -> EventDefinition:
    enforcement.cache_clear()
    definition = EventDefinition.objects.create(team=project.team, name="purchase", enforcement_mode="reject")
    group = SchemaPropertyGroup.objects.create(team=project.team, name="Purchase")
    SchemaPropertyGroupProperty.objects.create(
        property_group=group, name="amount", property_type="Numeric", is_required=True
    )
    SchemaPropertyGroupProperty.objects.create(property_group=group, name="coupon", property_type="String")
    EventSchema.objects.create(event_definition=definition, property_group=group)
    return definition


def test_violations_only_for_enforced_events_and_required_properties(project: Any, enforced: EventDefinition) -> None:
    team_id = project.team.pk
    assert violations(team_id, "purchase", {"amount": 5}) == []
    assert [e["reason"] for e in violations(team_id, "purchase", {"coupon": 1})] == ["missing_required"]
    assert violations(team_id, "other_event", {}) == []
    assert violations(team_id + 1000, "purchase", {}) == []


def test_violations_follow_changes_to_mode_groups_and_links(project: Any, enforced: EventDefinition) -> None:
    team_id = project.team.pk
    assert violations(team_id, "purchase", {}) != []
    enforced.enforcement_mode = "allow"
    enforced.save()
    assert violations(team_id, "purchase", {}) == []
    enforced.enforcement_mode = "reject"
    enforced.save()
    SchemaPropertyGroupProperty.objects.filter(name="amount").update(is_required=False)  # bulk: no signal
    prop = SchemaPropertyGroupProperty.objects.get(name="coupon")
    prop.is_required = True
    prop.save()
    assert [e["property"] for e in violations(team_id, "purchase", {})] == ["coupon"]
    EventSchema.objects.filter(event_definition=enforced).delete()
    assert violations(team_id, "purchase", {}) == []


def test_rules_are_cached_until_invalidated(
    project: Any, enforced: EventDefinition, django_assert_num_queries: Any
) -> None:
    team_id = project.team.pk
    violations(team_id, "purchase", {})
    with django_assert_num_queries(0):
        for _ in range(100):
            violations(team_id, "purchase", {"amount": 1})
    enforcement.rules_invalidate(team_id=team_id)
    with django_assert_num_queries(1):
        violations(team_id, "purchase", {})


def test_rules_are_invalidated_again_once_the_change_commits(
    project: Any, enforced: EventDefinition, django_capture_on_commit_callbacks: Any
) -> None:
    """A worker that re-reads the rules between a change and its commit caches the old rows under the new
    version; the second invalidation after commit makes it read them again."""
    team_id = project.team.pk
    key = enforcement._version_key(team_id)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enforced.enforcement_mode = "allow"
        enforced.save()
        during = cache.get(key)
        violations(team_id, "purchase", {})  # the racing read, cached under `during`
    assert callbacks, "an invalidation is scheduled for after commit"
    for callback in callbacks:
        callback()
    assert cache.get(key) != during
