"""The activity log endpoint: creates, changes (per-field before/after) and deletes of definitions, groups
and schemas, newest first, filtered by scope, item_id and user, paged by cursor."""

from __future__ import annotations

import pytest

from definitions.models import ActivityLog
from tests.definitions.conftest import url

pytestmark = pytest.mark.django_db


def test_changes_are_logged_with_who_and_per_field_before_after(project):
    client = project.client()
    event = client.post(url(project, "event_definitions"), {"name": "signed_up"}, format="json").json()
    client.patch(
        url(project, "event_definitions", f"{event['id']}/"), {"description": "d", "tags": ["x"]}, format="json"
    )
    group = client.post(url(project, "schema_property_groups"), {"name": "g"}, format="json").json()
    schema = client.post(
        url(project, "event_schemas"),
        {"event_definition": event["id"], "property_group_id": group["id"]},
        format="json",
    ).json()
    client.delete(url(project, "event_schemas", f"{schema['id']}/"))
    client.delete(url(project, "event_definitions", f"{event['id']}/"))

    body = client.get(url(project, "activity_log")).json()
    assert set(body) == {"next", "previous", "results"}
    assert [(r["scope"], r["activity"]) for r in body["results"]] == [
        ("EventDefinition", "deleted"),
        ("EventSchema", "deleted"),
        ("EventSchema", "created"),
        ("SchemaPropertyGroup", "created"),
        ("EventDefinition", "changed"),
        ("EventDefinition", "created"),
    ]
    changed = body["results"][4]
    assert changed["user"]["email"] == project.user.email and changed["is_system"] is False
    assert changed["item_id"] == event["id"] and changed["detail"]["name"] == "signed_up"
    assert changed["detail"]["changes"] == [
        {"type": "EventDefinition", "action": "changed", "field": "description", "before": None, "after": "d"},
        {"type": "EventDefinition", "action": "changed", "field": "tags", "before": [], "after": ["x"]},
    ]


def test_filters_by_scope_item_and_user(project, other_project):
    client = project.client()
    first = client.post(url(project, "event_definitions"), {"name": "a"}, format="json").json()
    client.post(url(project, "event_definitions"), {"name": "b"}, format="json")
    client.post(url(project, "schema_property_groups"), {"name": "g"}, format="json")
    other_project.client().post(url(other_project, "event_definitions"), {"name": "theirs"}, format="json")
    log = url(project, "activity_log")
    assert len(client.get(log).json()["results"]) == 3, "another project's entries are not listed"
    assert len(client.get(log, {"scope": "EventDefinition"}).json()["results"]) == 2
    assert [r["detail"]["name"] for r in client.get(log, {"item_id": first["id"]}).json()["results"]] == ["a"]
    assert len(client.get(log, {"user": project.user.pk}).json()["results"]) == 3
    assert client.get(log, {"user": other_project.user.pk}).json()["results"] == []


def test_pages_by_cursor(project):
    entries = [
        ActivityLog(team=project.team, activity="created", scope="EventDefinition", item_id=str(i), detail={})
        for i in range(105)
    ]
    ActivityLog.objects.bulk_create(entries)
    client = project.client()
    first = client.get(url(project, "activity_log")).json()
    assert len(first["results"]) == 100 and first["next"] and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5 and second["next"] is None
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
