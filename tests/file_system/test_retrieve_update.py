"""GET/PATCH/PUT /file_system/{id}/: same scoping as list, depth recomputed, children left in place."""

from __future__ import annotations

from typing import Any

import pytest

from file_system.models import FileSystem
from tests.auth_matrix import assert_auth_matrix
from tests.file_system.conftest import fs_url, tree


def test_retrieve_returns_the_row(project: Any, make_row: Any) -> None:
    row = make_row("A/B/C", type="doc")
    response = project.client().get(fs_url(project, f"{row['id']}/"))
    assert response.status_code == 200
    assert response.json() == row


def test_patch_path_recomputes_depth_without_moving_children(project: Any, make_row: Any) -> None:
    row = make_row("A/B/C", type="doc")
    response = project.client().patch(fs_url(project, f"{row['id']}/"), {"path": "SingleSegment"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["path"], response.json()["depth"]) == ("SingleSegment", 1)
    assert tree(project) == {"A": (1, "folder", False), "A/B": (2, "folder", False), "SingleSegment": (1, "doc", False)}


def test_patch_changes_only_given_fields(project: Any, make_row: Any) -> None:
    row = make_row("x", type="doc", ref="1", href="/d/1", meta={"k": "v"})
    body = project.client().patch(fs_url(project, f"{row['id']}/"), {"shortcut": True}, format="json").json()
    assert body == row | {"shortcut": True}


def test_renaming_a_folder_by_patch_strands_its_children(project: Any, make_row: Any) -> None:
    make_row("Old/child")
    folder = FileSystem.objects.get(team=project.team, path="Old")
    project.client().patch(fs_url(project, f"{folder.pk}/"), {"path": "New"}, format="json")
    assert set(tree(project)) == {"New", "Old/child"}


def test_put_replaces_fields_and_requires_path(project: Any, make_row: Any) -> None:
    row = make_row("x", type="doc")
    response = project.client().put(fs_url(project, f"{row['id']}/"), {"path": "y/z", "type": "t"}, format="json")
    assert response.status_code == 200
    assert (response.json()["path"], response.json()["depth"], response.json()["type"]) == ("y/z", 2, "t")
    missing = project.client().put(fs_url(project, f"{row['id']}/"), {"type": "t"}, format="json")
    assert missing.status_code == 400
    assert missing.json()["attr"] == "path"


def test_read_only_fields_are_ignored(project: Any, make_row: Any) -> None:
    row = make_row("x")
    body = project.client().patch(fs_url(project, f"{row['id']}/"), {"depth": 9, "id": "nope"}, format="json").json()
    assert (body["id"], body["depth"]) == (row["id"], 1)


def test_another_projects_row_is_404(project: Any, other_project: Any) -> None:
    theirs = FileSystem.objects.create(team=other_project.team, path="secret", depth=1)
    for method in ("get", "patch", "put"):
        response = getattr(project.client(), method)(fs_url(project, f"{theirs.pk}/"), {"path": "x"}, format="json")
        assert response.status_code == 404, method
        assert response.json() == {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
    assert FileSystem.objects.get(pk=theirs.pk).path == "secret"


def test_unknown_id_is_404(project: Any) -> None:
    assert project.client().get(fs_url(project, "0196aaaa-0000-7000-8000-000000000000/")).status_code == 404


@pytest.mark.parametrize(
    "bad_id",
    ["12345", "not-a-uuid", "-" * 36, "0196aaaa00007000800000000000000g", "0196aaaa-0000-7000-8000-0000000000000"],
)
def test_ids_that_are_not_uuids_are_404(project: Any, bad_id: str) -> None:
    for method in ("get", "patch", "delete"):
        response = getattr(project.client(), method)(fs_url(project, f"{bad_id}/"), {"path": "x"}, format="json")
        assert response.status_code == 404, (method, response.content)
        assert response.json()["type"] == "invalid_request"
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(("path", "code"), [("é" * 1025, "max_length"), ("///", "blank"), ("", "blank")])
def test_patch_to_an_unstorable_path_is_a_400(project: Any, make_row: Any, path: str, code: str) -> None:
    row = make_row("x")
    response = project.client().patch(fs_url(project, f"{row['id']}/"), {"path": path}, format="json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["attr"]) == (code, "path")
    assert FileSystem.objects.get(pk=row["id"]).path == "x"


def test_retrieve_and_update_auth_matrix(project: Any, other_project: Any, make_row: Any) -> None:
    url = fs_url(project, f"{make_row('x')['id']}/")
    assert_auth_matrix(project, other_project, "GET", url, scope="file_system:read")
    assert_auth_matrix(project, other_project, "PATCH", url, scope="file_system:write", data={"path": "y"})
    assert_auth_matrix(project, other_project, "PUT", url, scope="file_system:write", data={"path": "y"})
