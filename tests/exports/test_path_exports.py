"""`export_context.path`: one of our own GET list endpoints, called in-process as the export's creator,
following `next` (§A5 kind 2, §A13 row source 2)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from exports.models import ExportedAsset
from flags.models import FeatureFlag
from tests.exports.conftest import CSV, create

pytestmark = pytest.mark.django_db(transaction=True)


def _flags(team: Any, keys: list[str], user: Any = None) -> None:
    for key in keys:
        FeatureFlag.objects.create(team=team, key=key, name=f"Flag {key}", filters={"groups": []}, created_by=user)


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 201 and response.json()["has_content"], response.json()
    data = bytes(ExportedAsset.objects.get(pk=response.json()["id"]).content).decode()
    return list(csv.DictReader(io.StringIO(data)))


def test_exports_a_list_endpoint_following_next(project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("exports.sources.QUERY_PAGE_SIZE", 2)  # 5 flags → three pages via `next`
    _flags(project.team, ["a", "b", "c", "d", "e"])
    path = f"/api/projects/{project.team.pk}/feature_flags/"

    rows = _rows(create(project, {"export_format": CSV, "export_context": {"path": path, "columns": ["key", "name"]}}))

    assert [(r["key"], r["name"]) for r in rows] == [(k, f"Flag {k}") for k in "edcba"]
    assert list(rows[0]) == ["key", "name"]


def test_nested_fields_of_api_rows_are_flattened(project: Any) -> None:
    _flags(project.team, ["a"], user=project.user)
    path = f"/api/environments/{project.team.pk}/feature_flags/?search=a"
    context = {"path": path, "columns": ["key", "created_by"]}
    rows = _rows(create(project, {"export_format": CSV, "export_context": context}))
    assert rows[0]["key"] == "a" and rows[0]["created_by.email"] == "alice@example.com"
    assert list(rows[0])[:2] == ["key", "created_by.id"]


def test_a_path_of_another_project_is_refused(project: Any, other_project: Any) -> None:
    _flags(other_project.team, ["secret"])
    path = f"/api/projects/{other_project.team.pk}/feature_flags/"
    response = create(project, {"export_format": CSV, "export_context": {"path": path}})
    assert response.status_code == 201
    assert response.json()["exception"] == f"export_context.path must be under /api/projects/{project.team.pk}/."


def test_an_unknown_path_is_reported(project: Any) -> None:
    path = f"/api/projects/{project.team.pk}/no_such_thing/"
    response = create(project, {"export_format": CSV, "export_context": {"path": path}})
    assert response.json()["exception"] == f"Calling /api/projects/{project.team.pk}/no_such_thing/ answered HTTP 404."
