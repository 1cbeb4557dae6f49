"""cohorts.filters.validate_filters: the error table (PostHog's wording where it has one), the stored form it
returns, cohort references (project, loops), and what a tree makes of a cohort (cohort_type_for,
has_behavioral)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from actions.models import Action
from cohorts.filters import cohort_type_for, has_behavioral, validate_filters
from cohorts.models import Cohort
from posthog_clone.api.exceptions import exception_handler
from tests.cohorts.test_filters import behavioral, in_cohort, person, saved, tree

WINDOW = {"time_value": 7, "time_interval": "day"}
SEQ = {"seq_time_value": 1, "seq_time_interval": "day"}
STOPPED = {"time_value": 30, "time_interval": "day", "seq_time_value": 7, "seq_time_interval": "day"}
PURCHASED = behavioral("purchase", "performed_event", **WINDOW)


def error_of(filters: Any, team: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as raised:
        validate_filters(filters, team=team, **kwargs)
    detail = raised.value.detail
    return str(detail[0] if isinstance(detail, list) else detail)


def one(item: dict[str, Any]) -> dict[str, Any]:
    return tree(item)


ERRORS = [
    # the tree
    ({"properties": {"type": "OR", "values": []}, "extra": 1},
     "Unknown key 'extra' in filters: only 'properties' is allowed"),
    ({"properties": {"type": "OR", "values": [], "label": "x"}}, "Unknown key 'label' in a filter group"),
    ({"properties": {"type": "OR", "values": {"a": 1}}}, "A filter group needs 'values', a list of filters and groups"),
    (one({"type": "event", "key": "$browser", "value": "Chrome"}),
     "Invalid filter type 'event': use a group (AND, OR) or a person, behavioral or cohort filter"),
    (one("plan"), "A cohort filter must be an object, got str"),
    # person
    (one({"type": "person", "key": "plan", "value": "pro"}), "Missing required keys for person filter: operator"),
    (one({"type": "person", "key": "plan", "operator": "exact"}), "Missing required keys for person filter: value"),
    (one({"type": "person", "key": "plan"}), "Missing required keys for person filter: value, operator"),
    (one({"type": "person", "value": "pro", "operator": "exact"}), "Missing required keys for person filter: key"),
    (one({**person("plan", "exact", "pro"), "not_a_field": 1}), "Unknown key 'not_a_field' in a person filter"),
    (one(person("plan", "nope", "pro")), "Unknown property operator 'nope'"),
    (one({**person("plan", "exact", "pro"), "negation": "yes"}), "negation must be true or false"),
    (one(person("signup", "is_date_before", "garbage")),
     "Invalid date 'garbage': use an ISO date (2024-01-31) or a relative date (-7d, -1mStart)"),
    # behavioral: keys
    (one({"type": "behavioral", "key": "$pageview", "value": "performed_event"}),
     "Missing required keys for behavioral filter: event_type"),
    (one({"type": "behavioral", "value": "performed_event", "event_type": "events"}),
     "Missing required keys for behavioral filter: key"),
    (one({**PURCHASED, "not_a_field": 123}), "Unknown key 'not_a_field' in a behavioral filter"),
    (one({**PURCHASED, "value": "did_stuff"}), "Invalid behavioral property value for Cohort: did_stuff"),
    (one({**PURCHASED, "event_type": "people"}), "Event type must be 'events' or 'actions'"),
    (one(behavioral("purchase", "performed_event")),
     "Missing required keys for behavioral filter: time_value, time_interval"),
    (one(behavioral("purchase", "performed_event_multiple", **WINDOW)),
     "Missing required keys for behavioral filter: operator_value"),
    (one(behavioral("purchase", "performed_event_regularly", operator_value=1, **WINDOW)),
     "Missing required keys for behavioral filter: min_periods, total_periods"),
    (one(behavioral("login", "stopped_performing_event", **WINDOW)),
     "Missing required keys for behavioral filter: seq_time_value, seq_time_interval"),
    (one(behavioral("signup", "performed_event_sequence", seq_event_type="events", **WINDOW, **SEQ)),
     "Missing required keys for behavioral filter: seq_event"),
    # behavioral: values
    (one(behavioral("purchase", "performed_event_regularly", operator_value=1, min_periods=3, total_periods=2,
                    **WINDOW)),
     "min_periods (3) cannot be greater than total_periods (2)"),
    (one({**PURCHASED, "time_interval": "fortnight"}), "Invalid interval: fortnight"),
    (one({**PURCHASED, "time_value": 0}), "time_value must be greater than 0, got 0"),
    (one({**PURCHASED, "time_value": "abc"}), "time_value must be an integer, got abc"),
    (one({**PURCHASED, "time_value": True}), "time_value must be an integer, got True"),
    (one(behavioral("purchase", "performed_event_multiple", operator="gte", operator_value=[5], **WINDOW)),
     "operator_value must be an integer, got [5]"),
    (one(behavioral("purchase", "performed_event_multiple", operator="between", operator_value=5, **WINDOW)),
     "count_operator must be gt(e), lt(e), exact, or None"),
    (one(behavioral("login", "stopped_performing_event", time_value=7, time_interval="day", seq_time_value=30,
                    seq_time_interval="day")), "seq_date must be more recent than date"),
    (one(behavioral("login", "restarted_performing_event", time_value=3, time_interval="week", seq_time_value=1,
                    seq_time_interval="month")), "seq_date must be more recent than date"),
    (one(behavioral("abc", "performed_event", event_type="actions", **WINDOW)),
     "A behavioral filter on actions needs an action id as its key, got 'abc'"),
    (one(behavioral("signup", "performed_event_sequence", seq_event="", seq_event_type="events", **WINDOW, **SEQ)),
     "A behavioral filter on events needs an event name as its seq_event"),
    (one({**PURCHASED, "event_filters": [{"type": "person", "key": "plan", "value": "pro"}]}),
     "Invalid event filter type 'person': use event, element or hogql"),
    (one({**PURCHASED, "event_filters": [{"type": "event", "key": "plan", "value": "pro", "negation": True}]}),
     "Unknown key 'negation' in an event filter"),
    (one({**PURCHASED, "event_filters": [{"type": "event", "key": "plan", "value": "pro", "operator": "nope"}]}),
     "event_filters: Unknown property operator 'nope'"),
    (one({**PURCHASED, "event_filters": {"plan": "pro"}}),
     "event_filters must be a list of event, element or hogql property filters"),
    (one(behavioral("purchase", "performed_event", explicit_datetime="garbage")),
     "explicit_datetime: Invalid date 'garbage': use an ISO date (2024-01-31) or a relative date (-7d, -1mStart)"),
    # cohort
    (one({"type": "cohort", "key": "id"}), "Missing required keys for cohort filter: value"),
    (one({"type": "cohort", "value": 1}), "Missing required keys for cohort filter: key"),
    (one({"type": "cohort", "key": "name", "value": 1}), "A cohort filter's key must be 'id'"),
    (one({"type": "cohort", "key": "id", "value": "abc"}), "Invalid Cohort ID in filter"),
    (one({"type": "cohort", "key": "id", "value": 99999}), "Invalid Cohort ID in filter"),
    (one({"type": "cohort", "key": "id", "value": "99999"}), "Invalid Cohort ID in filter"),
    (one({"type": "cohort", "key": "id", "value": 1, "operator": "in"}), "Unknown key 'operator' in a cohort filter"),
    # negation
    (one({**PURCHASED, "negation": True}), "Negations must be paired with a positive filter."),
    ({"properties": {"type": "OR", "values": [
        {"type": "AND", "values": [{**PURCHASED, "negation": True}]},
        {"type": "AND", "values": [person("plan", "exact", "pro")]}]}},
     "Negations must be paired with a positive filter."),
    ({"properties": {"type": "AND", "values": [
        {"type": "OR", "values": [person("plan", "exact", "pro", negation=True), person("a", "is_set", negation=True)]},
    ]}}, "Negations must be paired with a positive filter."),
]  # fmt: skip


@pytest.mark.parametrize(("filters", "message"), ERRORS)
def test_validation_errors(project: Any, filters: Any, message: str) -> None:
    assert error_of(filters, project.team) == message


@pytest.mark.parametrize("filters", [None, {}, {"groups": []}, {"properties": "x"}, {"properties": {"values": []}}])
def test_filters_without_properties_is_a_nested_error_on_filters_detail(project: Any, filters: Any) -> None:
    class CohortSerializer(serializers.Serializer):  # what a cohort serializer does with it
        filters = serializers.JSONField(allow_null=True)

        def validate_filters(self, value: Any) -> Any:
            return validate_filters(value, team=project.team)

    serializer = CohortSerializer(data={"filters": filters})
    assert not serializer.is_valid()
    response = exception_handler(ValidationError(serializer.errors), {})
    assert response is not None and response.status_code == 400
    body = response.data
    assert (body["type"], body["attr"]) == ("validation_error", "filters__detail")
    assert body["detail"] == "Must contain a 'properties' key with type and values"


@pytest.mark.parametrize(
    "properties",
    [
        {"type": "OR", "values": [{"type": "AND", "values": [person("a", "is_set"), person("b", "is_not_set")]}]},
        {"type": "AND", "values": [person("plan", "exact", "pro"), {**PURCHASED, "negation": True}]},
        {"type": "AND", "values": [
            person("email", "icontains", "acme"),
            {"type": "OR", "values": [person("plan", "exact", "pro"), {**PURCHASED, "negation": True}]}]},
        {"type": "OR", "values": [behavioral(kind, kind, **extra) for kind, extra in [
            ("performed_event_multiple", {"operator": "lt", "operator_value": 2, **WINDOW}),
            ("performed_event_first_time", WINDOW),
            ("performed_event_regularly", {"operator_value": 1, "min_periods": 2, "total_periods": 2, **WINDOW}),
            ("stopped_performing_event", STOPPED),
            ("restarted_performing_event", STOPPED),
            ("performed_event_sequence", {"seq_event": "pay", "seq_event_type": "events", **WINDOW, **SEQ}),
        ]]},
        {"type": "OR", "values": [behavioral("purchase", "performed_event", explicit_datetime="2024-01-01",
                                             explicit_datetime_to="-1d")]},
        {"type": "OR", "values": [
            behavioral("pay", "performed_event_multiple", operator_value=1, explicit_datetime="-1w")]},
        {"type": "OR", "values": [{**PURCHASED, "event_filters": [
            {"type": "event", "key": "plan", "value": ["pro"], "operator": "exact"},
            {"type": "element", "key": "tag_name", "value": "button", "operator": "exact"},
            {"type": "hogql", "key": "properties.amount > 10", "value": None}]}]},
        {"type": "AND", "values": []},
    ],
)  # fmt: skip
def test_valid_trees(project: Any, properties: dict[str, Any]) -> None:
    assert validate_filters({"properties": properties}, team=project.team)["properties"]["type"] == properties["type"]


def test_the_stored_form(project: Any) -> None:
    other = saved(project.team, tree(person("plan", "is_set")))
    action = Action.objects.create(team=project.team, name="a", steps_json=[{"event": "x"}])
    given = {"properties": {"type": "OR", "values": [{"type": "AND", "values": [
        {"type": "person", "key": "plan", "value": "pro", "operator": "exact", "bytecode": ["_H"],
         "conditionHash": "x"},
        {"type": "behavioral", "key": str(action.pk), "value": "performed_event_multiple", "event_type": "actions",
         "time_value": "7", "time_interval": "day", "operator": "gte", "operator_value": 2.0, "seq_event": None},
        {"type": "cohort", "key": "id", "value": str(other.pk), "negation": True},
    ]}]}}  # fmt: skip
    stored = validate_filters(given, team=project.team)
    assert stored == {"properties": {"type": "OR", "values": [{"type": "AND", "values": [
        {"key": "plan", "type": "person", "value": "pro", "operator": "exact", "negation": False},
        {"key": action.pk, "type": "behavioral", "value": "performed_event_multiple", "event_type": "actions",
         "negation": False, "time_value": 7, "operator_value": 2, "time_interval": "day", "operator": "gte"},
        {"key": "id", "type": "cohort", "value": other.pk, "negation": True},
    ]}]}}  # fmt: skip


def test_actions_must_be_live_actions_of_the_project(project: Any, other_project: Any) -> None:
    deleted = Action.objects.create(team=project.team, name="gone", steps_json=[], deleted=True)
    foreign = Action.objects.create(team=other_project.team, name="theirs", steps_json=[])
    for action in (deleted, foreign):
        item = behavioral(action.pk, "performed_event", event_type="actions", **WINDOW)
        assert error_of(one(item), project.team) == f"Action {action.pk} does not exist"
    sequence = behavioral(
        "signup", "performed_event_sequence", seq_event=foreign.pk, seq_event_type="actions", **WINDOW, **SEQ
    )
    assert error_of(one(sequence), project.team) == f"Action {foreign.pk} does not exist"


# ---------------------------------------------------------------------------------------------------
# references between cohorts


def test_loops_are_refused(project: Any) -> None:
    a = saved(project.team, tree(person("plan", "is_set")))
    b = saved(project.team, tree(in_cohort(a)))
    c = saved(project.team, tree(in_cohort(b)))
    loop = "Cohorts cannot reference other cohorts in a loop."
    assert error_of(tree(in_cohort(a)), project.team, cohort_id=a.pk) == loop  # itself
    assert error_of(tree(in_cohort(c)), project.team, cohort_id=a.pk) == loop  # a → c → b → a
    # without the cohort's own id (a new cohort) the same tree is fine, and so is a diamond
    validate_filters(tree(in_cohort(c)), team=project.team)
    d = saved(project.team, tree(in_cohort(a), in_cohort(b)))
    validate_filters(tree(in_cohort(d), in_cohort(c)), team=project.team, cohort_id=None)


def test_a_referenced_cohort_of_another_project_is_unknown(project: Any, other_project: Any) -> None:
    theirs = saved(other_project.team, tree(person("plan", "is_set")))
    assert error_of(tree(in_cohort(theirs)), project.team) == "Invalid Cohort ID in filter"
    ours = saved(project.team, tree(in_cohort(theirs)))  # written around validation
    assert error_of(tree(in_cohort(ours)), project.team) == "Invalid Cohort ID in filter"


# ---------------------------------------------------------------------------------------------------
# cohort_type_for, has_behavioral


def test_cohort_types(project: Any) -> None:
    team = project.team
    props = saved(team, tree(person("plan", "is_set")))
    acts = saved(team, tree(PURCHASED))
    deep = saved(team, tree(behavioral("x", "performed_event_first_time", **WINDOW)))
    static = saved(team, tree(PURCHASED), is_static=True)
    middle = saved(team, tree(in_cohort(deep)))
    cases = [
        (tree(person("plan", "is_set")), {}, "person_property"),
        (tree(person("plan", "is_set"), PURCHASED), {}, "behavioral"),
        (tree(PURCHASED, behavioral("login", "stopped_performing_event", **STOPPED)), {}, "analytical"),
        (tree(person("plan", "is_set")), {"is_static": True}, "static"),
        (None, {"query": {"kind": "HogQLQuery", "query": "select 1"}}, "analytical"),
        ({"properties": {"type": "AND", "values": []}}, {}, "static"),
        (tree(in_cohort(props)), {}, "person_property"),
        (tree(person("plan", "is_set"), in_cohort(acts)), {}, "behavioral"),
        (tree(in_cohort(static)), {}, "static"),  # static cohorts are lists of people, whatever their filters
        (tree(person("plan", "is_set"), in_cohort(middle)), {}, "analytical"),
        (tree(person("plan", "is_set"), in_cohort(saved(team, tree(PURCHASED), deleted=True))), {}, "person_property"),
        (acts, {}, "behavioral"),
        (static, {}, "static"),
    ]
    for filters, extra, expected in cases:
        assert cohort_type_for(filters, team=team, **extra) == expected, filters


def test_has_behavioral_follows_dynamic_references(project: Any) -> None:
    team = project.team
    acts = saved(team, tree(PURCHASED))
    static = saved(team, tree(PURCHASED), is_static=True)
    via = saved(team, tree(person("plan", "is_set"), in_cohort(acts)))
    assert has_behavioral(tree(PURCHASED), team)
    assert not has_behavioral(tree(person("plan", "is_set")), team)
    assert has_behavioral(tree(in_cohort(via)), team)
    assert has_behavioral(via, team)
    assert not has_behavioral(tree(person("plan", "is_set"), in_cohort(static)), team)
    assert not has_behavioral(static, team)  # a static cohort is a list, whatever its filters say
    gone = saved(team, tree(PURCHASED), deleted=True)
    assert not has_behavioral(tree(person("plan", "is_set"), in_cohort(gone)), team)
    a = saved(team, tree(person("plan", "is_set")))
    b = saved(team, tree(in_cohort(a)))
    Cohort.objects.filter(pk=a.pk).update(filters=tree(in_cohort(b)))  # a stored loop does not hang it
    assert not has_behavioral(tree(in_cohort(a)), team)
