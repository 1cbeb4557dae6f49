"""The dashboard and an insight in Debian's headless Chromium (playwright-core): every insight tile drawn by
Chart.js with the hand-worked data points (tests/console/insights_data.py), the annotation markers drawn on
time axes, the retention and paths tiles as HTML, the date filter applied from the page; screenshots
dashboard.png and insight.png in the test's tmp dir, copied to /tmp/console-shots/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from console.services import user_set_password
from tests.browser import needs_browser, run_node
from tests.console.conftest import PASSWORD
from tests.console.insights_data import build_board, capture

SCRIPT = Path(__file__).parent / "js" / "insights_walk.mjs"
SHOTS = Path("/tmp/console-shots")

pytestmark = [pytest.mark.node, pytest.mark.clickhouse, pytest.mark.django_db(transaction=True),
              needs_browser("playwright-core")]  # fmt: skip


@pytest.mark.usefixtures("console_libraries")
def test_dashboard_tiles_and_an_insight_drawn_in_chromium(live_server: Any, project: Any, tmp_path: Path) -> None:
    user_set_password(user=project.user, password=PASSWORD)
    capture(project)
    board = build_board(project)
    screenshots = tmp_path / "screenshots"
    screenshots.mkdir()
    arguments = {"baseUrl": live_server.url, "email": project.user.email, "password": PASSWORD,
                 "dashboardUrl": reverse("console:dashboard", args=[project.team.pk, board.dashboard["id"]]),
                 "insightUrl": reverse("console:insight", args=[project.team.pk, board.insights["trend"]["short_id"]]),
                 "dateFrom": "-7d", "screenshots": str(screenshots)}  # fmt: skip
    report = run_node(SCRIPT, arguments, tmp_path, timeout=180)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in report["screenshots"].items():
        assert Path(path).stat().st_size > 5000, path
        shutil.copy(path, SHOTS / f"{name}.png")
        print(f"console screenshot {name}: {path} (copied to {SHOTS / (name + '.png')})")
    assert report["consoleErrors"] == []
    assert report["tiles"] == 7 and report["textTile"] == "Weekly growth notes"
    charts = {c["kind"]: c for c in report["charts"]}
    assert set(charts) == {"TrendsQuery", "FunnelsQuery", "LifecycleQuery", "StickinessQuery"}
    assert all(c["painted"] > 500 for c in report["charts"]), [(c["kind"], c["painted"]) for c in report["charts"]]
    trend, funnel, life, sticky = (charts[k] for k in ("TrendsQuery", "FunnelsQuery", "LifecycleQuery",
                                                       "StickinessQuery"))  # fmt: skip
    assert (trend["type"], trend["data"]) == ("line", [[3, 1, 3], [2, 1, 3]])
    assert trend["markers"] == [[1, "v2 launched"], [2, "trend note"]]
    assert (funnel["type"], funnel["labels"], funnel["data"]) == ("bar", ["1. signup", "2. purchase"],
                                                                  [[100.0, 66.7]])  # fmt: skip
    assert life["type"] == "bar" and life["data"][3] == [0, -2, 0]
    assert life["markers"] == [[0, "lifecycle only"], [1, "v2 launched"]]
    assert sticky["data"] == [[2, 2, 0]] and sticky["markers"] == []
    assert report["retentionCells"] == 6
    assert report["pathEdges"] == ["signup → purchase 1 avg 10m 0s"]
    # "Last 7 days" from the page: no events in this week, every series zero-filled
    after = {c["kind"]: c for c in report["afterFilter"]}
    assert len(after["TrendsQuery"]["labels"]) == 8 and after["TrendsQuery"]["data"][0] == [0] * 8
    (insight,) = report["insight"]
    assert insight["data"] == [[3, 1, 3], [2, 1, 3]] and insight["painted"] > 500
    assert insight["markers"] == [[1, "v2 launched"], [2, "trend note"]]
