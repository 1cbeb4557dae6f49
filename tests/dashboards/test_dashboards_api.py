"""Dashboards CRUD (reference §2): PostHog's fields, list order and filters, duplication, soft delete with and
without the insights only shown here, bad input and the auth matrix (dashboards and sharing)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.auth_matrix import assert_auth_matrix
from tests.insights.conftest import create_insight, dashboards_url, insights_url

LIST_FIELDS = {
    "id", "name", "description", "pinned", "created_at", "created_by", "last_accessed_at", "last_viewed_at",
    "is_shared", "deleted", "creation_mode", "tags", "restriction_level", "effective_restriction_level",
    "effective_privilege_level", "user_access_level", "access_control_version", "last_refresh", "team_id",
}  # fmt: skip
DETAIL_FIELDS = LIST_FIELDS | {
    "filters", "variables", "breakdown_colors", "data_color_theme_id", "persisted_filters", "persisted_variables",
    "quick_filter_ids", "tiles",
}  # fmt: skip


def create(project: Any, **body: Any) -> dict[str, Any]:
    response = project.client().post(dashboards_url(project), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def patch(project: Any, dashboard_id: int, body: dict[str, Any]) -> Any:
    return project.client().patch(dashboards_url(project, f"{dashboard_id}/"), body, format="json")


@pytest.mark.django_db
def test_create_list_and_fields(project: Any) -> None:
    growth = create(project, name="Growth", filters={"date_from": "-30d"}, tags=["kpi"])
    assert set(growth) == DETAIL_FIELDS
    assert (growth["creation_mode"], growth["restriction_level"], growth["effective_privilege_level"]) == (
        "default", 21, 37,
    )  # fmt: skip
    assert (growth["filters"], growth["persisted_filters"], growth["is_shared"], growth["tiles"]) == (
        {"date_from": "-30d"}, {"date_from": "-30d"}, False, [],
    )  # fmt: skip
    create(project, name="Alpha")
    create(project, name="Zulu", pinned=True)
    listed = project.client().get(dashboards_url(project, "?limit=100")).json()
    assert set(listed["results"][0]) == LIST_FIELDS
    assert [d["name"] for d in listed["results"]] == ["Zulu", "Alpha", "Growth"]  # pinned first, then by name
    tagged = project.client().get(dashboards_url(project, "?tags=kpi")).json()
    assert [d["name"] for d in tagged["results"]] == ["Growth"]
    # {"filters": {}} does not clear them (PostHog's quirk)
    assert patch(project, growth["id"], {"filters": {}}).json()["persisted_filters"] == {"date_from": "-30d"}


@pytest.mark.django_db
def test_duplicate_links_or_copies_tiles(project: Any) -> None:
    source = create(project, name="Source", filters={"date_from": "-14d"})
    insight = create_insight(project, name="Signups", dashboards=[source["id"]])
    patch(project, source["id"], {"tiles": [{"text": {"body": "hello"}}]})
    linked = create(project, name="Linked", use_dashboard=source["id"])
    assert (linked["creation_mode"], linked["filters"]) == ("duplicate", {"date_from": "-14d"})
    insight_ids = [t["insight"]["id"] for t in linked["tiles"] if t["insight"]]
    assert insight_ids == [insight["id"]]
    assert [t["text"]["body"] for t in linked["tiles"] if t["text"]] == ["hello"]
    copied = create(project, name="Copied", use_dashboard=source["id"], duplicate_tiles=True)
    [copy] = [t["insight"] for t in copied["tiles"] if t["insight"]]
    assert copy["id"] != insight["id"] and copy["name"] == "Signups (Copy)"


@pytest.mark.django_db
def test_delete_with_and_without_insights_and_restore(project: Any) -> None:
    board, keeper = create(project, name="Board"), create(project, name="Keeper")
    only_here = create_insight(project, name="only here", dashboards=[board["id"]])
    shared = create_insight(project, name="shared", dashboards=[board["id"], keeper["id"]])
    deleted = project.client().delete(dashboards_url(project, f"{board['id']}/"))
    assert deleted.status_code == 405 and deleted.content == b""
    assert patch(project, board["id"], {"deleted": True, "delete_insights": True}).json()["deleted"] is True
    assert project.client().get(dashboards_url(project, f"{board['id']}/")).status_code == 404
    assert project.client().get(insights_url(project, f"{only_here['id']}/")).status_code == 404
    assert project.client().get(insights_url(project, f"{shared['id']}/")).json()["dashboards"] == [keeper["id"]]
    restored = patch(project, board["id"], {"deleted": False}).json()
    assert sorted(t["insight"]["name"] for t in restored["tiles"]) == ["only here", "shared"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "attr", "detail"),
    [
        ({"filters": [1]}, "filters", "Filters must be a dictionary"),
        ({"variables": "x"}, "variables", "Filters must be a dictionary"),
        (
            {"use_template": "DEFAULT_APP", "use_dashboard": 1},
            None,
            "`use_dashboard` and `use_template` cannot be used together",
        ),
        ({"use_template": "NOPE"}, "use_template", "Invalid template provided: NOPE"),
        ({"use_dashboard": 999999}, "use_dashboard", "Invalid value provided"),
        ({"restriction_level": 30}, "restriction_level", '"30" is not a valid choice.'),
        ({"name": "x" * 401}, "name", "Ensure this field has no more than 400 characters."),
        ({"tiles": [{"id": 999999, "color": "red"}]}, "tiles", "Tile 999999 is not on this dashboard."),
    ],
)
def test_bad_bodies_are_400(project: Any, body: dict[str, Any], attr: str | None, detail: str) -> None:
    response = project.client().post(dashboards_url(project), {"name": "x", **body}, format="json")
    assert response.status_code == 400, response.content
    assert (response.json()["type"], response.json()["attr"], response.json()["detail"]) == (
        "validation_error", attr, detail,
    )  # fmt: skip


@pytest.mark.django_db
def test_bad_override_is_400(project: Any) -> None:
    board = create(project, name="Board")
    response = project.client().get(dashboards_url(project, f"{board['id']}/?filters_override=[1]"))
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid JSON passed in filters_override parameter"


@pytest.mark.django_db
def test_auth_matrix(project: Any, other_project: Any) -> None:
    board = create(project, name="Board")
    item = dashboards_url(project, f"{board['id']}/")
    assert_auth_matrix(project, other_project, "GET", dashboards_url(project), scope="dashboard:read")
    assert_auth_matrix(project, other_project, "POST", dashboards_url(project), scope="dashboard:write", data={})
    assert_auth_matrix(project, other_project, "GET", item, scope="dashboard:read")
    assert_auth_matrix(project, other_project, "PATCH", item, scope="dashboard:write", data={"name": "y"})
    sharing = f"{item}sharing/"
    assert_auth_matrix(project, other_project, "GET", sharing, scope="sharing_configuration:read")
    assert_auth_matrix(project, other_project, "PATCH", sharing, scope="sharing_configuration:write", data={})
    assert_auth_matrix(project, other_project, "POST", f"{sharing}refresh/", scope="sharing_configuration:write")
