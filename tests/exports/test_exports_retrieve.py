"""GET /api/projects/:id/exports/:id/ — the fields (§A3), the stuck message, 404s; no update or delete (405)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from exports.models import ExportedAsset
from exports.serializers import STUCK_MESSAGE
from tests.auth_matrix import assert_auth_matrix
from tests.conftest import make_project
from tests.exports.conftest import CSV, exports_url, make_asset

NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}


def test_auth_matrix(project: Any, other_project: Any) -> None:
    asset = make_asset(project)
    assert_auth_matrix(project, other_project, "get", exports_url(project, f"{asset.pk}/"), scope="export:read")


def test_returns_every_field(project: Any) -> None:
    asset = make_asset(project, content=b"a\r\n", export_context={"filename": "My Report", "path": "/api/x"})
    body = project.client().get(exports_url(project, f"{asset.pk}")).json()  # trailing slash optional
    assert body == {
        "id": asset.pk,
        "dashboard": None,
        "insight": None,
        "export_format": CSV,
        "created_at": asset.created_at.isoformat().replace("+00:00", "Z"),
        "has_content": True,
        "export_context": {"filename": "My Report", "path": "/api/x"},
        "filename": "my-report.csv",
        "expires_after": (asset.expires_after).isoformat().replace("+00:00", "Z"),
        "exception": None,
    }


def test_model_default_expiry_is_midnight_seven_days_for_tabular_and_180_otherwise(project: Any) -> None:
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    assert make_asset(project).expires_after == today + dt.timedelta(days=7)
    assert make_asset(project, export_format="image/png").expires_after == today + dt.timedelta(days=180)
    assert make_asset(project, export_format="video/mp4").expires_after == today + dt.timedelta(days=365)


def test_teammates_may_retrieve_by_id(project: Any) -> None:
    teammate = make_project("Bob's project", "bob@example.com").user
    asset = make_asset(project, created_by=teammate)
    assert project.client().get(exports_url(project, f"{asset.pk}/")).status_code == 200


def test_another_projects_export_is_404_under_this_project(project: Any, other_project: Any) -> None:
    theirs = make_asset(other_project)
    response = project.client().get(exports_url(project, f"{theirs.pk}/"))
    assert response.status_code == 404 and response.json() == NOT_FOUND


def test_expired_export_is_404(project: Any) -> None:
    asset = make_asset(project, expires_after=timezone.now() - dt.timedelta(minutes=1))
    assert project.client().get(exports_url(project, f"{asset.pk}/")).status_code == 404


def test_stuck_export_shows_the_failure_message_without_touching_the_row(project: Any) -> None:
    asset = make_asset(project)
    ExportedAsset.objects.filter(pk=asset.pk).update(created_at=timezone.now() - dt.timedelta(seconds=631))
    recent = make_asset(project)

    assert project.client().get(exports_url(project, f"{asset.pk}/")).json()["exception"] == STUCK_MESSAGE
    assert project.client().get(exports_url(project, f"{recent.pk}/")).json()["exception"] is None
    asset.refresh_from_db()
    assert asset.exception is None


def test_a_real_exception_is_shown_as_is(project: Any) -> None:
    asset = make_asset(project, exception="Query failed: boom")
    assert project.client().get(exports_url(project, f"{asset.pk}/")).json()["exception"] == "Query failed: boom"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_no_update_or_delete(project: Any, method: str) -> None:
    asset = make_asset(project)
    session = APIClient()
    session.force_login(project.user)
    response = getattr(session, method)(exports_url(project, f"{asset.pk}/"), {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    # With a personal API key the shared scope check answers first: no scope covers an undeclared action.
    keyed = getattr(project.client(), method)(exports_url(project, f"{asset.pk}/"), {}, format="json")
    assert keyed.status_code == 403
    assert keyed.json()["detail"] == "This action does not support Personal API Key access"
    assert ExportedAsset.objects.filter(pk=asset.pk).exists()
