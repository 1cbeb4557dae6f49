"""Insights CRUD (reference §1): PostHog's fields, short ids, the list filters, soft delete, dashboards through
the insight, activity rows, bad input and the auth matrix. Nothing here computes (the default mode is
force_cache), so no ClickHouse is needed."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from definitions.models import ActivityLog
from tests.auth_matrix import assert_auth_matrix
from tests.insights.conftest import create_insight, dashboards_url, insights_url, trends_node

FULL_FIELDS = {
    "id", "short_id", "name", "derived_name", "filters", "query", "dashboards", "dashboard_tiles", "description",
    "last_refresh", "refreshing", "saved", "tags", "updated_at", "created_by", "created_at", "last_modified_at",
    "favorited", "result", "hasMore", "columns", "types", "hogql", "cache_target_age", "next_allowed_client_refresh",
    "is_cached", "query_status", "timezone", "filters_hash", "order", "deleted", "last_modified_by", "is_sample",
    "effective_restriction_level", "effective_privilege_level",
}  # fmt: skip
SQL = {"kind": "DataVisualizationNode", "source": {"kind": "HogQLQuery", "query": "SELECT 1"}}
FUNNEL = {
    "kind": "InsightVizNode",
    "source": {
        "kind": "FunnelsQuery",
        "series": [{"kind": "EventsNode", "event": "a"}, {"kind": "EventsNode", "event": "b"}],
    },
}


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [i["name"] for i in response.json()["results"]]


def dashboard(project: Any, name: str = "Main") -> int:
    response = project.client().post(dashboards_url(project), {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


@pytest.mark.django_db
def test_create_and_retrieve_with_posthog_fields(project: Any) -> None:
    board = dashboard(project)
    body = create_insight(project, description="Daily", tags=["Growth ", "growth"], dashboards=[board])
    assert set(body) == FULL_FIELDS
    assert len(body["short_id"]) == 8 and body["short_id"].isalnum()
    assert (body["result"], body["last_refresh"], body["is_cached"], body["filters"]) == (None, None, False, {})
    assert body["query"] == trends_node() and body["tags"] == ["growth"]
    assert body["dashboards"] == [board] and body["dashboard_tiles"][0]["dashboard_id"] == board
    assert body["created_by"]["email"] == project.user.email and body["last_modified_by"]["id"] == project.user.pk
    for prefix in ("projects", "environments"):
        got = project.client().get(f"/api/{prefix}/{project.team.pk}/insights/{body['id']}/")
        assert got.status_code == 200 and got.json()["short_id"] == body["short_id"]
    by_short_id = project.client().get(insights_url(project, f"{body['short_id']}/"))
    assert by_short_id.status_code == 404 and by_short_id.json()["detail"] == "Not found."
    found = project.client().get(insights_url(project, f"?short_id={body['short_id']}&basic=true")).json()
    assert (found["count"], found["results"][0]["id"]) == (1, body["id"])
    assert "result" not in found["results"][0] and found["results"][0]["refreshing"] is False


@pytest.mark.django_db
def test_last_modified_moves_only_on_material_changes(project: Any) -> None:
    body = create_insight(project)
    target = insights_url(project, f"{body['id']}/")
    favorited = project.client().patch(target, {"favorited": True}, format="json").json()
    assert favorited["favorited"] is True and favorited["last_modified_at"] == body["last_modified_at"]
    renamed = project.client().patch(target, {"name": "Renamed"}, format="json").json()
    assert renamed["last_modified_at"] > body["last_modified_at"]
    activity = list(ActivityLog.objects.filter(scope="Insight", item_id=str(body["id"])).order_by("created_at"))
    assert [a.activity for a in activity] == ["created", "updated", "updated"]
    assert activity[-1].detail["changes"][0]["field"] == "name" and activity[-1].detail["short_id"] == body["short_id"]


@pytest.mark.django_db
def test_soft_delete_restore_and_405(project: Any) -> None:
    board = dashboard(project)
    body = create_insight(project, dashboards=[board])
    target = insights_url(project, f"{body['id']}/")
    deleted = project.client().delete(target)
    assert deleted.status_code == 405 and deleted.content == b""
    assert project.client().patch(target, {"deleted": True}, format="json").json()["deleted"] is True
    assert project.client().get(target).status_code == 404
    assert names(project.client().get(insights_url(project))) == []
    tiles = project.client().get(dashboards_url(project, f"{board}/")).json()["tiles"]
    assert tiles == []  # its tile went with it
    assert project.client().patch(target, {"deleted": False}, format="json").json()["deleted"] is False
    assert names(project.client().get(insights_url(project))) == ["Pageviews"]


@pytest.mark.django_db
def test_list_filters(project: Any, other_project: Any) -> None:
    board, other_board = dashboard(project), dashboard(project, "Other")
    create_insight(project, name="trends saved", saved=True, tags=["kpi"])
    create_insight(project, FUNNEL, name="funnel on board", dashboards=[board, other_board], favorited=True)
    create_insight(project, SQL, name="sql", description="Signups by plan", dashboards=[board])
    create_insight(project, {"kind": "HogQLQuery", "query": "SELECT 2"}, name="bare hogql", order=-1)
    create_insight(other_project, name="not mine")
    url = insights_url(project)
    client = project.client()
    assert names(client.get(url)) == ["bare hogql", "sql", "funnel on board", "trends saved"]
    assert names(client.get(f"{url}?saved=true")) == ["sql", "funnel on board", "trends saved"]
    assert names(client.get(f"{url}?saved=false")) == ["bare hogql", "sql", "funnel on board"]
    assert names(client.get(f"{url}?favorited=1")) == ["funnel on board"]
    assert names(client.get(f"{url}?search=KPI")) == ["trends saved"]
    assert names(client.get(f"{url}?search=signups")) == ["sql"]
    assert names(client.get(f"{url}?insight=TRENDS")) == ["trends saved"]
    assert names(client.get(f"{url}?insight=FUNNELS")) == ["funnel on board"]
    assert names(client.get(f"{url}?insight=SQL")) == ["sql"]
    assert names(client.get(f"{url}?insight=JSON")) == ["bare hogql"]
    assert names(client.get(f"{url}?dashboards={quote(json.dumps([board]))}")) == ["sql", "funnel on board"]
    both = quote(json.dumps([board, other_board]))
    assert names(client.get(f"{url}?dashboards={both}")) == ["funnel on board"]
    assert names(client.get(f"{url}?user=true&order=name")) == ["bare hogql", "funnel on board", "sql", "trends saved"]
    assert names(client.get(f"{url}?created_by={project.user.pk}&order=-name"))[0] == "trends saved"
    assert names(client.get(f"{url}?date_from=-1d")) != [] and names(client.get(f"{url}?date_to=-1d")) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ("?order=password", "order"),
        ("?insight=PIE", "insight"),
        ("?dashboards=1", "dashboards"),
        ("?date_from=x", "date_from"),
    ],
)
def test_bad_list_parameters_are_400(project: Any, query: str, attr: str) -> None:
    response = project.client().get(insights_url(project, query))
    assert response.status_code == 400, response.content
    assert response.json()["attr"] == attr and response.json()["type"] == "validation_error"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"query": "SELECT 1"}, ("invalid_request", "parse_error", "Query must be a valid JSON object", None)),
        ({"query": {"kind": "Nope"}}, ("invalid_request", "parse_error", None, None)),
        (
            {"query": {"kind": "InsightVizNode", "source": {"kind": "TrendsQuery", "series": [], "bogus": 1}}},
            ("invalid_request", "parse_error", "source.bogus: Extra inputs are not permitted", None),
        ),
        ({"query": SQL | {"source": {"kind": "EventsQuery"}}}, ("invalid_request", "parse_error", None, None)),
        ({"dashboards": [999999]}, ("validation_error", "invalid_input", "Dashboard not found", None)),
        ({"name": "x" * 401}, ("validation_error", "max_length", None, "name")),
        ({"tags": "kpi"}, ("validation_error", "not_a_list", None, "tags")),
    ],
)
def test_bad_bodies_are_400(project: Any, body: dict[str, Any], expected: tuple[Any, ...]) -> None:
    response = project.client().post(insights_url(project), body, format="json")
    assert response.status_code == 400, response.content
    got = response.json()
    type_, code, detail, attr = expected
    assert (got["type"], got["code"], got["attr"]) == (type_, code, attr)
    if detail:
        assert got["detail"] == detail


@pytest.mark.django_db
def test_dashboards_of_another_project_and_bad_overrides(project: Any, other_project: Any) -> None:
    theirs = dashboard(other_project)
    response = project.client().post(insights_url(project), {"dashboards": [theirs]}, format="json")
    assert response.status_code == 400 and response.json()["detail"] == "Dashboard not found"
    body = create_insight(project)
    bad = project.client().get(insights_url(project, f"{body['id']}/?filters_override=nope"))
    assert bad.status_code == 400
    assert (bad.json()["attr"], bad.json()["detail"]) == (
        "filters_override",
        "Invalid JSON passed in filters_override parameter",
    )


@pytest.mark.django_db
def test_auth_matrix(project: Any, other_project: Any) -> None:
    body = create_insight(project)
    item = insights_url(project, f"{body['id']}/")
    assert_auth_matrix(project, other_project, "GET", insights_url(project), scope="insight:read")
    assert_auth_matrix(project, other_project, "POST", insights_url(project), scope="insight:write", data={})
    assert_auth_matrix(project, other_project, "GET", item, scope="insight:read")
    assert_auth_matrix(project, other_project, "PATCH", item, scope="insight:write", data={"name": "x"})
