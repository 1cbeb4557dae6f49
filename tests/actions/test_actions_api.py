"""/api/projects/:id/actions/: CRUD with steps, soft delete only, unique live names, CSV, auth and isolation."""

from __future__ import annotations

import csv
from typing import Any

import pytest

from tests.auth_matrix import assert_auth_matrix

SIGNUP = {"name": "Signed up", "steps": [{"event": "$autocapture", "selector": "#cta"}, {"url": "/signup"}]}


def url(project: Any, suffix: str = "") -> str:
    return f"/api/projects/{project.team.pk}/actions/{suffix}"


def create(project: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = project.client().post(url(project), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_retrieve_and_list(project: Any) -> None:
    created = create(project, {**SIGNUP, "description": "signup clicks", "tags": ["growth"]})
    assert created["steps"][0]["selector"] == "#cta"
    assert created["steps"][1]["url"] == "/signup" and created["steps"][1]["url_matching"] == "contains"
    assert (created["is_action"], created["is_calculating"], created["deleted"]) == (True, False, False)
    assert created["created_by"]["email"] == project.user.email
    assert created["bytecode_error"] is None
    assert project.client().get(url(project, f"{created['id']}/")).json() == created
    listed = project.client().get(url(project)).json()
    assert list(listed) == ["results"]  # not paginated, as PostHog's
    assert [a["id"] for a in listed["results"]] == [created["id"]]


def test_environments_prefix_sees_the_same_actions(project: Any) -> None:
    created = create(project, SIGNUP)
    listed = project.client().get(f"/api/environments/{project.team.pk}/actions/").json()
    assert [a["id"] for a in listed["results"]] == [created["id"]]


def test_live_names_are_unique(project: Any) -> None:
    first = create(project, SIGNUP)
    clash = project.client().post(url(project), SIGNUP, format="json")
    assert clash.status_code == 400
    assert clash.json() == {
        "type": "validation_error",
        "code": "unique",
        "detail": f"This project already has an action with this name, ID {first['id']}",
        "attr": "name",
    }
    project.client().patch(url(project, f"{first['id']}/"), {"deleted": True}, format="json")
    assert project.client().post(url(project), SIGNUP, format="json").status_code == 201  # deleted names are free


def test_delete_is_405_and_patch_deleted_soft_deletes_and_restores(project: Any) -> None:
    created = create(project, SIGNUP)
    item = url(project, f"{created['id']}/")
    assert project.client().delete(item).status_code == 405
    assert project.client().get(item).status_code == 200
    assert project.client().patch(item, {"deleted": True}, format="json").json()["deleted"] is True
    assert project.client().get(item).status_code == 404
    assert project.client().get(url(project)).json()["results"] == []
    restored = project.client().patch(item, {"deleted": False}, format="json")
    assert restored.status_code == 200 and restored.json()["deleted"] is False
    assert project.client().get(item).status_code == 200


def test_update_replaces_steps_and_pins(project: Any) -> None:
    created = create(project, SIGNUP)
    item = url(project, f"{created['id']}/")
    body = project.client().patch(
        item, {"steps": [{"event": "bought"}], "pinned_at": "2020-01-01T00:00:00Z"}, format="json"
    )
    assert body.status_code == 200
    assert [s["event"] for s in body.json()["steps"]] == ["bought"]
    assert body.json()["pinned_at"] > "2020-01-02"  # any value pins at the server's time
    unpinned = project.client().patch(item, {"pinned_at": None}, format="json").json()
    assert unpinned["pinned_at"] is None


def test_a_step_that_cannot_be_matched_is_recorded_not_refused(project: Any) -> None:
    created = create(project, {"name": "odd", "steps": [{"event": "$autocapture", "selector": "div ~ p"}]})
    assert "Unsupported element selector" in created["bytecode_error"]


def test_csv_list(project: Any) -> None:
    create(project, SIGNUP)
    response = project.client().get(url(project), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    header = next(csv.reader([lines[0]]))
    assert header[:3] == ["id", "name", "description"] and "steps" in header
    assert next(csv.reader([lines[1]]))[1] == "Signed up"


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"name": "x", "steps": [{"url": "/a", "url_matching": "startswith"}]}, "steps__0__url_matching"),
        ({"name": "x", "steps": "event"}, "steps"),
        ({"name": "x" * 401}, "name"),
        ({"name": "x", "steps": [{"properties": "nope"}]}, "steps__0__properties"),
        ({"name": "x", "steps": [None]}, "steps"),
    ],
)
def test_bad_input_is_400(project: Any, body: dict, attr: str) -> None:
    response = project.client().post(url(project), body, format="json")
    assert response.status_code == 400, response.content
    assert (response.json()["type"], response.json()["attr"]) == ("validation_error", attr)


def test_another_projects_action_is_404(project: Any, other_project: Any) -> None:
    theirs = create(other_project, SIGNUP)
    assert project.client().get(url(project, f"{theirs['id']}/")).status_code == 404
    assert project.client().patch(url(project, f"{theirs['id']}/"), {"name": "mine"}, format="json").status_code == 404
    assert project.client().get(url(project)).json()["results"] == []


@pytest.mark.parametrize(
    ("method", "suffix", "scope", "data"),
    [
        ("GET", "", "action:read", None),
        ("POST", "", "action:write", SIGNUP),
        ("GET", "{id}/", "action:read", None),
        ("PATCH", "{id}/", "action:write", {"name": "renamed"}),
    ],
)
def test_auth_matrix(project: Any, other_project: Any, method: str, suffix: str, scope: str, data: Any) -> None:
    created = create(project, {"name": "existing", "steps": []})
    assert_auth_matrix(
        project, other_project, method, url(project, suffix.format(id=created["id"])), scope=scope, data=data
    )
