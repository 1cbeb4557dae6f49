"""/file_system/log_view/: POST records a browser session's view (204), GET lists the requester's views."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from file_system.models import FileSystemViewLog
from tests.auth_matrix import assert_auth_matrix
from tests.file_system.conftest import fs_url


def session(project: Any) -> APIClient:
    client = APIClient()
    client.force_login(project.user)
    return client


def test_session_views_are_upserted_and_listed_newest_first(project: Any) -> None:
    client, url = session(project), fs_url(project, "log_view/")
    for body in (
        {"type": "feature_flag", "ref": "1", "viewed_at": "2025-01-01T10:00:00Z"},
        {"type": "insight", "ref": "abc", "viewed_at": "2025-01-02T10:00:00Z"},
        {"type": "feature_flag", "ref": "1", "viewed_at": "2025-01-03T10:00:00Z"},  # same object: upsert
    ):
        response = client.post(url, body, format="json")
        assert response.status_code == 204
        assert response.content == b""
    assert FileSystemViewLog.objects.count() == 2
    assert client.get(url).json() == [
        {"type": "feature_flag", "ref": "1", "viewed_at": "2025-01-03T10:00:00Z"},
        {"type": "insight", "ref": "abc", "viewed_at": "2025-01-02T10:00:00Z"},
    ]
    assert client.get(url, {"type": "insight"}).json() == [
        {"type": "insight", "ref": "abc", "viewed_at": "2025-01-02T10:00:00Z"}
    ]
    assert len(client.get(url, {"limit": 1}).json()) == 1


def test_viewed_at_defaults_to_now(project: Any) -> None:
    assert session(project).post(fs_url(project, "log_view/"), {"type": "t", "ref": "r"}).status_code == 204
    assert FileSystemViewLog.objects.get().viewed_at is not None


def test_api_key_calls_succeed_without_recording(project: Any) -> None:
    response = project.client().post(fs_url(project, "log_view/"), {"type": "t", "ref": "r"}, format="json")
    assert response.status_code == 204
    assert not FileSystemViewLog.objects.exists()
    assert project.client().get(fs_url(project, "log_view/")).json() == []


def test_views_are_per_user_and_per_project(project: Any, other_project: Any) -> None:
    FileSystemViewLog.objects.create(team=project.team, user=other_project.user, type="t", ref="theirs")
    FileSystemViewLog.objects.create(team=other_project.team, user=project.user, type="t", ref="elsewhere")
    assert session(project).get(fs_url(project, "log_view/")).json() == []


def test_bad_bodies_and_limits(project: Any) -> None:
    client, url = session(project), fs_url(project, "log_view/")
    missing = client.post(url, {"type": "t"}, format="json")
    assert missing.status_code == 400
    assert missing.json() == {
        "type": "validation_error",
        "code": "required",
        "detail": "This field is required.",
        "attr": "ref",
    }
    assert client.get(url, {"limit": 0}).json()["attr"] == "limit"
    huge = client.get(url, {"limit": "999999999999999999999999"})
    assert huge.status_code == 400
    assert (huge.json()["code"], huge.json()["attr"]) == ("max_value", "limit")


def test_log_view_auth_matrix(project: Any, other_project: Any) -> None:
    url = fs_url(project, "log_view/")
    assert_auth_matrix(project, other_project, "POST", url, scope="file_system:write", data={"type": "t", "ref": "r"})
    assert_auth_matrix(project, other_project, "GET", url, scope="file_system:write")
