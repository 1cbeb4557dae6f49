"""§B1's scope table, positively: a personal API key holding only `file_system:read` (or `:write`) is accepted
on every action of that scope, custom actions included (PostHog's vMid refused keys on undeclared actions)."""

from __future__ import annotations

from typing import Any

import pytest

from file_system.models import FileSystem
from tests.file_system.conftest import fs_url


@pytest.fixture
def folder(project: Any, make_row: Any) -> FileSystem:
    make_row("F/file", type="doc", ref="1")
    return FileSystem.objects.get(team=project.team, path="F")


READ = [
    ("get", "", None, 200),
    ("get", "{id}/", None, 200),
    ("post", "{id}/count/", None, 200),
    ("post", "count_by_path/?path=F", None, 200),
    ("get", "unfiled/", None, 200),
]
WRITE = [
    ("post", "", {"path": "new"}, 201),
    ("patch", "{id}/", {"href": "/x"}, 200),
    ("put", "{id}/", {"path": "F"}, 200),
    ("post", "{id}/link/", {"new_path": "Linked"}, 200),
    ("post", "{id}/move/", {"new_path": "Moved"}, 200),
    ("post", "log_view/", {"type": "doc", "ref": "1"}, 204),
    ("get", "log_view/", None, 200),
    ("post", "undo_delete/", {"items": []}, 200),
    ("delete", "{id}/", None, 204),
]


@pytest.mark.parametrize(("method", "suffix", "body", "expected"), READ, ids=[f"{m} {s}" for m, s, *_ in READ])
def test_a_read_key_is_accepted_on_every_read_action(
    project: Any, key_with_scopes: Any, folder: FileSystem, method: str, suffix: str, body: Any, expected: int
) -> None:
    client = key_with_scopes("file_system:read")
    response = getattr(client, method)(fs_url(project, suffix.format(id=folder.pk)), body, format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize(("method", "suffix", "body", "expected"), WRITE, ids=[f"{m} {s}" for m, s, *_ in WRITE])
def test_a_write_key_is_accepted_on_every_write_action(
    project: Any, key_with_scopes: Any, folder: FileSystem, method: str, suffix: str, body: Any, expected: int
) -> None:
    client = key_with_scopes("file_system:write")
    response = getattr(client, method)(fs_url(project, suffix.format(id=folder.pk)), body, format="json")
    assert response.status_code == expected, response.content
