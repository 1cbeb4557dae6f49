"""POST /file_system/{id}/count/ and POST /file_system/count_by_path/?path=: descendants at any depth."""

from __future__ import annotations

from typing import Any

import pytest

from file_system.models import FileSystem
from tests.auth_matrix import assert_auth_matrix
from tests.file_system.conftest import fs_url
from tests.file_system.test_move import SUBTREE


@pytest.fixture
def folder(project: Any, make_row: Any) -> FileSystem:
    for path in SUBTREE:
        make_row(path)
    make_row("Src\\/Dir-sibling/x")
    make_row("src\\/dir/other-case")
    return FileSystem.objects.get(team=project.team, path="Src\\/Dir")


def count(project: Any, item_id: Any) -> Any:
    return project.client().post(fs_url(project, f"{item_id}/count/"))


def test_count_by_id_counts_all_descendants(project: Any, folder: FileSystem) -> None:
    response = count(project, folder.pk)
    assert response.status_code == 200
    assert response.json() == {"count": 6}  # 4 files + 2 sub-folders, not the folder, not look-alikes
    sub = FileSystem.objects.get(team=project.team, path="Src\\/Dir/a\\\\b")
    assert count(project, sub.pk).json() == {"count": 4}


def test_count_matches_what_a_move_carries(project: Any, folder: FileSystem) -> None:
    expected = count(project, folder.pk).json()["count"]
    project.client().post(fs_url(project, f"{folder.pk}/move/"), {"new_path": "Moved"}, format="json")
    assert FileSystem.objects.filter(team=project.team, path__startswith="Moved/").count() == expected
    assert count(project, folder.pk).json() == {"count": expected}


def test_count_by_path_needs_no_folder_row(project: Any, folder: FileSystem) -> None:
    url = fs_url(project, "count_by_path/")
    assert project.client().post(url + "?path=Src\\/Dir").json() == {"count": 6}
    FileSystem.objects.filter(pk=folder.pk).delete()
    assert project.client().post(url + "?path=Src\\/Dir").json() == {"count": 6}
    assert project.client().post(url + "?path=nothing-here").json() == {"count": 0}


def test_count_on_a_file_is_refused(project: Any, make_row: Any) -> None:
    response = count(project, make_row("file")["id"])
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Count can only be called on folders",
        "attr": None,
    }


def test_count_by_path_requires_path(project: Any) -> None:
    response = project.client().post(fs_url(project, "count_by_path/"), {"path": "in-the-body"}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "path parameter is required"
    assert response.json()["attr"] == "path"


def test_other_projects_rows_are_not_counted(project: Any, other_project: Any, folder: FileSystem) -> None:
    FileSystem.objects.create(team=other_project.team, path="Src\\/Dir/theirs", depth=2)
    assert count(project, folder.pk).json() == {"count": 6}
    theirs = FileSystem.objects.create(team=other_project.team, path="T", depth=1, type="folder")
    assert count(project, theirs.pk).status_code == 404


def test_count_auth_matrix(project: Any, other_project: Any, folder: FileSystem) -> None:
    assert_auth_matrix(project, other_project, "POST", fs_url(project, f"{folder.pk}/count/"), scope="file_system:read")
    url = fs_url(project, "count_by_path/?path=Src")
    assert_auth_matrix(project, other_project, "POST", url, scope="file_system:read")
