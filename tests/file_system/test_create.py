"""POST /file_system/: a row, its missing ancestor folders, validation."""

from __future__ import annotations

from typing import Any

from file_system.models import FileSystem
from tests.auth_matrix import assert_auth_matrix
from tests.file_system.conftest import fs_url, tree


def test_create_returns_item_json_and_makes_missing_ancestors(project: Any) -> None:
    response = project.client().post(
        fs_url(project),
        {"path": "a/b/c/d/e", "type": "doc", "ref": "7", "href": "/docs/7", "meta": {"x": 1}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body | {"id": None, "created_at": None} == {
        "id": None,
        "path": "a/b/c/d/e",
        "depth": 5,
        "type": "doc",
        "ref": "7",
        "href": "/docs/7",
        "meta": {"x": 1},
        "shortcut": False,
        "created_at": None,
        "last_viewed_at": None,
    }
    assert tree(project) == {
        "a": (1, "folder", False),
        "a/b": (2, "folder", False),
        "a/b/c": (3, "folder", False),
        "a/b/c/d": (4, "folder", False),
        "a/b/c/d/e": (5, "doc", False),
    }
    row = FileSystem.objects.get(pk=body["id"])
    assert row.team_id == project.team.pk
    assert row.created_by_id == project.user.pk


def test_create_defaults_type_and_shortcut_and_reuses_existing_folders(project: Any, make_row: Any) -> None:
    make_row("Docs", type="folder")
    body = make_row("Docs/readme")
    assert (body["type"], body["shortcut"], body["meta"], body["ref"], body["href"]) == ("", False, {}, None, None)
    assert FileSystem.objects.filter(team=project.team, path="Docs").count() == 1


def test_create_keeps_escaped_slashes_inside_names(project: Any, make_row: Any) -> None:
    body = make_row("Unfiled/Feature Flags/Flag \\/ With Slash", type="feature_flag")
    assert body["depth"] == 3
    assert set(tree(project)) == {"Unfiled", "Unfiled/Feature Flags", "Unfiled/Feature Flags/Flag \\/ With Slash"}


def test_create_normalizes_empty_segments(project: Any, make_row: Any) -> None:
    assert make_row("/x//y/")["path"] == "x/y"


def test_duplicate_paths_are_tolerated(project: Any, make_row: Any) -> None:
    make_row("same")
    make_row("same")
    assert FileSystem.objects.filter(team=project.team, path="same").count() == 2


def test_create_under_environments_prefix(project: Any) -> None:
    response = project.client().post(fs_url(project, prefix="environments"), {"path": "env/x"}, format="json")
    assert response.status_code == 201
    assert response.json()["depth"] == 2


def test_missing_path_is_a_validation_error(project: Any) -> None:
    response = project.client().post(fs_url(project), {"type": "doc"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "required",
        "detail": "This field is required.",
        "attr": "path",
    }


def test_path_of_only_slashes_is_blank(project: Any) -> None:
    response = project.client().post(fs_url(project), {"path": "///"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "blank",
        "detail": "This field may not be blank.",
        "attr": "path",
    }


def test_unicode_paths_round_trip(project: Any, make_row: Any) -> None:
    body = make_row("Équipe/日本語 \\/ ok/\U0001f600")
    assert (body["path"], body["depth"]) == ("Équipe/日本語 \\/ ok/\U0001f600", 3)
    assert "Équipe/日本語 \\/ ok" in tree(project)


def test_a_path_too_long_to_store_is_a_400(project: Any, make_row: Any) -> None:
    assert make_row("日" * 682)["depth"] == 1  # 2046 bytes: stored
    response = project.client().post(fs_url(project), {"path": "日" * 683}, format="json")  # 2049 bytes
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "max_length",
        "detail": "Ensure this path has no more than 2048 bytes (UTF-8).",
        "attr": "path",
    }
    assert not FileSystem.objects.filter(team=project.team, path="日" * 683).exists()


def test_meta_must_be_an_object(project: Any) -> None:
    response = project.client().post(fs_url(project), {"path": "a", "meta": [1]}, format="json")
    assert response.status_code == 400
    assert response.json()["attr"] == "meta"


def test_create_auth_matrix(project: Any, other_project: Any) -> None:
    assert_auth_matrix(project, other_project, "POST", fs_url(project), scope="file_system:write", data={"path": "x"})
    assert not FileSystem.objects.filter(team=other_project.team).exists()
