"""Annotations (reference §3): CRUD, scopes (organization-scoped ones show in every project of the
organization and no other), search, date range, order, default page size, soft delete, errors, auth."""

from __future__ import annotations

from typing import Any

import pytest

from posthog_clone.accounts.services import team_create
from tests.auth_matrix import assert_auth_matrix


def url(team_id: int, suffix: str = "") -> str:
    return f"/api/projects/{team_id}/annotations/{suffix}"


def create(project: Any, team_id: int | None = None, **body: Any) -> dict[str, Any]:
    response = project.client().post(url(team_id or project.team.pk), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def contents(project: Any, team_id: int, query: str = "") -> list[str]:
    response = project.client().get(url(team_id, query))
    assert response.status_code == 200, response.content
    return [a["content"] for a in response.json()["results"]]


@pytest.mark.django_db
def test_create_returns_posthog_fields(project: Any) -> None:
    body = create(
        project, content="v2.3 deployed", date_marker="2025-03-01T12:00:00Z", scope="project", creation_type="GIT"
    )
    assert set(body) == {
        "id", "content", "date_marker", "creation_type", "dashboard_item", "dashboard_id", "dashboard_name",
        "insight_short_id", "insight_name", "insight_derived_name", "created_by", "created_at", "updated_at",
        "deleted", "scope",
    }  # fmt: skip
    assert (body["content"], body["scope"], body["creation_type"], body["deleted"]) == (
        "v2.3 deployed", "project", "GIT", False,
    )  # fmt: skip
    assert body["date_marker"] == "2025-03-01T12:00:00Z" and body["created_by"]["email"] == project.user.email
    assert (body["dashboard_item"], body["dashboard_id"], body["insight_short_id"]) == (None, None, None)
    default = create(project, content="plain")
    assert (default["scope"], default["creation_type"]) == ("dashboard_item", "USR")


@pytest.mark.django_db
def test_organization_scope_is_seen_in_every_project_of_the_organization_only(project: Any, other_project: Any) -> None:
    sibling = team_create(organization=project.organization, name="Sibling")
    create(project, content="org-wide", scope="organization", date_marker="2025-01-02T00:00:00Z")
    create(project, content="mine", scope="project", date_marker="2025-01-01T00:00:00Z")
    create(project, sibling.pk, content="sibling's", scope="project", date_marker="2025-01-03T00:00:00Z")
    create(other_project, content="elsewhere", scope="organization")
    assert contents(project, project.team.pk) == ["org-wide", "mine"]
    assert contents(project, sibling.pk) == ["sibling's", "org-wide"]
    assert contents(other_project, other_project.team.pk) == ["elsewhere"]


@pytest.mark.django_db
def test_search_scope_dates_order_and_page_size(project: Any) -> None:
    for day in range(1, 4):
        create(project, content=f"deploy {day}", date_marker=f"2025-01-0{day}T00:00:00Z", scope="project")
    create(project, content="incident", date_marker="2025-01-05T00:00:00Z")
    team = project.team.pk
    assert contents(project, team) == ["incident", "deploy 3", "deploy 2", "deploy 1"]
    assert contents(project, team, "?search=DEPLOY") == ["deploy 3", "deploy 2", "deploy 1"]
    assert contents(project, team, "?scope=insight") == ["incident"]
    assert contents(project, team, "?date_from=2025-01-02&date_to=2025-01-03T00:00:00Z") == ["deploy 3", "deploy 2"]
    page = project.client().get(url(team)).json()
    assert (page["count"], page["next"]) == (4, None)
    assert len(project.client().get(url(team, "?limit=2")).json()["results"]) == 2


@pytest.mark.django_db
def test_soft_delete_restore_and_405(project: Any) -> None:
    annotation = create(project, content="oops", scope="project")
    target = url(project.team.pk, f"{annotation['id']}/")
    deleted = project.client().delete(target)
    assert deleted.status_code == 405 and deleted.content == b""
    assert project.client().patch(target, {"deleted": True}, format="json").json()["deleted"] is True
    assert project.client().get(target).status_code == 404
    assert contents(project, project.team.pk) == []
    assert project.client().patch(target, {"deleted": False}, format="json").json()["deleted"] is False
    assert contents(project, project.team.pk) == ["oops"]


@pytest.mark.django_db
def test_links_resolve_and_must_be_in_the_project(project: Any, other_project: Any) -> None:
    dashboard = project.client().post(f"/api/projects/{project.team.pk}/dashboards/", {"name": "Ops"}, format="json")
    insight = project.client().post(f"/api/projects/{project.team.pk}/insights/", {"name": "Signups"}, format="json")
    body = create(project, content="x", scope="dashboard", dashboard_id=dashboard.json()["id"])
    assert body["dashboard_name"] == "Ops"
    body = create(project, content="y", dashboard_item=insight.json()["id"])
    assert (body["insight_name"], body["insight_short_id"]) == ("Signups", insight.json()["short_id"])
    theirs = other_project.client().post(
        url(other_project.team.pk), {"content": "z", "dashboard_id": dashboard.json()["id"]}, format="json"
    )
    assert theirs.status_code == 400
    assert theirs.json() == {
        "type": "validation_error", "code": "invalid_input", "detail": "Dashboard not found.", "attr": "dashboard_id",
    }  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("?scope=nope", "Invalid scope: nope"),
        ("?date_from=yesterday", "Invalid date range: date_from must be a valid ISO 8601 date"),
        ("?date_to=soon", "Invalid date range: date_to must be a valid ISO 8601 date"),
        ("?date_from=2025-02-01&date_to=2025-01-01", "Invalid date range: date_from must be before date_to"),
    ],
)
def test_bad_list_parameters_are_400(project: Any, query: str, detail: str) -> None:
    response = project.client().get(url(project.team.pk, query))
    assert response.status_code == 400 and response.json()["detail"] == detail
    assert response.json()["type"] == "validation_error"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "attr", "detail"),
    [
        ({"scope": "recording"}, "scope", "Recording scope is deprecated"),
        ({"scope": "galaxy"}, "scope", '"galaxy" is not a valid choice.'),
        ({"content": "x" * 401}, "content", "Ensure this field has no more than 400 characters."),
        ({"date_marker": "not a date"}, "date_marker", None),
        ({"creation_type": "BOT"}, "creation_type", '"BOT" is not a valid choice.'),
    ],
)
def test_bad_bodies_are_400(project: Any, body: dict[str, Any], attr: str, detail: str | None) -> None:
    response = project.client().post(url(project.team.pk), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["attr"] == attr and response.json()["type"] == "validation_error"
    if detail:
        assert response.json()["detail"] == detail


@pytest.mark.django_db
def test_auth_matrix(project: Any, other_project: Any) -> None:
    annotation = create(project, content="a", scope="project")
    item = url(project.team.pk, f"{annotation['id']}/")
    assert_auth_matrix(project, other_project, "GET", url(project.team.pk), scope="annotation:read")
    assert_auth_matrix(project, other_project, "POST", url(project.team.pk), scope="annotation:write", data={})
    assert_auth_matrix(project, other_project, "GET", item, scope="annotation:read")
    assert_auth_matrix(project, other_project, "PATCH", item, scope="annotation:write", data={"content": "b"})
