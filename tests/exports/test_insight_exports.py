"""Exports that name a saved insight or a dashboard instead of a query: the insight's table as CSV/XLSX, its
chart as a PNG, a dashboard's tiles as one PNG (computed in the dashboard's context). TV-1's events
(query_kinds.md §12): total [3,1,2] and DAU [2,1,2] of $pageview over 7–9 Jan 2024; under a dashboard range of
7–8 Jan, [3,1] and [2,1]."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.dashboards.test_dashboard_tiles import HOGQL, RANGE_7_8, create_dashboard
from tests.exports.conftest import create, exports_url, wait_for_content
from tests.insights.conftest import create_insight, dashboards_url, load_tv1, trends_node

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]  # the export runner's thread reads


def _content(project: Any, body: dict[str, Any]) -> Any:
    response = create(project, body)
    assert response.status_code == 201, response.content
    done = wait_for_content(project, response.json()["id"])
    assert done["has_content"] is True, done
    return project.client().get(exports_url(project, f"{response.json()['id']}/content/"))


def _ink(image: Image.Image) -> float:
    histogram = image.convert("L").histogram()
    return sum(histogram[:245]) / sum(histogram)


def test_an_insight_exports_its_table_as_csv(project: Any) -> None:
    load_tv1(project.team.pk)
    insight = create_insight(project, trends_node(), name="Pageviews")

    content = _content(project, {"export_format": "text/csv", "insight": insight["id"]})

    assert content["Content-Type"].startswith("text/csv")
    lines = content.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "series,7-Jan-2024,8-Jan-2024,9-Jan-2024",  # one row per series, a column per day, as PostHog's CSV
        "$pageview,3,1,2",  # total
        "$pageview,2,1,2",  # dau
    ]


def test_an_insight_exports_its_chart_as_a_png(project: Any) -> None:
    load_tv1(project.team.pk)
    insight = create_insight(project, trends_node(), name="Pageviews by day")

    content = _content(project, {"export_format": "image/png", "insight": insight["id"]})

    assert content["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(content.content))
    assert image.format == "PNG" and image.size == (1200, 600)
    assert 0.01 < _ink(image) < 0.5
    Path("/tmp/export_insight.png").write_bytes(content.content)  # looked at: see the issue note


def test_a_dashboard_exports_its_tiles_as_one_png(project: Any) -> None:
    load_tv1(project.team.pk)
    dashboard = create_dashboard(project, filters=RANGE_7_8)
    create_insight(project, trends_node(), name="Pageviews", dashboards=[dashboard["id"]])
    create_insight(project, HOGQL, name="Events (SQL)", dashboards=[dashboard["id"]])
    text = {"text": {"body": "Deploy notes: v2 out 8 Jan."}, "layouts": {"sm": {"x": 0, "y": 9, "w": 6, "h": 2}}}
    project.client().patch(dashboards_url(project, f"{dashboard['id']}/"), {"tiles": [text]}, format="json")

    content = _content(project, {"export_format": "image/png", "dashboard": dashboard["id"]})

    image = Image.open(io.BytesIO(content.content))
    assert image.size == (1200, 900)  # three tiles, two per row: two rows of 450 px
    assert 0.01 < _ink(image) < 0.5
    Path("/tmp/export_dashboard.png").write_bytes(content.content)


def test_a_dashboard_exports_as_png_only(project: Any) -> None:
    dashboard = create_dashboard(project)
    response = create(project, {"export_format": "text/csv", "dashboard": dashboard["id"]})
    assert response.status_code == 400
    assert response.json()["attr"] == "export_format"
    assert response.json()["detail"] == "Dashboards export as PNG only."


def test_unknown_deleted_and_other_projects_targets_are_400s(project: Any, other_project: Any) -> None:
    theirs = create_insight(other_project, trends_node())
    mine = create_insight(project, trends_node())
    project.client().patch(f"/api/projects/{project.team.pk}/insights/{mine['id']}/", {"deleted": True}, format="json")
    their_dashboard = create_dashboard(other_project)
    for field, pk in (("insight", theirs["id"]), ("insight", mine["id"]), ("insight", 10**9),
                      ("dashboard", their_dashboard["id"])):  # fmt: skip
        response = create(project, {"export_format": "image/png", field: pk})
        assert response.status_code == 400, (field, pk)
        assert response.json()["attr"] == field
        assert response.json()["detail"] == f'Invalid pk "{pk}" - object does not exist.'
