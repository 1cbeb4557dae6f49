"""POST /file_system/{id}/link/: shortcut copies of a row or a whole folder at the full new path."""

from __future__ import annotations

from typing import Any

import pytest

from file_system.models import FileSystem
from tests.auth_matrix import assert_auth_matrix
from tests.file_system.conftest import fs_url
from tests.file_system.test_move import SUBTREE, relative_tree


def link(project: Any, item_id: Any, new_path: Any) -> Any:
    return project.client().post(fs_url(project, f"{item_id}/link/"), {"new_path": new_path}, format="json")


@pytest.fixture
def src(project: Any, make_row: Any) -> FileSystem:
    for path in SUBTREE:
        make_row(path, type="doc", ref=path[-1])
    return FileSystem.objects.get(team=project.team, path="Src\\/Dir")


def test_linking_a_file_creates_one_shortcut_and_its_folder(project: Any, make_row: Any) -> None:
    original = make_row("file.txt", type="doc", ref="9", href="/d/9", meta={"m": 1})
    response = link(project, original["id"], "NewFolder/NewFile.txt")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] != original["id"]
    assert (body["path"], body["depth"], body["shortcut"]) == ("NewFolder/NewFile.txt", 2, True)
    assert (body["type"], body["ref"], body["href"], body["meta"]) == ("doc", "9", "/d/9", {"m": 1})
    assert FileSystem.objects.filter(team=project.team, path="NewFolder", type="folder").exists()
    assert FileSystem.objects.get(pk=original["id"]).path == "file.txt"


def test_linking_a_folder_copies_every_descendant_as_a_shortcut(project: Any, src: FileSystem) -> None:
    before = relative_tree(project, src.path)
    response = link(project, src.pk, "Links/Copy\\/Of")
    assert response.status_code == 200
    assert (response.json()["path"], response.json()["shortcut"]) == ("Links/Copy\\/Of", True)
    assert relative_tree(project, "Links/Copy\\/Of") == before
    copies = FileSystem.objects.filter(team=project.team, path__startswith="Links/Copy\\/Of/")
    assert all(row.shortcut for row in copies)
    assert {row.ref for row in copies if row.type == "doc"} == {"1", "2", "3", "p"}
    assert relative_tree(project, src.path) == before  # originals untouched


def test_linking_into_an_existing_folder_adds_the_subtree_only(project: Any, src: FileSystem, make_row: Any) -> None:
    make_row("Existing", type="folder")
    existing = FileSystem.objects.get(team=project.team, path="Existing")
    assert link(project, src.pk, "Existing").json()["id"] == str(existing.pk)
    assert FileSystem.objects.filter(team=project.team, path="Existing").count() == 1
    assert relative_tree(project, "Existing") == relative_tree(project, src.path)


def test_linking_a_folder_into_itself_is_refused(project: Any, src: FileSystem) -> None:
    response = link(project, src.pk, src.path)
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Cannot link folder into itself",
        "attr": None,
    }


@pytest.mark.parametrize("body", [{}, {"new_path": "//"}])
def test_new_path_is_required(project: Any, src: FileSystem, body: dict[str, Any]) -> None:
    count = FileSystem.objects.count()
    response = project.client().post(fs_url(project, f"{src.pk}/link/"), body, format="json")
    assert response.status_code == 400
    assert (response.json()["detail"], response.json()["attr"]) == ("new_path is required", "new_path")
    assert FileSystem.objects.count() == count


def test_a_link_that_would_make_a_descendant_path_too_long_is_refused(project: Any, src: FileSystem) -> None:
    longest = max(len(path.encode()) for path in SUBTREE)
    count = FileSystem.objects.count()
    response = link(project, src.pk, "L" * (2049 - longest + len(src.path)))
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["attr"]) == ("max_length", "new_path")
    assert FileSystem.objects.count() == count
    assert link(project, src.pk, "L" * (2048 - longest + len(src.path))).status_code == 200


def test_a_file_link_to_a_path_too_long_is_refused(project: Any, make_row: Any) -> None:
    response = link(project, make_row("f")["id"], "ü" * 1025)
    assert response.status_code == 400
    assert response.json()["detail"] == "Ensure this path has no more than 2048 bytes (UTF-8)."


def test_another_projects_row_cannot_be_linked(project: Any, other_project: Any) -> None:
    theirs = FileSystem.objects.create(team=other_project.team, path="x", depth=1)
    assert link(project, theirs.pk, "y").status_code == 404
    assert not FileSystem.objects.filter(team=project.team).exists()


def test_link_auth_matrix(project: Any, other_project: Any, src: FileSystem) -> None:
    url = fs_url(project, f"{src.pk}/link/")
    assert_auth_matrix(project, other_project, "POST", url, scope="file_system:write", data={"new_path": "Z"})
    assert not FileSystem.objects.filter(team=project.team, shortcut=True).exists()
