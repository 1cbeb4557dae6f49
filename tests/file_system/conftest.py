"""Helpers for the file system API tests: URLs, creating rows through the API, reading the tree back."""

from __future__ import annotations

from typing import Any

import pytest

from file_system.models import FileSystem


def fs_url(project: Any, suffix: str = "", prefix: str = "projects") -> str:
    return f"/api/{prefix}/{project.team.pk}/file_system/{suffix}"


def tree(project: Any) -> dict[str, tuple[int | None, str, bool | None]]:
    """path → (depth, type, shortcut) of every row of the project."""
    return {row.path: (row.depth, row.type, row.shortcut) for row in FileSystem.objects.filter(team=project.team)}


@pytest.fixture
def make_row(project: Any) -> Any:
    """`make_row("a/b", type="doc")` → the created row's JSON (via POST, so ancestors are created too)."""

    def make(path: str, **fields: Any) -> dict[str, Any]:
        response = project.client().post(fs_url(project), {"path": path, **fields}, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return make
