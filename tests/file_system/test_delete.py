"""DELETE /file_system/{id}/: row-only delete (204); a folder takes its whole subtree."""

from __future__ import annotations

from typing import Any

from file_system.models import FileSystem
from tests.auth_matrix import assert_auth_matrix
from tests.file_system.conftest import fs_url, tree


def test_deleting_a_file_removes_only_that_row(project: Any, make_row: Any) -> None:
    row = make_row("a/b", type="doc")
    response = project.client().delete(fs_url(project, f"{row['id']}/"))
    assert response.status_code == 204
    assert response.content == b""
    assert set(tree(project)) == {"a"}


def test_deleting_a_folder_removes_every_descendant_but_not_lookalikes(project: Any, make_row: Any) -> None:
    for path in ("F/x", "F/sub/y", "F/sub/deeper/z", "F2/keep", "F\\/not-inside", "f/other-case"):
        make_row(path)
    folder = FileSystem.objects.get(team=project.team, path="F")
    assert project.client().delete(fs_url(project, f"{folder.pk}/")).status_code == 204
    assert set(tree(project)) == {"F2", "F2/keep", "F\\/not-inside", "f", "f/other-case"}


def test_deleting_a_feature_flag_row_keeps_the_flag(project: Any) -> None:
    from flags.models import FeatureFlag

    flag = FeatureFlag.objects.create(team=project.team, key="beta")
    row = FileSystem.objects.get(team=project.team, type="feature_flag", ref=str(flag.pk))
    assert project.client().delete(fs_url(project, f"{row.pk}/")).status_code == 204
    assert FeatureFlag.objects.filter(pk=flag.pk, deleted=False).exists()
    assert not FileSystem.objects.filter(pk=row.pk).exists()


def test_another_projects_row_cannot_be_deleted(project: Any, other_project: Any) -> None:
    theirs = FileSystem.objects.create(team=other_project.team, path="x", depth=1)
    assert project.client().delete(fs_url(project, f"{theirs.pk}/")).status_code == 404
    assert FileSystem.objects.filter(pk=theirs.pk).exists()


def test_delete_auth_matrix(project: Any, other_project: Any, make_row: Any) -> None:
    url = fs_url(project, f"{make_row('x')['id']}/")
    assert_auth_matrix(project, other_project, "DELETE", url, scope="file_system:write")
    assert FileSystem.objects.filter(team=project.team, path="x").exists()
