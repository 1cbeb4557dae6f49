"""GET /file_system/unfiled/: rows for objects that lack one, then a tree-wide repair; idempotent."""

from __future__ import annotations

from typing import Any

from file_system.models import FileSystem
from flags.models import FeatureFlag
from tests.auth_matrix import assert_auth_matrix
from tests.file_system.conftest import fs_url, tree


def unfiled(project: Any, **params: str) -> Any:
    return project.client().get(fs_url(project, "unfiled/"), params)


def test_unfiled_files_objects_without_a_row_and_is_idempotent(project: Any) -> None:
    flags = [FeatureFlag.objects.create(team=project.team, key=f"flag-{i}", created_by=project.user) for i in range(3)]
    FeatureFlag.objects.create(team=project.team, key="deleted", deleted=True)
    FileSystem.objects.all().delete()
    response = unfiled(project)
    assert response.status_code == 200
    assert response.json() == {"count": 3}
    assert tree(project) == {
        "Unfiled": (1, "folder", False),
        "Unfiled/Feature Flags": (2, "folder", False),
        **{f"Unfiled/Feature Flags/flag-{i}": (3, "feature_flag", False) for i in range(3)},
    }
    row = FileSystem.objects.get(ref=str(flags[0].pk))
    expected = (flags[0].created_at, project.user.pk, f"/feature_flags/{flags[0].pk}")
    assert (row.created_at, row.created_by_id, row.href) == expected
    assert unfiled(project).json() == {"count": 0}
    assert FileSystem.objects.filter(team=project.team).count() == 5


def test_a_shortcut_does_not_count_as_the_objects_row(project: Any) -> None:
    flag = FeatureFlag.objects.create(team=project.team, key="linked")
    FileSystem.objects.filter(ref=str(flag.pk)).update(shortcut=True)
    assert unfiled(project).json() == {"count": 1}


def test_unfiled_by_type(project: Any) -> None:
    FeatureFlag.objects.create(team=project.team, key="f")
    FileSystem.objects.all().delete()
    assert unfiled(project, type="insight").json() == {"count": 0}
    assert unfiled(project, type="feature_flag").json() == {"count": 1}


def test_unfiled_repairs_missing_folders_and_wrong_depths(project: Any, make_row: Any) -> None:
    make_row("a/b/c")
    FileSystem.objects.filter(path__in=["a", "a/b"]).delete()
    FileSystem.objects.create(team=project.team, path="x\\/y/z", depth=7)
    FileSystem.objects.create(team=project.team, path="n", depth=None)
    assert unfiled(project).json() == {"count": 0}
    assert tree(project) == {
        "a": (1, "folder", False),
        "a/b": (2, "folder", False),
        "a/b/c": (3, "", False),
        "x\\/y": (1, "folder", False),
        "x\\/y/z": (2, "", False),
        "n": (1, "", False),
    }


def test_unfiled_never_touches_another_project(project: Any, other_project: Any) -> None:
    FeatureFlag.objects.create(team=other_project.team, key="theirs")
    FileSystem.objects.all().delete()
    assert unfiled(project).json() == {"count": 0}
    assert not FileSystem.objects.exists()


def test_unfiled_auth_matrix(project: Any, other_project: Any) -> None:
    assert_auth_matrix(project, other_project, "GET", fs_url(project, "unfiled/"), scope="file_system:read")
