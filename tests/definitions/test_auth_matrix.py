"""Acceptance 2: every definitions endpoint under the auth matrix (no key 401, missing scope 403, read key
cannot write, another project's member 403), and another project's object ids are 404 on every detail route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from posthog_clone.accounts.services import personal_api_key_create
from tests.auth_matrix import assert_auth_matrix
from tests.definitions.conftest import attach, make_event, make_group, make_property, url

pytestmark = pytest.mark.django_db

ED_R, ED_W = "event_definition:read", "event_definition:write"
PD_R, PD_W = "property_definition:read", "property_definition:write"


@pytest.fixture
def objects(project: Any) -> dict[str, Any]:
    event = make_event(project, "signed_up")
    group = make_group(project, "plan", [("plan", "String", True)])
    return {
        "event": event,
        "group": group,
        "schema": attach(event, group),
        "property": make_property(project, "plan"),
    }


# (method, resource, suffix builder from the objects, scope, body)
ENDPOINTS: list[tuple[str, str, Callable[[dict[str, Any]], str], str, Any]] = [
    ("get", "event_definitions", lambda o: "", ED_R, None),
    ("post", "event_definitions", lambda o: "", ED_W, {"name": "new"}),
    ("get", "event_definitions", lambda o: f"{o['event'].pk}/", ED_R, None),
    ("put", "event_definitions", lambda o: f"{o['event'].pk}/", ED_W, {"description": "d"}),
    ("patch", "event_definitions", lambda o: f"{o['event'].pk}/", ED_W, {"description": "d"}),
    ("delete", "event_definitions", lambda o: f"{o['event'].pk}/", ED_W, None),
    ("get", "event_definitions", lambda o: "by_name/?name=signed_up", ED_R, None),
    ("get", "event_definitions", lambda o: "typescript/", ED_R, None),
    ("get", "event_definitions", lambda o: "golang/", ED_R, None),
    ("get", "event_definitions", lambda o: "python/", ED_R, None),
    ("get", "event_definitions", lambda o: "primary_properties/?names=signed_up", ED_R, None),
    ("post", "event_definitions", lambda o: "bulk_update_tags/", ED_W, {"ids": [], "action": "set", "tags": []}),
    ("post", "event_definitions", lambda o: "bulk_update_verified/", ED_W, {"ids": [], "verified": True}),
    ("get", "property_definitions", lambda o: "", PD_R, None),
    ("get", "property_definitions", lambda o: f"{o['property'].pk}/", PD_R, None),
    ("put", "property_definitions", lambda o: f"{o['property'].pk}/", PD_W, {"description": "d"}),
    ("patch", "property_definitions", lambda o: f"{o['property'].pk}/", PD_W, {"description": "d"}),
    ("delete", "property_definitions", lambda o: f"{o['property'].pk}/", PD_W, None),
    ("get", "property_definitions", lambda o: "seen_together/?event_names=a&property_name=p", PD_R, None),
    ("get", "schema_property_groups", lambda o: "", ED_R, None),
    ("post", "schema_property_groups", lambda o: "", ED_W, {"name": "g"}),
    ("get", "schema_property_groups", lambda o: f"{o['group'].pk}/", ED_R, None),
    ("put", "schema_property_groups", lambda o: f"{o['group'].pk}/", ED_W, {"name": "g"}),
    ("patch", "schema_property_groups", lambda o: f"{o['group'].pk}/", ED_W, {"name": "g"}),
    ("delete", "schema_property_groups", lambda o: f"{o['group'].pk}/", ED_W, None),
    ("get", "event_schemas", lambda o: "", ED_R, None),
    ("post", "event_schemas", lambda o: "", ED_W, {}),
    ("patch", "event_schemas", lambda o: f"{o['schema'].pk}/", ED_W, {}),
    ("delete", "event_schemas", lambda o: f"{o['schema'].pk}/", ED_W, None),
    ("get", "activity_log", lambda o: "", "activity_log:read", None),
]


@pytest.mark.parametrize(
    ("method", "resource", "suffix", "scope", "body"),
    ENDPOINTS,
    ids=[f"{i}-{m}-{r}" for i, (m, r, _, _, _) in enumerate(ENDPOINTS)],
)
def test_every_endpoint_passes_the_auth_matrix(project, other_project, objects, method, resource, suffix, scope, body):
    assert_auth_matrix(project, other_project, method, url(project, resource, suffix(objects)), scope=scope, data=body)


@pytest.mark.parametrize(
    ("method", "resource", "key", "body"),
    [
        ("get", "event_definitions", "event", None),
        ("put", "event_definitions", "event", {"description": "x"}),
        ("patch", "event_definitions", "event", {"description": "x"}),
        ("delete", "event_definitions", "event", None),
        ("get", "property_definitions", "property", None),
        ("patch", "property_definitions", "property", {"description": "x"}),
        ("delete", "property_definitions", "property", None),
        ("get", "schema_property_groups", "group", None),
        ("patch", "schema_property_groups", "group", {"description": "x"}),
        ("delete", "schema_property_groups", "group", None),
        ("patch", "event_schemas", "schema", {}),
        ("delete", "event_schemas", "schema", None),
    ],
)
def test_another_projects_ids_are_not_found(project, other_project, method, resource, key, body):
    event = make_event(other_project, "theirs")
    group = make_group(other_project, "their group", [])
    theirs = {
        "event": event,
        "group": group,
        "schema": attach(event, group),
        "property": make_property(other_project, "p"),
    }
    response = getattr(project.client(), method)(url(project, resource, f"{theirs[key].pk}/"), body, format="json")
    assert response.status_code == 404, response.content
    assert response.json() == {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
    assert type(theirs[key]).objects.filter(pk=theirs[key].pk).exists()


@pytest.mark.parametrize("resource", ["event_definitions", "property_definitions", "schema_property_groups"])
def test_a_non_uuid_id_is_not_found(project, resource):
    assert project.client().get(url(project, resource, "not-a-uuid/")).status_code == 404


def test_lists_never_show_another_projects_rows(project, other_project, objects):
    event = make_event(other_project, "theirs")
    group = make_group(other_project, "their group", [])
    attach(event, group)
    make_property(other_project, "their_prop")
    client = project.client()
    for resource, field in [
        ("event_definitions", "name"),
        ("property_definitions", "name"),
        ("schema_property_groups", "name"),
    ]:
        names = [row[field] for row in client.get(url(project, resource)).json()["results"]]
        assert names and not {"theirs", "their group", "their_prop"} & set(names)
    schemas = client.get(url(project, "event_schemas")).json()["results"]
    assert [s["id"] for s in schemas] == [str(objects["schema"].pk)]


def test_metrics_is_not_available_to_personal_api_keys_but_answers_session_users(project, objects):
    path = url(project, "event_definitions", f"{objects['event'].pk}/metrics/")
    assert APIClient().get(path).status_code == 401
    _, legacy = personal_api_key_create(user=project.user, label="legacy", scopes=[])
    for client in (project.client(), project.client(legacy)):
        response = client.get(path)
        assert response.status_code == 403
        assert response.json()["detail"] == "This action does not support Personal API Key access"
    session = APIClient()
    session.force_authenticate(user=project.user)
    response = session.get(path)
    assert response.status_code == 200
    assert response.json() == {"query_usage_30_day": 0}
