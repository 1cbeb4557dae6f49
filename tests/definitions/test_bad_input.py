"""Review findings: odd query values and bodies are 4xx (or a sensible 200), never a 500 — huge
limit/offset, regex-looking searches, unknown ordering, malformed JSON lists, unicode names, races on the
unique pairs — and the write rules that keep other organizations' users and half-done renames out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework import serializers

from definitions.models import EventDefinition, EventSchema, SchemaPropertyGroupProperty
from definitions.services.schemas import _save_link
from tests.definitions.conftest import attach, make_event, make_group, make_property, url

pytestmark = pytest.mark.django_db
HUGE = str(10**30)
LISTS = ["event_definitions", "property_definitions", "schema_property_groups", "event_schemas"]


@pytest.fixture
def catalogue(project: Any) -> dict[str, Any]:
    event = make_event(project, "signed_up")
    group = make_group(project, "plan", [("plan", "String", True)])
    make_property(project, "plan")
    return {"event": event, "group": group, "schema": attach(event, group)}


@pytest.mark.parametrize("resource", LISTS)
@pytest.mark.parametrize("params", [{"limit": HUGE}, {"offset": HUGE}, {"limit": HUGE, "offset": HUGE}])
def test_huge_limit_and_offset_are_clamped_not_a_500(project, catalogue, resource, params):
    response = project.client().get(url(project, resource), params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    assert len(body["results"]) == (0 if "offset" in params else 1)


@pytest.mark.parametrize("resource", LISTS)
def test_non_numeric_limit_is_a_400(project, catalogue, resource):
    response = project.client().get(url(project, resource), {"limit": "ten"})
    assert response.status_code == 400
    assert response.json()["attr"] == "limit"


def test_activity_log_user_beyond_database_integers_is_a_400(project):
    response = project.client().get(url(project, "activity_log"), {"user": HUGE})
    assert response.status_code == 400
    assert response.json()["attr"] == "user"


SEARCHES = [
    # (search, expected names) — `_` and `%` are ILIKE wildcards (PostHog does not escape them),
    # regex characters are literal.
    ("sign_up", ["sign_up", "sign-up", "signXup"]),
    ("sign\\_up", ["sign_up"]),
    ("s%p", ["sign_up", "sign-up", "signXup"]),
    ("(x", ["(x)"]),
    ("[a-z]+", []),
    (".*", []),
    ("a\\", []),
    ("été", ["été"]),
]


@pytest.mark.parametrize(("search", "expected"), SEARCHES)
def test_event_search_is_ilike_with_literal_regex_characters(project, search, expected):
    for name in ["sign_up", "sign-up", "signXup", "(x)", "été", "other"]:
        make_event(project, name)
    response = project.client().get(url(project, "event_definitions"), {"search": search, "ordering": "name"})
    assert response.status_code == 200, response.content
    assert sorted(r["name"] for r in response.json()["results"]) == sorted(expected)


def test_property_search_uses_the_same_wildcards(project):
    for name in ["plan_id", "planXid", "plan-id"]:
        make_property(project, name)
    response = project.client().get(url(project, "property_definitions"), {"search": "plan\\_id"})
    assert [r["name"] for r in response.json()["results"]] == ["plan_id"]


@pytest.mark.parametrize(
    ("resource", "param"),
    [
        ("event_definitions", "excluded_properties"),
        ("property_definitions", "excluded_properties"),
        ("property_definitions", "event_names"),
    ],
)
@pytest.mark.parametrize("value", ["[", "not json", '["a"', "{}", "1"])
def test_malformed_json_lists_are_a_400_on_the_parameter(project, resource, param, value):
    response = project.client().get(url(project, resource), {param: value})
    if resource == "event_definitions" and value in ("{}", "1"):
        assert response.status_code == 200, "valid JSON that is not a list is ignored (PostHog)"
        return
    assert response.status_code == 400, response.content
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": f"`{param}` must be a JSON-encoded list.",
        "attr": param,
    }


def test_unknown_ordering_falls_back_to_the_default(project):
    make_event(project, "b")
    make_event(project, "a")
    response = project.client().get(url(project, "event_definitions"), {"ordering": "unknown,-nope"})
    assert [r["name"] for r in response.json()["results"]] == ["a", "b"]


@pytest.mark.parametrize("name", ["ünïcødé 🎉", "日本語のイベント", "emoji 👩‍💻 zwj"])
def test_unicode_names_round_trip(project, name):
    client = project.client()
    created = client.post(url(project, "event_definitions"), {"name": name}, format="json")
    assert created.status_code == 201, created.content
    by_name = client.get(url(project, "event_definitions", "by_name/"), {"name": name})
    assert by_name.json()["id"] == created.json()["id"]
    group = client.post(
        url(project, "schema_property_groups"),
        {"name": name, "properties": [{"name": name, "property_type": "String"}]},
        format="json",
    )
    assert group.status_code == 201, group.content
    assert group.json()["properties"][0]["name"] == name


def test_owner_must_be_a_member_of_the_projects_organization(project, other_project):
    event = make_event(project, "signed_up")
    client = project.client()
    response = client.patch(
        url(project, "event_definitions", f"{event.pk}/"), {"owner": other_project.user.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "does_not_exist" and response.json()["attr"] == "owner"
    assert EventDefinition.objects.get(pk=event.pk).owner_id is None
    ok = client.patch(url(project, "event_definitions", f"{event.pk}/"), {"owner": project.user.pk}, format="json")
    assert ok.status_code == 200 and ok.json()["owner"]["email"] == project.user.email


def test_group_update_can_swap_property_names(project):
    group = make_group(project, "g", [("a", "String", True), ("b", "Numeric", False)])
    a, b = group.properties.get(name="a"), group.properties.get(name="b")
    payload = {
        "properties": [
            {"name": "a", "property_type": "String"},  # new property taking a renamed one's old name
            {"id": str(a.pk), "name": "b", "property_type": "String", "is_required": True},
            {"id": str(b.pk), "name": "c", "property_type": "Numeric"},
        ]
    }
    response = project.client().patch(url(project, "schema_property_groups", f"{group.pk}/"), payload, format="json")
    assert response.status_code == 200, response.content
    rows = {p.name: p for p in SchemaPropertyGroupProperty.objects.filter(property_group=group)}
    assert set(rows) == {"a", "b", "c"}
    assert rows["b"].pk == a.pk and rows["c"].pk == b.pk and rows["a"].pk not in (a.pk, b.pk)


def test_group_update_with_one_property_id_twice_is_a_400(project):
    group = make_group(project, "g", [("a", "String", True)])
    a = group.properties.get()
    payload = {
        "properties": [
            {"id": str(a.pk), "name": "x", "property_type": "String"},
            {"id": str(a.pk), "name": "y", "property_type": "String"},
        ]
    }
    response = project.client().patch(url(project, "schema_property_groups", f"{group.pk}/"), payload, format="json")
    assert response.status_code == 400
    assert response.json()["attr"] == "properties"
    assert list(group.properties.values_list("name", flat=True)) == ["a"], "rolled back"


def test_a_link_saved_by_a_concurrent_request_first_is_the_duplicate_400(project, catalogue):
    """The race the pre-check cannot see: the pair's row appears between the check and the insert."""
    late = EventSchema(event_definition=catalogue["event"], property_group=catalogue["group"])
    with pytest.raises(serializers.ValidationError) as caught:
        _save_link(late)
    assert caught.value.detail == ["Property group 'plan' is already added to this event schema"]
    assert EventSchema.objects.count() == 1


def test_duplicate_event_definition_create_is_a_400_on_name(project):
    client = project.client()
    assert client.post(url(project, "event_definitions"), {"name": "dup"}, format="json").status_code == 201
    again = client.post(url(project, "event_definitions"), {"name": "dup"}, format="json")
    assert again.status_code == 400
    assert again.json()["detail"] == "Event definition with name 'dup' already exists"
    assert again.json()["attr"] == "name"


def test_bulk_update_tags_with_a_non_uuid_id_is_a_400(project):
    body = {"ids": ["nope"], "action": "add", "tags": ["a"]}
    response = project.client().post(url(project, "event_definitions", "bulk_update_tags/"), body, format="json")
    assert response.status_code == 400 and response.json()["attr"] == "ids__0"


@pytest.mark.parametrize("body", [["x"], "x", {"name": "n", "tags": "x"}, {"name": "n", "default_columns": {}}])
def test_create_with_a_body_of_the_wrong_shape_is_a_400(project, body):
    raw = json.dumps(body)
    response = project.client().post(url(project, "event_definitions"), raw, content_type="application/json")
    assert response.status_code == 400, response.content


def test_search_wildcards_also_match_a_newline_like_ilike(project):
    make_event(project, "line\nbreak")
    response = project.client().get(url(project, "event_definitions"), {"search": "line_break"})
    assert [r["name"] for r in response.json()["results"]] == ["line\nbreak"]
