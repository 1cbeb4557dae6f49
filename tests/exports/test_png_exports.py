"""PNG exports: a chart of the query result drawn server-side (§A14 in our own way): line over time for a
daily count, bars for labels, a table image otherwise."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from exports.image import chart_kind, render_png
from tests.exports.conftest import create, exports_url, hogql, insert_events

NOW = dt.datetime.now(dt.UTC)
DAILY = "SELECT toDate(timestamp) AS day, count() AS events FROM events GROUP BY day ORDER BY day"


def _non_blank_share(image: Image.Image) -> float:
    histogram = image.convert("L").histogram()
    return sum(histogram[:245]) / sum(histogram)


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_png_of_a_daily_count_is_a_line_chart_image(project: Any) -> None:
    insert_events(
        project.team.pk,
        [{"event": "e", "timestamp": NOW - dt.timedelta(days=d)} for d in range(7) for _ in range(d + 1)],
    )
    response = create(project, {"export_format": "image/png", "export_context": hogql(DAILY, filename="Daily")})
    assert response.status_code == 201 and response.json()["has_content"] is True, response.json()
    assert response.json()["filename"] == "daily.png"

    content = project.client().get(exports_url(project, f"{response.json()['id']}/content/"))

    assert content["Content-Type"] == "image/png"
    assert content.content[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(content.content))
    assert image.format == "PNG" and image.size == (1200, 600)
    assert 0.01 < _non_blank_share(image) < 0.5  # axes, line and labels drawn; mostly white background
    Path("/tmp/export_daily.png").write_bytes(content.content)


def test_chart_kind_follows_the_first_column() -> None:
    assert chart_kind([["2025-01-01", 3], ["2025-01-02", 4]]) == "line"
    assert chart_kind([["Chrome", 3], ["Safari", 4]]) == "bar"
    assert chart_kind([["a", "b"]]) == "table"
    assert chart_kind([]) == "table"


@pytest.mark.parametrize(
    "rows", [[["Chrome", 3, 1], ["Safari", 4, 2]], [["a", "b"], ["c", None]], []], ids=["bar", "table", "empty"]
)
def test_bars_and_tables_render_non_blank_images(rows: list[list[Any]], tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    render_png(["name", "x", "y"][: len(rows[0]) if rows else 2], rows, out)
    image = Image.open(out)
    assert image.size == (1200, 600) and _non_blank_share(image) > 0.001
