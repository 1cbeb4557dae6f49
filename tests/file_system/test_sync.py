"""Automatic rows for feature flags: created, renamed in place, removed with the flag."""

from __future__ import annotations

from typing import Any

from file_system.models import FileSystem
from flags.models import FeatureFlag
from tests.file_system.conftest import fs_url


def flag_rows(flag_id: Any) -> list[FileSystem]:
    return list(FileSystem.objects.filter(type="feature_flag", ref=str(flag_id)).order_by("shortcut", "path"))


def create_flag(project: Any, key: str) -> dict[str, Any]:
    response = project.client().post(f"/api/projects/{project.team.pk}/feature_flags/", {"key": key}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_flag_gets_a_row_under_unfiled(project: Any) -> None:
    flag = create_flag(project, "beta-flag")
    [row] = flag_rows(flag["id"])
    stored = FeatureFlag.objects.get(pk=flag["id"])
    assert (row.team_id, row.path, row.depth, row.href, row.shortcut) == (
        project.team.pk,
        "Unfiled/Feature Flags/beta-flag",
        3,
        f"/feature_flags/{flag['id']}",
        False,
    )
    assert row.meta == {"created_at": str(stored.created_at), "created_by": project.user.pk}
    assert (row.created_at, row.created_by_id) == (stored.created_at, project.user.pk)
    folders = FileSystem.objects.filter(team=project.team, type="folder").values_list("path", flat=True)
    assert set(folders) == {"Unfiled", "Unfiled/Feature Flags"}


def test_renaming_a_flag_renames_only_the_last_segment_of_every_row(project: Any) -> None:
    flag = create_flag(project, "old-key")
    [row] = flag_rows(flag["id"])
    client = project.client()
    client.post(fs_url(project, f"{row.pk}/move/"), {"new_path": "Mine/Chosen/old-key"}, format="json")
    client.post(fs_url(project, f"{row.pk}/link/"), {"new_path": "Pinned/old-key"}, format="json")
    response = client.patch(f"/api/projects/{project.team.pk}/feature_flags/{flag['id']}/", {"key": "new-key"})
    assert response.status_code == 200
    assert [(r.path, r.depth, r.shortcut) for r in flag_rows(flag["id"])] == [
        ("Mine/Chosen/new-key", 3, False),
        ("Pinned/new-key", 2, True),
    ]


def test_soft_deleting_a_flag_removes_its_rows_and_shortcuts(project: Any) -> None:
    flag = create_flag(project, "doomed")
    [row] = flag_rows(flag["id"])
    project.client().post(fs_url(project, f"{row.pk}/link/"), {"new_path": "Pinned/doomed"}, format="json")
    assert project.client().delete(f"/api/projects/{project.team.pk}/feature_flags/{flag['id']}/").status_code == 204
    assert flag_rows(flag["id"]) == []


def test_hard_deleting_a_flag_removes_its_rows(project: Any) -> None:
    flag = FeatureFlag.objects.create(team=project.team, key="gone")
    flag.delete()
    assert FileSystem.objects.filter(type="feature_flag").count() == 0


def test_create_in_folder_replaces_the_base_folder(project: Any) -> None:
    flag = FeatureFlag(team=project.team, key="placed")
    flag._create_in_folder = "Team A/Launches"  # what a create API's write-only `_create_in_folder` sets
    flag.save()
    [row] = flag_rows(flag.pk)
    assert (row.path, row.depth) == ("Team A/Launches/placed", 3)
    assert FileSystem.objects.filter(team=project.team, path="Team A/Launches", type="folder").exists()


def test_a_create_in_folder_too_long_to_store_falls_back_to_the_default_folder(project: Any) -> None:
    response = project.client().post(
        f"/api/projects/{project.team.pk}/feature_flags/",
        {"key": "long-home", "_create_in_folder": "日" * 1000},  # 3000 bytes: within the flag API's 1000 chars
        format="json",
    )
    assert response.status_code == 201, response.content
    [row] = flag_rows(response.json()["id"])
    assert row.path == "Unfiled/Feature Flags/long-home"


def test_saving_an_unchanged_flag_writes_no_tree_row(project: Any) -> None:
    flag = FeatureFlag.objects.create(team=project.team, key="same")
    [before] = flag_rows(flag.pk)
    flag.name = "only the name changed"
    flag.save()
    assert flag_rows(flag.pk) == [before]
    assert FileSystem.objects.filter(team=project.team).count() == 3


def test_other_projects_flags_stay_in_their_tree(project: Any, other_project: Any) -> None:
    create_flag(other_project, "theirs")
    assert not FileSystem.objects.filter(team=project.team).exists()
    assert project.client().get(fs_url(project)).json()["count"] == 0


def test_create_in_folder_given_to_the_flags_api_places_the_row(project: Any) -> None:
    response = project.client().post(
        f"/api/projects/{project.team.pk}/feature_flags/",
        {"key": "placed", "_create_in_folder": "Team\\/A/Launches"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert "_create_in_folder" not in response.json()
    [row] = flag_rows(response.json()["id"])
    assert (row.path, row.depth) == ("Team\\/A/Launches/placed", 3)
    folders = FileSystem.objects.filter(team=project.team, type="folder").values_list("path", flat=True)
    assert set(folders) == {"Team\\/A", "Team\\/A/Launches"}
