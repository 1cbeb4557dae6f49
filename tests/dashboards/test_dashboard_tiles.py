"""Acceptance 3: a dashboard's date filter overrides each tile's insight (reference §2.5), removing a tile
keeps the insight, and a shared link works without a key until it is rotated or disabled (§2.7).

TV-1 (query_kinds.md §12) with the dashboard's range 7–8 Jan 2024, worked by hand:
- trends total / DAU by day: 7 Jan u1 09:00, u1 15:00, u2 23:59:59 → 3 events, 2 users; 8 Jan u2 00:00 → 1, 1;
- the HogQL tile's `{filters}` is `timestamp >= date_from AND timestamp < date_to` (not rounded, as PostHog's):
  only 7 Jan's 3 events; without the dashboard it counts all 8 events."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from tests.insights.conftest import create_insight, dashboards_url, insights_url, load_tv1, trends_node

RANGE_7_8 = {"date_from": "2024-01-07", "date_to": "2024-01-08"}
HOGQL = {
    "kind": "DataVisualizationNode",
    "source": {"kind": "HogQLQuery", "query": "SELECT count() FROM events WHERE {filters}"},
}


def create_dashboard(project: Any, **body: Any) -> dict[str, Any]:
    response = project.client().post(dashboards_url(project), {"name": "Growth", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def get_dashboard(project: Any, dashboard_id: int, params: str = "") -> dict[str, Any]:
    response = project.client().get(dashboards_url(project, f"{dashboard_id}/{params}"))
    assert response.status_code == 200, response.content
    return response.json()


def by_name(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tile["insight"]["name"]: tile for tile in dashboard["tiles"] if tile["insight"]}


@pytest.fixture
def growth(project: Any) -> dict[str, Any]:
    load_tv1(project.team.pk)
    dashboard = create_dashboard(project, filters=RANGE_7_8)
    for name, query in (
        ("both", trends_node()),
        ("last week", trends_node({"date_from": "-7d"})),
        ("sql", HOGQL),
    ):
        create_insight(project, query, name=name, dashboards=[dashboard["id"]])
    text = {"text": {"body": "## Notes"}, "layouts": {"sm": {"x": 0, "y": 9, "w": 6, "h": 2}}}
    response = project.client().patch(dashboards_url(project, f"{dashboard['id']}/"), {"tiles": [text]}, format="json")
    assert response.status_code == 200, response.content
    return dashboard


@pytest.mark.clickhouse
def test_every_tile_uses_the_dashboard_range(project: Any, growth: dict[str, Any]) -> None:
    assert (growth["filters"], growth["persisted_filters"]) == (RANGE_7_8, RANGE_7_8)
    assert growth["creation_mode"] == "default"
    cold = get_dashboard(project, growth["id"])  # force_cache: nothing computed yet
    assert len(cold["tiles"]) == 4 and all(t["insight"]["result"] is None for t in cold["tiles"] if t["insight"])
    assert [t["text"]["body"] for t in cold["tiles"] if t["text"]] == ["## Notes"]

    tiles = by_name(get_dashboard(project, growth["id"], "?refresh=blocking"))
    assert [s["data"] for s in tiles["both"]["insight"]["result"]] == [[3, 1], [2, 1]]
    assert tiles["both"]["insight"]["result"][0]["days"] == ["2024-01-07", "2024-01-08"]
    assert [s["data"] for s in tiles["last week"]["insight"]["result"]] == [[3, 1], [2, 1]]
    assert tiles["sql"]["insight"]["result"] == [[3]]
    assert (tiles["both"]["is_cached"], tiles["sql"]["is_cached"]) == (False, False)
    # with the dashboard's range, "last week" is the same effective query as "both": one cache entry
    assert tiles["last week"]["is_cached"] is True
    assert tiles["last week"]["insight"]["filters_hash"] == tiles["both"]["insight"]["filters_hash"]

    # the insights alone keep their own ranges, cached apart from the dashboard's version
    alone = project.client().get(insights_url(project, f"{tiles['sql']['insight']['id']}/?refresh=blocking")).json()
    assert alone["result"] == [[8]] and alone["filters_hash"] != tiles["sql"]["insight"]["filters_hash"]
    both_id = tiles["both"]["insight"]["id"]
    alone = project.client().get(insights_url(project, f"{both_id}/?refresh=blocking")).json()
    assert [s["data"] for s in alone["result"]] == [[3, 1, 2], [2, 1, 2]]
    # …and from_dashboard gives the dashboard's result, from the same cache entry as the tile
    seen = project.client().get(insights_url(project, f"{both_id}/?from_dashboard={growth['id']}")).json()
    assert seen["is_cached"] is True and seen["filters_hash"] == tiles["both"]["insight"]["filters_hash"]
    unrelated = project.client().get(insights_url(project, f"{both_id}/?from_dashboard=999999")).json()
    assert unrelated["filters_hash"] == alone["filters_hash"]  # an unrelated dashboard is ignored

    override = quote(json.dumps({"date_from": "2024-01-09", "date_to": "2024-01-09"}))
    shifted = get_dashboard(project, growth["id"], f"?refresh=blocking&filters_override={override}")
    assert [s["data"] for s in by_name(shifted)["last week"]["insight"]["result"]] == [[2], [2]]
    assert shifted["persisted_filters"] == RANGE_7_8 and shifted["filters"]["date_from"] == "2024-01-09"


@pytest.mark.clickhouse
def test_a_tile_override_replaces_the_dashboard_filters(project: Any, growth: dict[str, Any]) -> None:
    tile = by_name(get_dashboard(project, growth["id"]))["last week"]
    own = {"date_from": "2024-01-09", "date_to": "2024-01-09"}
    body = {"tiles": [{"id": tile["id"], "filters_overrides": own, "color": "blue"}]}
    assert project.client().patch(dashboards_url(project, f"{growth['id']}/"), body, format="json").status_code == 200
    tiles = by_name(get_dashboard(project, growth["id"], "?refresh=blocking"))
    assert [s["data"] for s in tiles["last week"]["insight"]["result"]] == [[2], [2]]
    assert (tiles["last week"]["color"], tiles["last week"]["filters_overrides"]) == ("blue", own)
    assert [s["data"] for s in tiles["both"]["insight"]["result"]] == [[3, 1], [2, 1]]


@pytest.mark.clickhouse
def test_removing_a_tile_keeps_the_insight(project: Any, growth: dict[str, Any]) -> None:
    tile = by_name(get_dashboard(project, growth["id"]))["both"]
    insight_id = tile["insight"]["id"]
    assert tile["insight"]["dashboards"] == [growth["id"]]
    body = {"tiles": [{"id": tile["id"], "deleted": True}]}
    assert project.client().patch(dashboards_url(project, f"{growth['id']}/"), body, format="json").status_code == 200
    assert "both" not in by_name(get_dashboard(project, growth["id"]))
    insight = project.client().get(insights_url(project, f"{insight_id}/"))
    assert insight.status_code == 200
    assert insight.json()["dashboards"] == []
    assert insight.json()["dashboard_tiles"] == [{"id": tile["id"], "dashboard_id": growth["id"], "deleted": True}]
    # putting it back through the insight revives the same tile
    body = {"dashboards": [growth["id"]]}
    back = project.client().patch(insights_url(project, f"{insight_id}/"), body, format="json")
    assert back.json()["dashboard_tiles"] == [{"id": tile["id"], "dashboard_id": growth["id"], "deleted": False}]


@pytest.mark.clickhouse
def test_shared_link_works_without_a_key_until_rotated_or_disabled(project: Any, growth: dict[str, Any]) -> None:
    url = dashboards_url(project, f"{growth['id']}/sharing/")
    unsaved = project.client().get(url).json()
    assert (unsaved["enabled"], unsaved["created_at"], unsaved["password_required"]) == (False, None, False)
    get_dashboard(project, growth["id"], "?refresh=blocking")  # warm the tiles' cache

    enabled = project.client().patch(url, {"enabled": True}, format="json")
    assert enabled.status_code == 200, enabled.content
    token = enabled.json()["access_token"]
    assert enabled.json()["enabled"] is True and len(token) >= 22
    assert get_dashboard(project, growth["id"])["is_shared"] is True

    public = APIClient().get(f"/shared/{token}")
    assert public.status_code == 200, public.content
    shared = public.json()["dashboard"]
    assert shared["id"] == growth["id"]
    assert [s["data"] for s in by_name(shared)["last week"]["insight"]["result"]] == [[3, 1], [2, 1]]

    rotated = project.client().post(f"{url}refresh/").json()["access_token"]
    assert rotated != token
    assert APIClient().get(f"/shared/{token}").status_code == 404
    assert APIClient().get(f"/shared/{rotated}").status_code == 200
    assert project.client().patch(url, {"enabled": False}, format="json").json()["enabled"] is False
    gone = APIClient().get(f"/shared/{rotated}")
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"
