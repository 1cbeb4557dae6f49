"""Schema property groups (§4.2/§4.3): fields, unique names, whole-list property replacement in one
transaction, validation bodies, and `schema_version` bumps on attached event definitions."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.models import EventDefinition, SchemaPropertyGroup, SchemaPropertyGroupProperty
from tests.definitions.conftest import attach, make_event, make_group, url

pytestmark = pytest.mark.django_db

GROUP_FIELDS = {"id", "name", "description", "properties", "events", "created_at", "updated_at", "created_by"}
PROPERTY_FIELDS = {
    "id", "name", "property_type", "is_required", "is_optional_in_types", "validation_rules", "description",
    "created_at", "updated_at",
}  # fmt: skip


def create(project: Any, body: dict[str, Any]) -> Any:
    return project.client().post(url(project, "schema_property_groups"), body, format="json")


def test_create_returns_the_group_with_trimmed_properties(project):
    response = create(project, {
        "name": "Order", "description": "order info",
        "properties": [
            {"name": " total ", "property_type": "Numeric", "is_required": True,
             "validation_rules": {"minimum": 0}},
            {"name": "currency", "property_type": "String", "validation_rules": {"enum": ["EUR"]}},
        ],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == GROUP_FIELDS and body["events"] == [] and body["created_by"]["id"] == project.user.pk
    assert all(set(p) == PROPERTY_FIELDS for p in body["properties"])
    assert [(p["name"], p["is_required"], p["is_optional_in_types"]) for p in body["properties"]] == [
        ("currency", False, False), ("total", True, False)]  # fmt: skip


def test_list_is_paginated_by_name_with_attached_events(project):
    b = make_group(project, "b", [])
    make_group(project, "a", [])
    attach(make_event(project, "Zed"), b)
    attach(make_event(project, "alpha"), b)
    body = project.client().get(url(project, "schema_property_groups")).json()
    assert body["count"] == 2 and [g["name"] for g in body["results"]] == ["a", "b"]
    assert [e["name"] for e in body["results"][1]["events"]] == ["alpha", "Zed"]


def test_duplicate_group_names_are_400(project):
    make_group(project, "Order", [])
    response = create(project, {"name": "Order"})
    assert response.status_code == 400
    assert (response.json()["attr"], response.json()["detail"]) == (
        "name", "A property group with this name already exists for this team")  # fmt: skip
    other = make_group(project, "Other", [])
    renamed = project.client().patch(
        url(project, "schema_property_groups", f"{other.pk}/"), {"name": "Order"}, format="json"
    )
    assert (renamed.status_code, renamed.json()["detail"]) == (400, "A property group with this name already exists")


@pytest.mark.parametrize(
    ("prop", "detail"),
    [
        ({"name": "  ", "property_type": "String"}, "Property name is required"),
        ({"name": "x" * 201, "property_type": "String"}, "Property name must be 200 characters or less"),
        ({"name": "x", "property_type": "Duration"}, '"Duration" is not a valid choice.'),
        ({"name": "x", "property_type": "Boolean", "validation_rules": {"enum": ["a"]}},
         "Validation rules are not supported for Boolean properties"),
        ({"name": "x", "property_type": "String", "validation_rules": {"enum": []}}, "'enum' list must not be empty"),
        ({"name": "x", "property_type": "String", "validation_rules": {"enum": ["a"], "not": {"enum": ["b"]}}},
         "Cannot specify both 'enum' and 'not' — use one or the other"),
        ({"name": "x", "property_type": "String", "validation_rules": {"enum": [1]}},
         "All 'enum' values must be strings"),
        ({"name": "x", "property_type": "String", "validation_rules": {"regex": "a"}},
         "Unrecognized keys for String validation: regex"),
        ({"name": "x", "property_type": "Numeric", "validation_rules": {"minimum": 5, "maximum": 1}},
         "Lower bound (minimum=5) must be less than upper bound (maximum=1)"),
    ],
)  # fmt: skip
def test_invalid_properties_are_400_on_properties(project, prop, detail):
    response = create(project, {"name": "g", "properties": [prop]})
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    rules_error = "validation_rules" in prop
    assert response.json()["attr"].startswith("validation_rules" if rules_error else "properties"), "§4.3, §6"
    assert detail in response.json()["detail"]
    assert not SchemaPropertyGroup.objects.filter(team=project.team).exists()


def test_update_replaces_the_whole_property_list(project):
    group = make_group(project, "g", [("keep", "String", False), ("drop", "String", False)])
    keep = group.properties.get(name="keep")
    event = make_event(project, "e")
    attach(event, group)
    version = EventDefinition.objects.get(pk=event.pk).schema_version
    response = project.client().patch(
        url(project, "schema_property_groups", f"{group.pk}/"),
        {"properties": [
            {"id": str(keep.pk), "name": "keep", "property_type": "Numeric", "is_required": True},
            {"name": "new", "property_type": "Boolean"},
        ]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    props = {p["name"]: p for p in response.json()["properties"]}
    assert set(props) == {"keep", "new"}
    assert props["keep"]["id"] == str(keep.pk) and props["keep"]["property_type"] == "Numeric"
    assert EventDefinition.objects.get(pk=event.pk).schema_version > version


def test_a_duplicate_property_name_rolls_back_the_update(project):
    group = make_group(project, "g", [("a", "String", False)])
    response = project.client().put(
        url(project, "schema_property_groups", f"{group.pk}/"),
        {"name": "renamed", "properties": [
            {"name": "b", "property_type": "String"}, {"name": "b", "property_type": "Numeric"}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert (response.json()["attr"], response.json()["detail"]) == (
        "properties", "A property named 'b' already exists in this group")  # fmt: skip
    group.refresh_from_db()
    assert group.name == "g" and list(group.properties.values_list("name", flat=True)) == ["a"]


def test_omitting_properties_leaves_them(project):
    group = make_group(project, "g", [("a", "String", True)])
    response = project.client().patch(
        url(project, "schema_property_groups", f"{group.pk}/"), {"description": "d"}, format="json"
    )
    assert response.json()["description"] == "d" and [p["name"] for p in response.json()["properties"]] == ["a"]


def test_delete_removes_the_group_its_properties_and_links(project):
    group = make_group(project, "g", [("a", "String", True)])
    attach(make_event(project, "e"), group)
    response = project.client().delete(url(project, "schema_property_groups", f"{group.pk}/"))
    assert response.status_code == 204
    assert not SchemaPropertyGroupProperty.objects.exists()
    assert EventDefinition.objects.get(name="e").schemas.count() == 0
