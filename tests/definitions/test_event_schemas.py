"""Event schemas (§4.4): the API docs' example requests (list, create, update, delete) against a live
project, the `event_definition` filter, duplicate and foreign-id errors."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.models import EventDefinition, EventSchema
from tests.definitions.conftest import attach, make_event, make_group, url

pytestmark = pytest.mark.django_db
FIELDS = {"id", "event_definition", "property_group", "created_at", "updated_at"}


@pytest.fixture
def pair(project: Any) -> tuple[Any, Any]:
    return make_event(project, "signed_up"), make_group(project, "account", [("plan", "String", True)])


def test_create_attaches_a_group_and_returns_it_nested(project, pair):
    event, group = pair
    response = project.client().post(
        url(project, "event_schemas"),
        {"event_definition": str(event.pk), "property_group_id": str(group.pk)},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS and body["event_definition"] == str(event.pk)
    assert body["property_group"]["id"] == str(group.pk)
    assert [p["name"] for p in body["property_group"]["properties"]] == ["plan"]
    assert body["property_group"]["events"] == [{"id": str(event.pk), "name": "signed_up"}]
    assert EventDefinition.objects.get(pk=event.pk).schema_version == 2


def test_list_newest_first_and_filtered_by_event_definition(project, pair):
    event, group = pair
    first = attach(event, group)
    other = make_event(project, "other")
    second = attach(other, group)
    client = project.client()
    body = client.get(url(project, "event_schemas")).json()
    assert body["count"] == 2 and [s["id"] for s in body["results"]] == [str(second.pk), str(first.pk)]
    filtered = client.get(url(project, "event_schemas"), {"event_definition": str(event.pk)}).json()
    assert [s["id"] for s in filtered["results"]] == [str(first.pk)]


def test_update_points_the_link_at_another_group(project, pair):
    event, group = pair
    schema = attach(event, group)
    other_group = make_group(project, "billing", [])
    response = project.client().patch(
        url(project, "event_schemas", f"{schema.pk}/"), {"property_group_id": str(other_group.pk)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["property_group"]["name"] == "billing"
    assert EventSchema.objects.get(pk=schema.pk).property_group_id == other_group.pk


def test_delete_detaches(project, pair):
    schema = attach(*pair)
    response = project.client().delete(url(project, "event_schemas", f"{schema.pk}/"))
    assert response.status_code == 204 and not EventSchema.objects.exists()


def test_attaching_twice_is_400(project, pair):
    event, group = pair
    attach(event, group)
    response = project.client().post(
        url(project, "event_schemas"),
        {"event_definition": str(event.pk), "property_group_id": str(group.pk)},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Property group 'account' is already added to this event schema",
        "attr": None,
    }


def test_another_projects_ids_are_invalid_pks(project, other_project, pair):
    event, group = pair
    theirs = make_group(other_project, "theirs", [])
    response = project.client().post(
        url(project, "event_schemas"),
        {"event_definition": str(event.pk), "property_group_id": str(theirs.pk)},
        format="json",
    )
    assert response.status_code == 400
    assert (response.json()["attr"], response.json()["detail"]) == (
        "property_group_id", f'Invalid pk "{theirs.pk}" - object does not exist.')  # fmt: skip


def test_missing_fields_are_required(project):
    response = project.client().post(url(project, "event_schemas"), {}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "required")
