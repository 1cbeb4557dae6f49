"""Property definitions: retrieve, update (§3.4: property_type drives is_numerical, hidden/verified
exclusive, tags), delete, with the enterprise field set."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.models import ActivityLog, PropertyDefinition
from tests.definitions.conftest import make_property, url

pytestmark = pytest.mark.django_db
FIELDS = {
    "id", "name", "description", "tags", "is_numerical", "updated_at", "updated_by", "is_seen_on_filtered_events",
    "property_type", "verified", "verified_at", "verified_by", "hidden",
}  # fmt: skip


@pytest.fixture
def prop(project: Any) -> PropertyDefinition:
    return make_property(project, "amount", "String")


def test_retrieve_returns_the_enterprise_record(project, prop):
    body = project.client().get(url(project, "property_definitions", f"{prop.pk}/")).json()
    assert set(body) == FIELDS
    assert (body["name"], body["property_type"], body["is_numerical"], body["tags"]) == ("amount", "String", False, [])


def test_changing_the_type_to_numeric_sets_is_numerical(project, prop):
    client = project.client()
    path = url(project, "property_definitions", f"{prop.pk}/")
    body = client.patch(path, {"property_type": "Numeric"}, format="json").json()
    assert (body["property_type"], body["is_numerical"]) == ("Numeric", True)
    body = client.put(path, {"property_type": "Duration"}, format="json").json()
    assert (body["property_type"], body["is_numerical"]) == ("Duration", False)


def test_update_description_tags_and_verification(project, prop):
    client = project.client()
    path = url(project, "property_definitions", f"{prop.pk}/")
    body = client.patch(path, {"description": "Order total", "tags": ["Money"], "verified": True}, format="json").json()
    assert (body["description"], body["tags"], body["verified"]) == ("Order total", ["money"], True)
    assert body["verified_by"]["id"] == project.user.pk and body["updated_by"]["id"] == project.user.pk
    hidden = client.patch(path, {"hidden": True}, format="json").json()
    assert (hidden["hidden"], hidden["verified"], hidden["verified_at"]) == (True, False, None)
    entry = ActivityLog.objects.filter(scope="PropertyDefinition", activity="changed").order_by("created_at").first()
    assert entry.detail["type"] == "event"
    assert {c["field"] for c in entry.detail["changes"]} == {"description", "tags", "verified"}


@pytest.mark.parametrize(
    ("body", "attr", "detail"),
    [
        ({"hidden": True, "verified": True}, None, "A property cannot be both hidden and verified"),
        ({"property_type": "Object"}, "property_type", '"Object" is not a valid choice.'),
    ],
)
def test_invalid_updates_are_400(project, prop, body, attr, detail):
    response = project.client().patch(url(project, "property_definitions", f"{prop.pk}/"), body, format="json")
    assert response.status_code == 400
    assert (response.json()["attr"], response.json()["detail"]) == (attr, detail)


def test_name_is_read_only(project, prop):
    body = project.client().patch(url(project, "property_definitions", f"{prop.pk}/"), {"name": "x"}, format="json")
    assert body.json()["name"] == "amount"


def test_delete_is_204_and_logged_with_its_type(project):
    person_prop = make_property(project, "email", type=PropertyDefinition.Type.PERSON)
    response = project.client().delete(url(project, "property_definitions", f"{person_prop.pk}/"))
    assert response.status_code == 204
    assert not PropertyDefinition.objects.filter(pk=person_prop.pk).exists()
    entry = ActivityLog.objects.get(scope="PropertyDefinition", activity="deleted")
    assert (entry.item_id, entry.detail["name"], entry.detail["type"]) == (str(person_prop.pk), "email", "person")
