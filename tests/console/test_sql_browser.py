"""The SQL page in Debian's headless Chromium (playwright-core): sign in, run a query with Ctrl+Enter over
events captured over HTTP and flushed, see its table and its chart drawn by Chart.js (datasets held, pixels
painted), switch to bars and drop a series, see a bad query's failing name marked and selected in the editor,
export CSV and download it. Screenshots go to CONSOLE_SCREENSHOTS_DIR (default: the test's tmp dir) and are
copied to /tmp/console-shots/ (sql.png, sql-bar.png, sql-error.png)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from console.services import user_set_password
from tests.browser import needs_browser, run_node
from tests.console.conftest import PASSWORD
from tests.console.test_sql import PURCHASES_BY_DAY, shop

SCRIPT = Path(__file__).parent / "js" / "sql_walk.mjs"
SHOTS = Path("/tmp/console-shots")

pytestmark = [pytest.mark.node, pytest.mark.clickhouse, pytest.mark.django_db(transaction=True),
              needs_browser("playwright-core")]  # fmt: skip


def test_run_chart_error_and_export_in_chromium(
    live_server: Any, project, other_project, tmp_path: Path, console_libraries: Path
) -> None:
    user_set_password(user=project.user, password=PASSWORD)
    shop(project, other_project)
    screenshots = Path(os.environ.get("CONSOLE_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    screenshots.mkdir(parents=True, exist_ok=True)
    report = run_node(SCRIPT, {"baseUrl": live_server.url, "email": project.user.email, "password": PASSWORD,
                               "projectId": project.team.pk, "query": PURCHASES_BY_DAY,
                               "badQuery": "SELECT event,\n  revenu\nFROM events", "screenshots": str(screenshots)},
                      tmp_path)  # fmt: skip
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in report["screenshots"].items():
        shutil.copy(path, SHOTS / Path(path).name)
        print(f"console screenshot {name}: {path} (copied to {SHOTS / Path(path).name})")

    assert report["navCurrent"] == "SQL"
    assert {"events", "persons", "sessions", "groups"} <= set(report["tablesListed"])
    assert report["header"] == ["day Date", "purchases UInt64", "revenue Nullable(Float64)"]  # names and types
    assert report["rows"] == [["2026-01-01", "2", "15.0"], ["2026-01-02", "1", "20.0"]]
    line = report["lineChart"]
    assert line["type"] == "line" and line["labels"] == ["2026-01-01", "2026-01-02"]
    assert line["datasets"] == [{"label": "purchases", "data": [2, 1], "hidden": False},
                                {"label": "revenue", "data": [15, 20], "hidden": False}]  # fmt: skip
    assert line["painted"] > 1000, line  # the canvas is drawn, not blank
    assert report["barChart"]["type"] == "bar" and report["barChart"]["painted"] > 1000
    assert [d["hidden"] for d in report["afterUncheck"]["datasets"]] == [False, True]

    assert report["errorText"] == "Line 2, column 3: Unable to resolve field: revenu"
    assert report["marked"] == "revenu"
    assert report["editorInvalid"] == "true"
    assert report["selection"] == [16, 22, True]  # the failing name is selected in the focused editor
    assert report["chartAfterError"] is None

    assert report["downloadName"] == "sql-query.csv"
    assert report["downloaded"].lstrip("\ufeff").splitlines() == ["day,purchases,revenue", "2026-01-01,2,15.0",
                                                                  "2026-01-02,1,20.0"]  # fmt: skip
    assert [e for e in report["consoleErrors"] if "Content Security Policy" in e] == [], report["consoleErrors"]
    assert all(Path(p).stat().st_size > 1000 for p in report["screenshots"].values())
