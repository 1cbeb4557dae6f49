"""GET /api/projects/:id/exports/ — own exports only, newest first, filters, expired rows hidden (§A12)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from exports.models import ExportedAsset
from tests.auth_matrix import assert_auth_matrix
from tests.conftest import make_project
from tests.exports.conftest import CSV, XLSX, exports_url, make_asset


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_auth_matrix(project: Any, other_project: Any) -> None:
    assert_auth_matrix(project, other_project, "get", exports_url(project), scope="export:read")


def test_lists_own_exports_newest_first_in_the_envelope(project: Any) -> None:
    first, second = make_asset(project), make_asset(project, export_format=XLSX)
    ExportedAsset.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))

    response = project.client().get(exports_url(project))

    assert set(response.json()) == {"count", "next", "previous", "results"}
    assert response.json()["count"] == 2
    assert _ids(response) == [second.pk, first.pk]


def test_hides_teammates_system_and_other_projects_exports(project: Any, other_project: Any) -> None:
    mine = make_asset(project)
    teammate = make_project("Bob's project", "bob@example.com").user
    make_asset(project, created_by=teammate)
    make_asset(project, created_by=None)
    make_asset(other_project)
    assert _ids(project.client().get(exports_url(project))) == [mine.pk]


def test_expired_exports_vanish(project: Any) -> None:
    live = make_asset(project)
    make_asset(project, expires_after=timezone.now() - dt.timedelta(seconds=1))
    assert _ids(project.client().get(exports_url(project))) == [live.pk]


def test_filters_by_format_and_ignores_unsupported_ones(project: Any) -> None:
    csv, xlsx = make_asset(project), make_asset(project, export_format=XLSX)
    assert _ids(project.client().get(exports_url(project), {"export_format": XLSX})) == [xlsx.pk]
    assert set(_ids(project.client().get(exports_url(project), {"export_format": "image/jpeg"}))) == {csv.pk, xlsx.pk}


def test_filters_by_context_path_case_insensitively(project: Any) -> None:
    flags = make_asset(project, export_context={"path": "/api/projects/1/Feature_Flags/?search=x"})
    make_asset(project, export_context={"path": "/api/projects/1/persons/"})
    make_asset(project, export_context={"source": {"kind": "HogQLQuery", "query": "select 1"}})
    assert _ids(project.client().get(exports_url(project), {"context_path": "feature_flags"})) == [flags.pk]


def test_environments_route_lists_the_same(project: Any) -> None:
    asset = make_asset(project, export_format=CSV)
    assert _ids(project.client().get(exports_url(project, base="environments"))) == [asset.pk]


def test_limit_and_offset_paginate(project: Any) -> None:
    for _ in range(3):
        make_asset(project)
    page = project.client().get(exports_url(project), {"limit": 2}).json()
    assert len(page["results"]) == 2 and page["count"] == 3 and "offset=2" in page["next"]


def test_huge_limit_and_offset_are_clamped_not_a_database_overflow(project: Any) -> None:
    asset = make_asset(project)
    huge = str(10**23)
    assert _ids(project.client().get(exports_url(project), {"limit": huge})) == [asset.pk]
    assert _ids(project.client().get(exports_url(project), {"offset": huge})) == []
    assert _ids(project.client().get(exports_url(project), {"limit": huge, "offset": huge})) == []
