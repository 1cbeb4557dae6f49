"""/api/projects/:id/cohorts/: CRUD, soft delete only, list filters and order, the fields of PostHog's
serializer, bad input 400s with PostHog's strings, isolation and the auth matrix of every endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cohorts.models import Cohort
from posthog_clone import definitions_version, registry
from posthog_clone.accounts.services import personal_api_key_create, user_create
from tests.auth_matrix import assert_auth_matrix
from tests.cohorts.conftest import create, filters, prop, url

PRO = filters(prop("plan", "pro"))
FIELDS = [
    "id", "name", "description", "groups", "deleted", "filters", "query", "is_calculating", "created_by",
    "created_at", "last_calculation", "errors_calculating", "count", "is_static", "cohort_type", "experiment_set",
]  # fmt: skip


def test_create_and_retrieve_a_dynamic_cohort(project: Any) -> None:
    created = create(project, {"name": "Pro users", "description": "paying", "filters": PRO})
    assert list(created) == FIELDS
    assert (created["name"], created["description"], created["filters"]) == ("Pro users", "paying", PRO)
    assert (created["is_static"], created["cohort_type"], created["deleted"]) == (False, "person_property", False)
    assert (created["is_calculating"], created["count"], created["last_calculation"]) == (True, None, None)
    assert (created["errors_calculating"], created["query"], created["experiment_set"]) == (0, None, [])
    assert created["created_by"]["email"] == project.user.email
    assert project.client().get(url(project, f"{created['id']}/")).json() == created


def test_environments_prefix_sees_the_same_cohorts(project: Any) -> None:
    created = create(project, {"name": "Pro", "filters": PRO})
    listed = project.client().get(url(project, base="environments")).json()
    assert [c["id"] for c in listed["results"]] == [created["id"]]


def test_list_is_paginated_newest_first(project: Any) -> None:
    ids = [create(project, {"name": f"c{i}", "filters": PRO})["id"] for i in range(3)]
    first = project.client().get(url(project), {"limit": 2}).json()
    assert first["count"] == 3 and [c["id"] for c in first["results"]] == ids[::-1][:2]
    assert first["next"] is not None and first["previous"] is None
    second = project.client().get(url(project), {"limit": 2, "offset": 2}).json()
    assert [c["id"] for c in second["results"]] == [ids[0]]


def test_list_filters(project: Any) -> None:
    other_user = user_create(email="bob@example.com")
    dynamic = create(project, {"name": "Pro users", "filters": PRO})
    static = create(project, {"name": "Imported", "is_static": True})
    behavioral = Cohort.objects.create(
        team=project.team,
        name="Buyers",
        created_by=other_user,
        filters={
            "properties": {
                "type": "AND",
                "values": [
                    {
                        "type": "behavioral",
                        "key": "buy",
                        "value": "performed_event",
                        "event_type": "events",
                        "time_value": 30,
                        "time_interval": "day",
                    }
                ],
            }
        },  # noqa: E501
    )
    uses_behavioral = Cohort.objects.create(
        team=project.team,
        name="Pro buyers",
        filters={"properties": {"type": "AND", "values": [{"type": "cohort", "key": "id", "value": behavioral.pk}]}},
    )

    def listed(**params: Any) -> list[int]:
        response = project.client().get(url(project), params)
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["results"]]

    everything = [uses_behavioral.pk, behavioral.pk, static["id"], dynamic["id"]]
    assert listed() == everything
    assert listed(type="static") == [static["id"]]
    assert listed(type="dynamic") == [uses_behavioral.pk, behavioral.pk, dynamic["id"]]
    assert listed(created_by_id=other_user.pk) == [behavioral.pk]
    assert listed(search="pro") == [uses_behavioral.pk, dynamic["id"]]  # case-insensitive part of the name
    assert listed(hide_behavioral_cohorts="true") == [static["id"], dynamic["id"]]
    assert listed(hide_behavioral_cohorts="false") == everything
    bad = project.client().get(url(project), {"type": "both"})
    assert bad.status_code == 400 and bad.json()["attr"] == "type"


def test_delete_is_405_and_patch_deleted_soft_deletes_and_restores(project: Any) -> None:
    created = create(project, {"name": "Pro", "filters": PRO})
    item = url(project, f"{created['id']}/")
    deleted = project.client().delete(item)
    assert deleted.status_code == 405 and deleted.content == b""
    assert project.client().patch(item, {"deleted": True}, format="json").json()["deleted"] is True
    assert project.client().get(item).status_code == 404
    assert project.client().get(url(project)).json()["results"] == []
    assert project.client().get(url(project, f"{created['id']}/persons/")).status_code == 404
    restored = project.client().patch(item, {"deleted": False}, format="json")
    assert restored.status_code == 200 and restored.json()["deleted"] is False
    assert restored.json()["is_calculating"] is True  # restoring recalculates
    assert project.client().get(item).status_code == 200


def test_update_recalculates_a_dynamic_cohort_and_put_replaces(project: Any) -> None:
    created = create(project, {"name": "Pro", "filters": PRO})
    Cohort.objects.filter(pk=created["id"]).update(is_calculating=False)
    item = url(project, f"{created['id']}/")
    patched = project.client().patch(item, {"name": "Enterprise"}, format="json").json()
    assert (patched["name"], patched["is_calculating"]) == ("Enterprise", True)
    put = project.client().put(item, {"name": "Free", "filters": filters(prop("plan", "free"))}, format="json")
    assert put.status_code == 200 and put.json()["filters"] == filters(prop("plan", "free"))


def test_every_change_bumps_the_definitions_version(project: Any, django_capture_on_commit_callbacks: Any) -> None:
    before = definitions_version.current(project.team.pk)
    with django_capture_on_commit_callbacks(execute=True):  # bumped once the change is committed
        created = create(project, {"name": "Pro", "filters": PRO})
    after_create = definitions_version.current(project.team.pk)
    with django_capture_on_commit_callbacks(execute=True):
        project.client().patch(url(project, f"{created['id']}/"), {"name": "x"}, format="json")
    assert before < after_create < definitions_version.current(project.team.pk)


def test_legacy_groups_are_shown_as_filters(project: Any) -> None:
    cohort = Cohort.objects.create(
        team=project.team,
        name="old",
        groups=[
            {"properties": {"plan": "pro"}},
            {"event_id": "signed up", "days": 7, "count": 2, "count_operator": "gte"},
        ],  # noqa: E501
    )
    body = project.client().get(url(project, f"{cohort.pk}/")).json()
    assert body["groups"] == cohort.groups
    assert body["filters"] == {
        "properties": {
            "type": "OR",
            "values": [
                {"type": "AND", "values": [{"key": "plan", "value": "pro", "type": "person"}]},
                {
                    "type": "AND",
                    "values": [
                        {
                            "key": "signed up",
                            "type": "behavioral",
                            "value": "performed_event_multiple",
                            "event_type": "events",
                            "time_interval": "day",
                            "time_value": 7,
                            "operator": "gte",
                            "operator_value": 2,
                            "negation": False,
                        }  # fmt: skip
                    ],
                },
            ],
        }
    }
    empty = Cohort.objects.create(team=project.team, name="nothing")
    assert project.client().get(url(project, f"{empty.pk}/")).json()["filters"] == {
        "properties": {"type": "AND", "values": []}
    }


def test_cohort_type_is_derived_and_checked(project: Any) -> None:
    assert create(project, {"name": "s", "is_static": True})["cohort_type"] == "static"
    assert create(project, {"name": "p", "filters": PRO, "cohort_type": "person_property"})["cohort_type"] == (
        "person_property"
    )
    wrong = project.client().post(
        url(project), {"name": "x", "filters": PRO, "cohort_type": "behavioral"}, format="json"
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Cohort type 'behavioral' does not match the filters. Expected type: 'person_property'",
        "attr": "cohort_type",
    }


@pytest.mark.parametrize(
    ("body", "detail", "attr"),
    [
        (
            {"name": "x", "filters": {"type": "AND", "values": []}},
            "Must contain a 'properties' key with type and values",
            "filters__detail",
        ),
        (
            {"name": "x", "is_static": True, "query": {"kind": "EventsQuery", "select": ["*"]}},
            "Query must be an ActorsQuery or HogQLQuery. Got: EventsQuery",
            "query",
        ),
        (
            {"name": "x", "query": {"kind": "HogQLQuery", "query": "SELECT id FROM persons"}},
            "Cannot create a dynamic cohort with a query. Set is_static to true.",
            None,
        ),
        (
            {"name": "x", "is_static": True, "filters": PRO, "query": {"kind": "HogQLQuery", "query": "SELECT 1"}},
            "Cannot set both query and filters at the same time.",
            None,
        ),
        ({"name": "x" * 401, "filters": PRO}, "Ensure this field has no more than 400 characters.", "name"),
        ({"name": "x", "description": "d" * 1001, "filters": PRO}, None, "description"),
        ({"name": "x", "is_static": True, "query": {"kind": "ActorsQuery", "nope": 1}}, None, "query__nope"),
        (
            {"name": "x", "filters": filters({"type": "cohort", "key": "id", "value": 999999})},
            "Invalid Cohort ID in filter",
            None,
        ),
    ],
)
def test_bad_input_is_400(project: Any, body: dict, detail: str | None, attr: str | None) -> None:
    response = project.client().post(url(project), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert response.json()["attr"] == attr
    if detail:
        assert response.json()["detail"] == detail
    assert not Cohort.objects.filter(team=project.team).exists()


def test_a_cohort_cannot_reference_itself_through_others(project: Any) -> None:
    first = create(project, {"name": "a", "filters": PRO})
    second = create(project, {"name": "b", "filters": filters({"type": "cohort", "key": "id", "value": first["id"]})})
    loop = filters({"type": "cohort", "key": "id", "value": second["id"]})
    response = project.client().patch(url(project, f"{first['id']}/"), {"filters": loop}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Cohorts cannot reference other cohorts in a loop."


# ---------------------------------------------------------------------------------------------------
# who uses a cohort (the flags app answers through the registry)

FLAG_USERS: dict[int, list[tuple[str, str]]] = {}


def flag_users(team_id: int, cohort_id: int) -> list[tuple[str, str]]:
    return FLAG_USERS.get(cohort_id, [])


@pytest.fixture
def used_by_flags(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[int, list[tuple[str, str]]]]:
    hooks = {
        **registry.REFERENCE_USERS.get("cohort", {}),
        __name__ + ".flag_users": registry.Hook(__name__ + ".flag_users"),
    }
    monkeypatch.setitem(registry.REFERENCE_USERS, "cohort", hooks)
    FLAG_USERS.clear()
    yield FLAG_USERS
    FLAG_USERS.clear()


def test_a_cohort_used_by_active_flags_cannot_be_deleted(project: Any, used_by_flags: dict) -> None:
    created = create(project, {"name": "Pro", "filters": PRO})
    used_by_flags[created["id"]] = [("feature_flag", "beta-access"), ("feature_flag", "new-nav"), ("insight", "x")]
    response = project.client().patch(url(project, f"{created['id']}/"), {"deleted": True}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "This cohort is used in 2 active feature flag(s): beta-access, new-nav. Please remove the cohort "
        "from these feature flags before deleting it.",
        "attr": None,
    }
    assert Cohort.objects.get(pk=created["id"]).deleted is False
    used_by_flags.clear()
    assert (
        project.client().patch(url(project, f"{created['id']}/"), {"deleted": True}, format="json").status_code == 200
    )


def test_a_cohort_used_by_flags_takes_no_event_filters(project: Any, used_by_flags: dict) -> None:
    created = create(project, {"name": "Pro", "filters": PRO})
    used_by_flags[created["id"]] = [("feature_flag", "beta-access")]
    behavioral = filters(
        {
            "type": "behavioral",
            "key": "buy",
            "value": "performed_event",
            "event_type": "events",
            "time_value": 30,
            "time_interval": "day",
        }
    )  # noqa: E501
    Cohort.objects.filter(pk=created["id"]).update(
        filters=behavioral
    )  # the check is the cohort app's, not the filters'
    response = project.client().patch(url(project, f"{created['id']}/"), {"name": "renamed"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "behavioral_cohort_found"
    assert response.json()["detail"] == "Behavioral filters cannot be added to cohorts used in feature flags."


# ---------------------------------------------------------------------------------------------------
# isolation and auth


def test_another_projects_cohort_is_404_everywhere(project: Any, other_project: Any) -> None:
    theirs = create(other_project, {"name": "theirs", "filters": PRO})
    mine = f"{theirs['id']}/"
    client = project.client()
    assert client.get(url(project, mine)).status_code == 404
    assert client.patch(url(project, mine), {"name": "mine"}, format="json").status_code == 404
    assert client.patch(url(project, mine), {"deleted": True}, format="json").status_code == 404
    assert client.patch(url(project, mine), {"deleted": False}, format="json").status_code == 404
    assert client.delete(url(project, mine)).status_code == 404
    for action in ("persons", "calculation_history", "duplicate_as_static_cohort"):
        assert client.get(url(project, f"{mine}{action}/")).status_code == 404, action
    for action, body in (
        ("add_persons_to_static_cohort", {"person_ids": []}),
        ("remove_person_from_static_cohort", {}),
    ):
        assert client.patch(url(project, f"{mine}{action}/"), body, format="json").status_code == 404, action
    assert client.get(url(project)).json()["results"] == []
    assert Cohort.objects.get(pk=theirs["id"]).name == "theirs"


def test_a_filter_naming_another_projects_cohort_is_refused(project: Any, other_project: Any) -> None:
    theirs = create(other_project, {"name": "theirs", "filters": PRO})
    body = {"name": "x", "filters": filters({"type": "cohort", "key": "id", "value": theirs["id"]})}
    response = project.client().post(url(project), body, format="json")
    assert response.status_code == 400 and response.json()["detail"] == "Invalid Cohort ID in filter"


ENDPOINTS = [
    ("GET", "", "cohort:read", None),
    ("POST", "", "cohort:write", {"name": "x", "filters": PRO}),
    ("GET", "{id}/", "cohort:read", None),
    ("PATCH", "{id}/", "cohort:write", {"name": "renamed"}),
    ("PUT", "{id}/", "cohort:write", {"name": "renamed", "filters": PRO}),
    ("DELETE", "{id}/", "cohort:write", None),
    ("GET", "{id}/persons/", "cohort:read", None),
    ("GET", "{id}/calculation_history/", "cohort:read", None),
    ("GET", "{id}/duplicate_as_static_cohort/", "cohort:write", None),
    ("PATCH", "{static}/add_persons_to_static_cohort/", "cohort:write", {"person_ids": []}),
    ("PATCH", "{static}/remove_person_from_static_cohort/", "cohort:write", {"person_id": ""}),
]


@pytest.mark.parametrize(("method", "suffix", "scope", "data"), ENDPOINTS)
def test_auth_matrix(project: Any, other_project: Any, method: str, suffix: str, scope: str, data: Any) -> None:
    dynamic = create(project, {"name": "existing", "filters": PRO})
    static = create(project, {"name": "listed", "is_static": True})
    path = url(project, suffix.format(id=dynamic["id"], static=static["id"]))
    assert_auth_matrix(project, other_project, method, path, scope=scope, data=data)


def test_persons_needs_person_read_too(project: Any) -> None:
    created = create(project, {"name": "existing", "filters": PRO})
    _, cohort_only = personal_api_key_create(user=project.user, label="c", scopes=["cohort:read"])
    denied = project.client(cohort_only).get(url(project, f"{created['id']}/persons/"))
    assert denied.status_code == 403
    assert denied.json()["detail"] == "API key missing required scope 'person:read'"
    _, both = personal_api_key_create(user=project.user, label="cp", scopes=["cohort:read", "person:read"])
    assert project.client(both).get(url(project, f"{created['id']}/persons/")).status_code == 200
