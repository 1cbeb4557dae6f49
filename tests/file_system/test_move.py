"""POST /file_system/{id}/move/: full new path, subtree rewritten in one go, merges, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from file_system.models import FileSystem
from tests.auth_matrix import assert_auth_matrix
from tests.file_system.conftest import fs_url, tree

# A 3-level folder whose names need escaping (a slash and a backslash inside names).
SUBTREE = [
    "Src\\/Dir/a\\\\b/file 1",
    "Src\\/Dir/a\\\\b/deep\\/er/file\\/2",
    "Src\\/Dir/a\\\\b/deep\\/er/file 3",
    "Src\\/Dir/top",
]


def relative_tree(project: Any, root: str) -> dict[str, tuple[int | None, str]]:
    """Descendants of `root`, keyed by their path relative to it, with (depth - root depth, type)."""
    root_depth = FileSystem.objects.get(team=project.team, path=root, type="folder").depth
    return {
        row.path[len(root) :]: (row.depth - root_depth, row.type)
        for row in FileSystem.objects.filter(team=project.team, path__startswith=root + "/")
    }


def move(project: Any, item_id: Any, new_path: Any) -> Any:
    return project.client().post(fs_url(project, f"{item_id}/move/"), {"new_path": new_path}, format="json")


@pytest.fixture
def src(project: Any, make_row: Any) -> FileSystem:
    for path in SUBTREE:
        make_row(path, type="doc")
    make_row("Src\\/Dir-sibling/stays")  # shares a string prefix, not a path prefix
    return FileSystem.objects.get(team=project.team, path="Src\\/Dir")


def test_moving_a_folder_keeps_every_descendants_relative_path(project: Any, src: FileSystem) -> None:
    before = relative_tree(project, src.path)
    assert len(before) == 6  # 4 files + 2 sub-folders
    response = move(project, src.pk, "New\\\\Root/Moved\\/Here")
    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["path"], response.json()["depth"]) == (
        str(src.pk),
        "New\\\\Root/Moved\\/Here",
        2,
    )
    assert relative_tree(project, "New\\\\Root/Moved\\/Here") == before
    assert not FileSystem.objects.filter(team=project.team, path__startswith="Src\\/Dir/").exists()
    paths = set(tree(project))
    assert {"New\\\\Root", "Src\\/Dir-sibling/stays"} <= paths  # ancestor created; look-alike untouched
    assert all(
        row.depth == len(row.path.replace("\\\\", "").replace("\\/", "").split("/"))
        for row in FileSystem.objects.filter(team=project.team)
    )


def test_moving_a_folder_is_a_fixed_number_of_queries(project: Any, src: FileSystem) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert move(project, src.pk, "Elsewhere").status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "file_system" in q["sql"]]
    assert len(writes) == 2  # one UPDATE for the whole subtree, one for the folder row


def test_moving_into_an_existing_folder_merges(project: Any, src: FileSystem, make_row: Any) -> None:
    make_row("Target/already-there")
    target = FileSystem.objects.get(team=project.team, path="Target")
    before = relative_tree(project, src.path)
    response = move(project, src.pk, "Target")
    assert response.status_code == 200
    assert response.json()["id"] == str(target.pk)
    assert not FileSystem.objects.filter(pk=src.pk).exists()
    assert relative_tree(project, "Target") == before | {"/already-there": (1, "")}
    assert FileSystem.objects.filter(team=project.team, path="Target", type="folder").count() == 1


def test_moving_a_file_changes_its_path_and_creates_ancestors(project: Any, make_row: Any) -> None:
    row = make_row("a/file")
    response = move(project, row["id"], "x/y/file-renamed")
    assert (response.json()["path"], response.json()["depth"]) == ("x/y/file-renamed", 3)
    assert {"x", "x/y"} <= set(tree(project))


def test_moving_a_folder_into_itself_is_refused(project: Any, src: FileSystem) -> None:
    response = move(project, src.pk, src.path)
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Cannot move folder into itself",
        "attr": None,
    }


@pytest.mark.parametrize("child", ["Src\\/Dir/a\\\\b", "Src\\/Dir/a\\\\b/deep\\/er/new"])
def test_moving_a_folder_into_its_own_descendant_is_refused(project: Any, src: FileSystem, child: str) -> None:
    before = tree(project)
    response = move(project, src.pk, child)
    assert response.status_code == 400
    assert response.json()["detail"] == "Cannot move folder into its own subfolder"
    assert tree(project) == before


@pytest.mark.parametrize("body", [{}, {"new_path": ""}, {"new_path": "///"}])
def test_new_path_is_required(project: Any, src: FileSystem, body: dict[str, Any]) -> None:
    response = project.client().post(fs_url(project, f"{src.pk}/move/"), body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "new_path is required"
    assert response.json()["attr"] == "new_path"


def test_moving_a_file_to_its_own_path_changes_nothing(project: Any, make_row: Any) -> None:
    row = make_row("a/file")
    before = tree(project)
    response = move(project, row["id"], "a//file/")
    assert response.status_code == 200
    assert response.json() == row
    assert tree(project) == before


def test_a_move_that_would_make_a_descendant_path_too_long_is_refused(project: Any, src: FileSystem) -> None:
    longest = max(len(path.encode()) for path in SUBTREE)
    fits = "N" * (2048 - longest + len(src.path))  # a new path that puts the longest descendant at 2048 bytes
    before = tree(project)
    response = move(project, src.pk, fits + "N")
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "max_length",
        "detail": "A descendant's path would exceed 2048 bytes (UTF-8) at this new path.",
        "attr": "new_path",
    }
    assert tree(project) == before
    assert move(project, src.pk, fits).status_code == 200
    assert max(len(row.path.encode()) for row in FileSystem.objects.filter(team=project.team)) == 2048


def test_another_projects_row_cannot_be_moved(project: Any, other_project: Any) -> None:
    theirs = FileSystem.objects.create(team=other_project.team, path="x", depth=1, type="folder")
    assert move(project, theirs.pk, "y").status_code == 404
    assert FileSystem.objects.get(pk=theirs.pk).path == "x"


def test_move_auth_matrix(project: Any, other_project: Any, src: FileSystem) -> None:
    url = fs_url(project, f"{src.pk}/move/")
    assert_auth_matrix(project, other_project, "POST", url, scope="file_system:write", data={"new_path": "Z"})
    assert FileSystem.objects.get(pk=src.pk).path == "Src\\/Dir"
