"""Event definitions: the API docs' example requests (retrieve, update, delete, by_name) against a live
project, the enterprise fields, the write rules of §1.5, create, and bulk tag updates."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.models import ActivityLog, EventDefinition, EventSchema, Tag
from tests.definitions.conftest import attach, make_event, make_group, url

pytestmark = pytest.mark.django_db

FIELDS = {
    "id", "name", "owner", "description", "tags", "created_at", "updated_at", "updated_by", "last_seen_at",
    "verified", "verified_at", "verified_by", "hidden", "enforcement_mode", "primary_property", "is_action",
    "post_to_slack", "default_columns", "media_preview_urls",
}  # fmt: skip
USER_BASIC = {
    "id", "uuid", "distinct_id", "first_name", "last_name", "email", "is_email_verified", "hedgehog_config",
    "role_at_organization",
}  # fmt: skip


@pytest.fixture
def event(project: Any) -> EventDefinition:
    return make_event(project, "signed_up")


def test_retrieve_returns_the_enterprise_record(project, event):
    response = project.client().get(url(project, "event_definitions", f"{event.pk}/"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIELDS
    assert body["id"] == str(event.pk) and body["name"] == "signed_up"
    assert (body["is_action"], body["post_to_slack"], body["default_columns"], body["tags"]) == (False, False, [], [])
    assert body["enforcement_mode"] == "allow"


def test_update_sets_fields_owner_and_normalised_tags(project, event):
    response = project.client().patch(
        url(project, "event_definitions", f"{event.pk}/"),
        {
            "description": "A user finished sign-up",
            "owner": project.user.pk,
            "tags": [" Growth", "growth", "Funnel "],
            "primary_property": "plan",
            "default_columns": ["event", "person"],
            "post_to_slack": True,
            "name": "renamed is ignored",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "signed_up"
    assert body["description"] == "A user finished sign-up"
    assert set(body["owner"]) == USER_BASIC and body["owner"]["email"] == project.user.email
    assert body["tags"] == ["funnel", "growth"]
    assert (body["primary_property"], body["default_columns"], body["post_to_slack"]) == (
        "plan", ["event", "person"], False)  # fmt: skip
    assert body["updated_by"]["id"] == project.user.pk


def test_put_changes_only_what_is_sent(project, event):
    event.description = "kept"
    event.save()
    response = project.client().put(
        url(project, "event_definitions", f"{event.pk}/"), {"enforcement_mode": "reject"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["description"], response.json()["enforcement_mode"]) == ("kept", "reject")


def test_verifying_stamps_who_and_when_and_unhides(project, event):
    event.hidden = True
    event.save()
    client = project.client()
    path = url(project, "event_definitions", f"{event.pk}/")
    body = client.patch(path, {"verified": True}, format="json").json()
    assert body["verified"] is True and body["hidden"] is False
    assert body["verified_by"]["id"] == project.user.pk and body["verified_at"]
    again = client.patch(path, {"verified": True}, format="json").json()
    assert again["verified_at"] == body["verified_at"], "re-verifying keeps the original stamp"
    hidden = client.patch(path, {"hidden": True}, format="json").json()
    assert (hidden["hidden"], hidden["verified"], hidden["verified_by"], hidden["verified_at"]) == (
        True, False, None, None)  # fmt: skip
    client.patch(path, {"verified": True}, format="json")
    cleared = client.patch(path, {"verified": False}, format="json").json()
    assert (cleared["verified"], cleared["verified_by"], cleared["verified_at"]) == (False, None, None)


def test_hidden_and_verified_together_is_400(project, event):
    response = project.client().patch(
        url(project, "event_definitions", f"{event.pk}/"), {"hidden": True, "verified": True}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "An event cannot be both hidden and verified",
        "attr": None,
    }


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({"enforcement_mode": "enforce"}, "enforcement_mode", "invalid_choice"),
        ({"owner": 999999}, "owner", "does_not_exist"),
    ],
)
def test_invalid_updates_are_400_on_the_field(project, event, body, attr, code):
    response = project.client().patch(url(project, "event_definitions", f"{event.pk}/"), body, format="json")
    assert response.status_code == 400
    assert (response.json()["attr"], response.json()["code"]) == (attr, code)


def test_delete_is_204_and_cascades_schemas_and_orphan_tags(project, event):
    client = project.client()
    client.patch(url(project, "event_definitions", f"{event.pk}/"), {"tags": ["only-here"]}, format="json")
    attach(event, make_group(project, "g", []))
    response = client.delete(url(project, "event_definitions", f"{event.pk}/"))
    assert response.status_code == 204 and response.content == b""
    assert not EventDefinition.objects.filter(pk=event.pk).exists()
    assert not EventSchema.objects.filter(event_definition_id=event.pk).exists()
    assert not Tag.objects.filter(team=project.team).exists()
    assert client.get(url(project, "event_definitions", f"{event.pk}/")).status_code == 404
    assert ActivityLog.objects.filter(item_id=str(event.pk), activity="deleted").exists()


def test_by_name_finds_the_exact_name(project, event):
    make_event(project, "signed_up_twice")
    response = project.client().get(url(project, "event_definitions", "by_name/"), {"name": "signed_up"})
    assert response.status_code == 200
    assert set(response.json()) == FIELDS and response.json()["id"] == str(event.pk)


def test_by_name_errors_are_raw_detail_bodies(project, event):
    client = project.client()
    missing = client.get(url(project, "event_definitions", "by_name/"))
    assert (missing.status_code, missing.json()) == (400, {"detail": "Query parameter 'name' is required"})
    unknown = client.get(url(project, "event_definitions", "by_name/"), {"name": "Signed_up"})
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"detail": "Event definition with name 'Signed_up' not found"},
    )


def test_metrics_answers_session_users_with_the_usage_count(project, event):
    from rest_framework.test import APIClient

    session = APIClient()
    session.force_authenticate(user=project.user)
    response = session.get(url(project, "event_definitions", f"{event.pk}/metrics/"))
    assert (response.status_code, response.json()) == (200, {"query_usage_30_day": 0})


def test_create_leaves_first_and_last_seen_null(project):
    response = project.client().post(
        url(project, "event_definitions"), {"name": "planned", "description": "d", "verified": True}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created_at"], body["last_seen_at"], body["verified"]) == (None, None, True)
    assert body["verified_by"]["id"] == project.user.pk
    assert ActivityLog.objects.filter(item_id=body["id"], activity="created", scope="EventDefinition").exists()


def test_create_rejects_a_duplicate_name(project, event):
    response = project.client().post(url(project, "event_definitions"), {"name": "signed_up"}, format="json")
    assert response.status_code == 400
    assert (response.json()["attr"], response.json()["detail"]) == (
        "name", "Event definition with name 'signed_up' already exists")  # fmt: skip


def test_create_requires_a_name(project):
    response = project.client().post(url(project, "event_definitions"), {}, format="json")
    assert response.status_code == 400
    assert (response.json()["attr"], response.json()["code"]) == ("name", "required")


def test_bulk_update_tags_adds_removes_and_sets(project, event):
    other = make_event(project, "other")
    client = project.client()
    path = url(project, "event_definitions", "bulk_update_tags/")
    unknown = "00000000-0000-0000-0000-000000000000"
    added = client.post(path, {"ids": [str(event.pk), unknown], "action": "add", "tags": ["A", "b"]}, format="json")
    assert added.status_code == 200
    assert added.json() == {
        "updated": [{"id": str(event.pk), "tags": ["a", "b"]}],
        "skipped": [{"id": unknown, "reason": "Not found"}],
    }
    removed = client.post(path, {"ids": [str(event.pk)], "action": "remove", "tags": ["a"]}, format="json").json()
    assert removed["updated"] == [{"id": str(event.pk), "tags": ["b"]}]
    replaced = client.post(path, {"ids": [str(event.pk), str(other.pk)], "action": "set", "tags": ["c"]}, format="json")
    assert [u["tags"] for u in replaced.json()["updated"]] == [["c"], ["c"]]
    assert set(Tag.objects.filter(team=project.team).values_list("name", flat=True)) == {"c"}
    empty = client.post(path, {"ids": [str(event.pk)], "action": "add", "tags": []}, format="json")
    assert (empty.status_code, empty.json()["attr"]) == (400, "tags")


def test_primary_properties_lists_only_set_ones(project, event):
    make_event(project, "paid", primary_property="amount")
    response = project.client().get(
        url(project, "event_definitions", "primary_properties/"), {"names": ["paid", "signed_up"]}
    )
    assert response.json() == {"primary_properties": {"paid": "amount"}}
