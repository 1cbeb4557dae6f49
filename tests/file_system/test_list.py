"""GET /file_system/: filters, ordering rules, the `users` envelope, pagination, scoping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from file_system.models import FileSystem, FileSystemViewLog
from file_system.paths import path_depth
from posthog_clone.accounts.serializers import UserBasicSerializer
from posthog_clone.accounts.services import user_create
from tests.auth_matrix import assert_auth_matrix
from tests.file_system.conftest import fs_url

NOW = timezone.now()


def add(project: Any, path: str, type: str = "", age_days: int = 0, **fields: Any) -> FileSystem:
    return FileSystem.objects.create(
        team=project.team,
        path=path,
        depth=path_depth(path),
        type=type,
        created_at=NOW - timedelta(days=age_days),
        **fields,
    )


def paths(project: Any, **params: Any) -> list[str]:
    response = project.client().get(fs_url(project), params)
    assert response.status_code == 200, response.content
    return [row["path"] for row in response.json()["results"]]


@pytest.fixture
def sample(project: Any) -> None:
    add(project, "Docs", "folder", age_days=5)
    add(project, "Docs/b-file", "doc", age_days=4, ref="1")
    add(project, "Docs/A-folder", "folder", age_days=3)
    add(project, "Docs/A-folder/deep", "hog_function/destination", age_days=2)
    add(project, "Docs/c-file", "doc", age_days=1, ref="1", shortcut=True)
    add(project, "docs-other/x", "doc", age_days=0)


def test_parent_lists_all_descendants_and_depth_narrows_to_children_folders_first(project: Any, sample: None) -> None:
    assert paths(project, parent="Docs") == ["Docs/A-folder", "Docs/A-folder/deep", "Docs/b-file", "Docs/c-file"]
    assert paths(project, parent="Docs", depth=2) == ["Docs/A-folder", "Docs/b-file", "Docs/c-file"]
    add(project, "Docs/0-file", "doc")
    assert paths(project, parent="Docs", depth=2) == ["Docs/A-folder", "Docs/0-file", "Docs/b-file", "Docs/c-file"]


def test_default_order_is_case_insensitive_path_whatever_the_type(project: Any, sample: None) -> None:
    everything = ["Docs", "docs-other/x", "Docs/A-folder", "Docs/A-folder/deep", "Docs/b-file", "Docs/c-file"]
    assert paths(project) == everything  # lower(): "-" sorts before "/"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"depth": 1}, ["Docs"]),
        (
            {"depth": "abc"},
            ["Docs", "docs-other/x", "Docs/A-folder", "Docs/A-folder/deep", "Docs/b-file", "Docs/c-file"],
        ),
        ({"path": "Docs/b-file"}, ["Docs/b-file"]),
        ({"type": "folder"}, ["Docs", "Docs/A-folder"]),
        ({"not_type": "doc"}, ["Docs", "Docs/A-folder", "Docs/A-folder/deep"]),
        ({"type__startswith": "hog_function/"}, ["Docs/A-folder/deep"]),
        ({"ref": "1"}, ["Docs/b-file", "Docs/c-file"]),
        ({"created_at__gt": (NOW - timedelta(days=1, hours=1)).isoformat()}, ["docs-other/x", "Docs/c-file"]),
        ({"created_at__lt": (NOW - timedelta(days=3, hours=12)).isoformat()}, ["Docs", "Docs/b-file"]),
        ({"parent": "Docs", "type": "doc", "depth": 2}, ["Docs/b-file", "Docs/c-file"]),
        ({"parent": "docs"}, []),  # case-sensitive prefix, also on SQLite
        ({"parent": "Docs", "search": "deep"}, ["Docs/A-folder/deep"]),
    ],
)
def test_filters(project: Any, sample: None, params: dict[str, Any], expected: list[str]) -> None:
    assert paths(project, **params) == expected


def test_ref_puts_originals_before_shortcuts(project: Any) -> None:
    add(project, "a-shortcut", "doc", ref="7", shortcut=True)
    add(project, "z-original", "doc", ref="7", shortcut=False)
    assert paths(project, ref="7") == ["z-original", "a-shortcut"]
    assert paths(project, ref="7", order_by="path") == ["z-original", "a-shortcut"]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("path", ["B", "a", "c"]),  # case-sensitive
        ("-path", ["c", "a", "B"]),
        ("created_at", ["a", "B", "c"]),
        ("-created_at", ["c", "B", "a"]),
        ("nonsense", ["c", "B", "a"]),
    ],
)
def test_order_by(project: Any, order_by: str, expected: list[str]) -> None:
    add(project, "a", age_days=3)
    add(project, "B", age_days=2)
    add(project, "c", age_days=1)
    assert paths(project, order_by=order_by) == expected


def test_order_by_last_viewed_at_uses_the_requesters_views(project: Any, other_project: Any) -> None:
    add(project, "never", "doc", age_days=3, ref="n")
    add(project, "old-view", "doc", age_days=2, ref="o")
    add(project, "new-view", "doc", age_days=1, ref="v")
    add(project, "other-user-view", "doc", age_days=0, ref="x")
    FileSystemViewLog.objects.create(
        team=project.team, user=project.user, type="doc", ref="o", viewed_at=NOW - timedelta(hours=2)
    )
    FileSystemViewLog.objects.create(
        team=project.team, user=project.user, type="doc", ref="v", viewed_at=NOW - timedelta(hours=1)
    )
    FileSystemViewLog.objects.create(team=project.team, user=other_project.user, type="doc", ref="x", viewed_at=NOW)
    assert paths(project, order_by="-last_viewed_at") == ["new-view", "old-view", "other-user-view", "never"]
    assert paths(project, order_by="last_viewed_at") == ["never", "other-user-view", "old-view", "new-view"]
    results = project.client().get(fs_url(project), {"order_by": "-last_viewed_at"}).json()["results"]
    assert results[0]["last_viewed_at"] is not None
    assert results[-1]["last_viewed_at"] is None
    assert all(r["last_viewed_at"] is None for r in project.client().get(fs_url(project)).json()["results"])


def test_envelope_pagination_and_users(project: Any, other_project: Any) -> None:
    member = user_create(email="member@example.com", organization=project.organization)
    add(project, "1", meta={"created_by": project.user.pk})
    add(project, "2", meta={"created_by": member.pk})
    add(project, "3", meta={"created_by": other_project.user.pk})  # not an org member: left out
    add(project, "4", meta={"created_by": "not-an-int"})
    body = project.client().get(fs_url(project), {"limit": 2}).json()
    assert set(body) == {"count", "next", "previous", "results", "users"}
    assert body["count"] == 4
    assert body["previous"] is None
    assert "offset=2" in body["next"]
    assert [u["email"] for u in body["users"]] == ["alice@example.com", "member@example.com"]
    assert set(body["users"][0]) == set(UserBasicSerializer().fields)  # the project's one UserBasic shape
    assert {"id", "uuid", "first_name", "email"} <= set(body["users"][0])
    page2 = project.client().get(body["next"]).json()
    assert [r["path"] for r in page2["results"]] == ["3", "4"]
    assert page2["users"] == []


def test_creators_that_cannot_be_user_ids_are_skipped(project: Any) -> None:
    add(project, "mine", meta={"created_by": project.user.pk})
    for n, value in enumerate([10**30, 2**63, -5, 0, True, 1.5, None]):  # meta is free-form JSON
        add(project, f"odd-{n}", meta={"created_by": value})
    response = project.client().get(fs_url(project))
    assert response.status_code == 200, response.content
    assert [u["id"] for u in response.json()["users"]] == [project.user.pk]


def test_only_the_projects_rows_are_listed(project: Any, other_project: Any) -> None:
    add(project, "mine")
    FileSystem.objects.create(team=other_project.team, path="theirs", depth=1)
    assert paths(project) == ["mine"]
    assert paths(other_project) == ["theirs"]
    assert APIClient().get(fs_url(project)).status_code == 401


def test_list_under_environments_prefix(project: Any) -> None:
    add(project, "env")
    assert project.client().get(fs_url(project, prefix="environments")).json()["count"] == 1


def test_bad_created_at_filter_is_a_400(project: Any) -> None:
    response = project.client().get(fs_url(project), {"created_at__gt": "yesterday-ish"})
    assert response.status_code == 400
    assert response.json()["attr"] == "created_at__gt"


@pytest.mark.parametrize(
    "params",
    [
        {"depth": "abc"},
        {"depth": "99999999999999999999999"},  # beyond any integer column: matches nothing, no overflow
        {"depth": "-1"},
        {"order_by": "unknown"},
        {"order_by": ""},
        {"path": "", "parent": "", "type": "", "ref": "", "search": ""},  # blank filters are no filters
        {"search": "' \" \\ ( [ * # ~ a.b+c"},  # regex and quote characters are plain text
        {"search": "name:\u2713 user:\u00e9 path:\\ type: -"},
        {"offset": "999999"},
    ],
)
def test_odd_query_values_are_answered_not_500(project: Any, sample: None, params: dict[str, Any]) -> None:
    response = project.client().get(fs_url(project), params)
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"count", "next", "previous", "results", "users"}


def test_blank_filters_are_ignored(project: Any, sample: None) -> None:
    assert paths(project, path="", ref="", type="", order_by="") == paths(project)


@pytest.mark.parametrize("name", ["limit", "offset"])
def test_a_page_parameter_beyond_the_databases_integers_is_a_400(project: Any, sample: None, name: str) -> None:
    response = project.client().get(fs_url(project), {name: "999999999999999999999999"})
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "max_value",
        "detail": "Ensure this value is less than or equal to 2147483647.",
        "attr": name,
    }


def test_a_large_limit_is_not_capped(project: Any) -> None:
    FileSystem.objects.bulk_create(FileSystem(team=project.team, path=f"r{n}", depth=1) for n in range(150))
    assert len(paths(project, limit=2147483647)) == 150


def test_a_search_of_too_many_terms_is_a_400(project: Any, sample: None) -> None:
    assert project.client().get(fs_url(project), {"search": "x " * 100}).status_code == 200
    response = project.client().get(fs_url(project), {"search": "x " * 5000})
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "max_length",
        "detail": "Search supports at most 100 terms.",
        "attr": "search",
    }


def test_list_auth_matrix(project: Any, other_project: Any) -> None:
    assert_auth_matrix(project, other_project, "GET", fs_url(project), scope="file_system:read")
