"""PNG charts of a query result, drawn server-side with matplotlib (Agg, no browser): a line over time when
the first column holds dates, bars when it holds labels, a table image otherwise. Uses the object API only
(no pyplot state), so worker threads can render concurrently."""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from pathlib import Path
from typing import Any

from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

WIDTH_PX, HEIGHT_PX, DPI = 1200, 600, 100
MAX_BARS = 50
MAX_TABLE_ROWS = 25
MAX_TEXT_LINES = 20
PANEL_HEIGHT_PX = 450
SERIES_COLORS = ["#1d4aff", "#621da6", "#42827e", "#ce0e74", "#f14f58", "#7c440e"]


def _as_date(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numeric_columns(rows: list[list[Any]], width: int) -> list[int]:
    return [
        i
        for i in range(1, width)
        if any(row[i] is not None for row in rows) and all(row[i] is None or _is_number(row[i]) for row in rows)
    ]


def chart_kind(rows: list[list[Any]]) -> str:
    if not rows or len(rows[0]) < 2 or not _numeric_columns(rows, len(rows[0])):
        return "table"
    if all(_as_date(row[0]) is not None for row in rows):
        return "line"
    return "bar"


def _line(ax: Any, columns: list[str], rows: list[list[Any]]) -> None:
    points = sorted(((_as_date(row[0]), row) for row in rows), key=lambda item: item[0])
    xs = [x for x, _ in points]
    for n, i in enumerate(_numeric_columns(rows, len(rows[0]))):
        ys = [row[i] if row[i] is not None else 0 for _, row in points]
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=2, color=SERIES_COLORS[n % 6], label=columns[i])
    if all(x.time() == dt.time() for x in xs):  # whole days (or weeks, months): label days, never hours
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=12, interval_multiples=True))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b %Y"))
        if len(xs) <= 12:
            ax.set_xticks(xs)
    for label in ax.get_xticklabels():  # per axes: the figure's autofmt_xdate blanks all but the bottom row's
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    ax.set_xlabel(columns[0])


def _bar(ax: Any, columns: list[str], rows: list[list[Any]]) -> None:
    rows = rows[:MAX_BARS]
    labels = ["(none)" if row[0] is None else str(row[0])[:30] for row in rows]
    numeric = _numeric_columns(rows, len(rows[0]))
    width = 0.8 / len(numeric)
    for n, i in enumerate(numeric):
        positions = [p + n * width for p in range(len(rows))]
        ax.bar(positions, [row[i] or 0 for row in rows], width=width, color=SERIES_COLORS[n % 6], label=columns[i])
    ax.set_xticks([p + width * (len(numeric) - 1) / 2 for p in range(len(rows))], labels, rotation=45, ha="right")


def _table(ax: Any, columns: list[str], rows: list[list[Any]]) -> None:
    ax.axis("off")
    if not rows:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", fontsize=20, color="#747ea1")
        return
    cells = [["" if v is None else str(v)[:40] for v in row] for row in rows[:MAX_TABLE_ROWS]]
    table = ax.table(cellText=cells, colLabels=[str(c)[:40] for c in columns], loc="upper center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    for (row, _col), cell in table.get_celld().items():
        if row == 0:
            cell.set_facecolor("#eef0f6")


def _draw(ax: Any, columns: list[str], rows: list[list[Any]]) -> str:
    """One chart on `ax`; the kind drawn (`line`, `bar` or `table`)."""
    kind = chart_kind(rows)
    {"line": _line, "bar": _bar, "table": _table}[kind](ax, columns, rows)
    if kind != "table":
        ax.grid(axis="y", color="#e5e7eb")
        ax.spines[["top", "right"]].set_visible(False)
        if len(_numeric_columns(rows, len(rows[0]))) > 1:
            ax.legend(frameon=False)
        else:
            ax.set_ylabel(columns[_numeric_columns(rows, len(rows[0]))[0]])
    return kind


def render_png(columns: list[str], rows: list[list[Any]], out: Path, *, title: str = "") -> str:
    """Draw the chart into `out`; the kind drawn (`line`, `bar` or `table`)."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    kind = _draw(figure.add_subplot(), columns, rows)
    if title:
        figure.suptitle(title, fontsize=14)
    figure.tight_layout()
    figure.savefig(out, format="png", dpi=DPI)
    return kind


def _text(ax: Any, text: str) -> None:
    ax.axis("off")
    lines = [textwrap.fill(line, 70) for line in text.splitlines()[:MAX_TEXT_LINES]]
    ax.text(0.02, 0.95, "\n".join(lines), ha="left", va="top", fontsize=11, color="#35416b", wrap=True)


def _chart_of(panel: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """What a panel draws: its chart's own columns and rows when it has them (series over time), else its table."""
    if "chart_columns" in panel:
        return panel["chart_columns"], panel["chart_rows"]
    return panel["columns"], panel["rows"]


def render_panels_png(panels: list[dict[str, Any]], out: Path, *, title: str = "") -> list[str]:
    """Draw an insight (one panel) or a dashboard (`title` over its tiles in grid order, two per row) into
    `out`; the kind drawn per panel (`text` for a text card)."""
    if len(panels) == 1 and "text" not in panels[0]:
        return [render_png(*_chart_of(panels[0]), out, title=title or panels[0]["title"])]
    per_row = 1 if len(panels) <= 1 else 2
    grid_rows = max(1, math.ceil(len(panels) / per_row))
    height = PANEL_HEIGHT_PX * grid_rows
    figure = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    kinds = []
    for index, panel in enumerate(panels):
        ax = figure.add_subplot(grid_rows, per_row, index + 1)
        if "text" in panel:
            _text(ax, panel["text"])
            kinds.append("text")
        else:
            kinds.append(_draw(ax, *_chart_of(panel)))
        if panel.get("title"):
            ax.set_title(str(panel["title"])[:60], fontsize=12, loc="left")
    if not panels:
        _table(figure.add_subplot(), [], [])
    if title:
        figure.suptitle(title, fontsize=15, x=0.01, ha="left")
    figure.tight_layout()
    figure.savefig(out, format="png", dpi=DPI)
    return kinds
