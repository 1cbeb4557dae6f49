"""POST /file_system/undo_delete/: deletes are row-only, so undo puts the object's row back."""

from __future__ import annotations

from typing import Any

from file_system.models import FileSystem
from flags.models import FeatureFlag
from tests.auth_matrix import assert_auth_matrix
from tests.file_system.conftest import fs_url


def undo(project: Any, items: list[dict[str, Any]]) -> Any:
    return project.client().post(fs_url(project, "undo_delete/"), {"items": items}, format="json")


def test_undo_puts_a_deleted_row_back_where_asked(project: Any) -> None:
    flag = FeatureFlag.objects.create(team=project.team, key="back")
    row = FileSystem.objects.get(type="feature_flag")
    project.client().delete(fs_url(project, f"{row.pk}/"))
    response = undo(project, [{"type": "feature_flag", "ref": str(flag.pk), "path": "Restored/Here/back"}])
    assert response.status_code == 200, response.content
    assert response.json() == {"undone": [{"type": "feature_flag", "ref": str(flag.pk)}]}
    restored = FileSystem.objects.get(type="feature_flag", ref=str(flag.pk))
    assert (restored.path, restored.depth, restored.href) == ("Restored/Here/back", 3, f"/feature_flags/{flag.pk}")
    assert FileSystem.objects.filter(team=project.team, path="Restored/Here", type="folder").exists()


def test_undo_without_path_uses_the_default_folder(project: Any) -> None:
    flag = FeatureFlag.objects.create(team=project.team, key="plain")
    FileSystem.objects.all().delete()
    assert undo(project, [{"type": "feature_flag", "ref": str(flag.pk)}]).status_code == 200
    assert FileSystem.objects.get(type="feature_flag").path == "Unfiled/Feature Flags/plain"


def test_undo_of_an_unsupported_type_is_refused(project: Any) -> None:
    response = undo(project, [{"type": "insight", "ref": "abc"}])
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Undo for type 'insight' is not supported.",
        "attr": None,
    }


def test_undo_of_another_projects_object_is_refused(project: Any, other_project: Any) -> None:
    theirs = FeatureFlag.objects.create(team=other_project.team, key="theirs")
    for ref in (str(theirs.pk), "not-a-number"):
        response = undo(project, [{"type": "feature_flag", "ref": ref}])
        assert response.status_code == 400
        assert response.json()["code"] == "not_found"
    assert not FileSystem.objects.filter(team=project.team).exists()


def test_undo_delete_auth_matrix(project: Any, other_project: Any) -> None:
    url = fs_url(project, "undo_delete/")
    assert_auth_matrix(project, other_project, "POST", url, scope="file_system:write", data={"items": []})
