"""Acceptance 3 (properties): the property-definition list filters (§3.3) table-driven, its ordering
(seen-with-events first, verified, name), `is_seen_on_filtered_events`, validation errors, seen_together."""

from __future__ import annotations

import json
from typing import Any

import pytest

from definitions.models import PropertyDefinition
from tests.definitions.conftest import make_property, seen_with, url

pytestmark = pytest.mark.django_db
PERSON, GROUP, SESSION = PropertyDefinition.Type.PERSON, PropertyDefinition.Type.GROUP, PropertyDefinition.Type.SESSION


@pytest.fixture
def catalogue(project: Any) -> None:
    make_property(project, "plan")
    make_property(project, "price", "Numeric")
    make_property(project, "timestamp", "Numeric")
    make_property(project, "$browser")
    make_property(project, "$feature/new-ui")
    make_property(project, "utm_source")
    make_property(project, "distinct_id")
    make_property(project, "$set")
    make_property(project, "$session_entry_url")
    make_property(project, "zeta", verified=True)
    make_property(project, "secret", hidden=True)
    make_property(project, "email", type=PERSON)
    make_property(project, "company_size", "Numeric", type=GROUP, group_type_index=1)
    make_property(project, "industry", type=GROUP, group_type_index=0)
    make_property(project, "$session_duration", "Duration", type=SESSION)
    seen_with(project, "purchase", "price", "plan")
    seen_with(project, "other", "utm_source")


EVENT_DEFAULT = ["zeta", "$browser", "$feature/new-ui", "plan", "price", "secret", "timestamp", "utm_source"]
PURCHASE = json.dumps(["purchase"])
CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("type=event default: verified first, then name; hidden keys dropped", {}, EVENT_DEFAULT),
    ("type=person", {"type": "person"}, ["email"]),
    ("type=group needs its index", {"type": "group", "group_type_index": 1}, ["company_size"]),
    ("type=session", {"type": "session"}, ["$session_duration"]),
    ("search: case-insensitive", {"search": "P"}, ["plan", "price", "timestamp"]),
    ("search: two terms", {"search": "pl an"}, ["plan"]),
    ("properties: exact names", {"properties": "plan,price,nope"}, ["plan", "price"]),
    ("is_numerical drops timestamp", {"is_numerical": "true"}, ["price"]),
    ("is_feature_flag=true", {"is_feature_flag": "true"}, ["$feature/new-ui"]),
    ("is_feature_flag=false", {"is_feature_flag": "false"}, [n for n in EVENT_DEFAULT if n != "$feature/new-ui"]),
    ("excluded_properties", {"excluded_properties": json.dumps(["plan", "zeta"])}, [
        "$browser", "$feature/new-ui", "price", "secret", "timestamp", "utm_source"]),
    ("exclude_core_properties", {"exclude_core_properties": "true"}, ["zeta", "plan", "price", "secret", "timestamp"]),
    ("exclude_hidden", {"exclude_hidden": "true"}, [n for n in EVENT_DEFAULT if n != "secret"]),
    ("event_names: seen ones first", {"event_names": PURCHASE}, [
        "plan", "price", "zeta", "$browser", "$feature/new-ui", "secret", "timestamp", "utm_source"]),
    ("filter_by_event_names", {"event_names": PURCHASE, "filter_by_event_names": "true"}, ["plan", "price"]),
    ("search combined with event_names", {"event_names": json.dumps(["other"]), "search": "s"}, [
        "utm_source", "$browser", "secret", "timestamp"]),
]  # fmt: skip


@pytest.mark.parametrize(("params", "expected"), [(p, e) for _, p, e in CASES], ids=[c[0] for c in CASES])
def test_list_filters_and_orders(project, catalogue, params, expected):
    response = project.client().get(url(project, "property_definitions"), params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["name"] for row in body["results"]] == expected
    assert body["count"] == len(expected)


def test_is_seen_on_filtered_events_is_null_without_event_names(project, catalogue):
    client = project.client()
    plain = client.get(url(project, "property_definitions")).json()["results"]
    assert {row["is_seen_on_filtered_events"] for row in plain} == {None}
    filtered = client.get(url(project, "property_definitions"), {"event_names": PURCHASE}).json()["results"]
    assert {row["name"]: row["is_seen_on_filtered_events"] for row in filtered}["plan"] is True
    assert {row["name"]: row["is_seen_on_filtered_events"] for row in filtered}["zeta"] is False


@pytest.mark.parametrize(
    ("params", "attr", "detail"),
    [
        ({"type": "group"}, "group_type_index", "`group_type_index` must be set for `group` type"),
        (
            {"type": "event", "group_type_index": 0},
            "group_type_index",
            "`group_type_index` can only set for `group` type",
        ),
        ({"type": "group", "group_type_index": 5}, "group_type_index", "Invalid value for `group_type_index`"),
        ({"type": "person", "event_names": PURCHASE}, "event_names", "`event_names` can only be set for `event` type"),
        ({"type": "cohort"}, "type", '"cohort" is not a valid choice.'),
        ({"event_names": "purchase"}, "event_names", "`event_names` must be a JSON-encoded list."),
    ],
)
def test_bad_parameter_combinations_are_400(project, params, attr, detail):
    response = project.client().get(url(project, "property_definitions"), params)
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert (response.json()["attr"], response.json()["detail"]) == (attr, detail)


def test_seen_together_answers_per_event(project, catalogue):
    response = project.client().get(
        url(project, "property_definitions", "seen_together/"),
        {"event_names": ["purchase", "other", "never"], "property_name": "plan"},
    )
    assert response.status_code == 200
    assert response.json() == {"purchase": True, "other": False, "never": False}


def test_search_also_matches_taxonomy_display_labels(project):
    """§3.3: the multi-term name match is OR-ed with PostHog's display-name aliases ("IP address" is `$ip`)."""
    for name in ["$ip", "$referrer", "address_line", "plan"]:
        make_property(project, name)
    client = project.client()
    found = client.get(url(project, "property_definitions"), {"search": "address"}).json()["results"]
    assert sorted(r["name"] for r in found) == ["$ip", "address_line"]
    found = client.get(url(project, "property_definitions"), {"search": "referrer URL"}).json()["results"]
    assert [r["name"] for r in found] == ["$referrer"]
