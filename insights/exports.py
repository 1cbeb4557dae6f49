"""What an export of an insight draws or tabulates (registered with the plumbing as the `insight` export
target): the insight's results computed now (the `blocking` mode: a fresh cached result, else a run), turned
into one table, `{"title", "columns", "rows"}`, the shape the exports app writes as CSV/XLSX or draws as a PNG.

The table per result shape (PostHog's own exporter tabulates what the UI shows; where the reference is silent
we chose these):
- series over time (Trends, Lifecycle, Stickiness, funnel trends): one row per series, named by its label (and
  breakdown value, compare label), then one column per interval label (as PostHog's CSV has it); a PNG draws
  them the other way round (`series_chart`: days down, a line per series);
- series shown as one number (`aggregated_value`, e.g. BoldNumber, Pie): one row per series, `series`, `value`;
- funnel steps: `step`, `count` and, per breakdown, one column per value (`count (<value>)`);
- funnel time to convert: `seconds`, `persons`;
- retention: `cohort`, then one column per interval;
- paths: `source`, `target`, `value`;
- anything with columns (HogQL, events, actors): its own columns and rows.
"""

from __future__ import annotations

from typing import Any

from insights.models import Insight
from insights.queries import source_node
from insights.results import RunContext, insight_result
from posthog_clone.accounts.models import Team

Table = dict[str, Any]


def _series_label(item: dict[str, Any]) -> str:
    label = str(item.get("label") or item.get("custom_name") or "series")
    breakdown = item.get("breakdown_value")
    if breakdown not in (None, "", []):
        label = f"{label} ({', '.join(map(str, breakdown)) if isinstance(breakdown, list) else breakdown})"
    if item.get("compare_label"):
        label = f"{label} – {item['compare_label']}"
    return label


def _series_table(items: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """One row per series (as PostHog's CSV has it): `series`, then one column per interval label."""
    if all("data" not in item and "aggregated_value" in item for item in items):
        return ["series", "value"], [[_series_label(item), item.get("aggregated_value")] for item in items]
    first = next((item for item in items if item.get("days")), {})
    labels = [str(label) for label in first.get("labels") or first.get("days") or []]
    return ["series", *labels], [[_series_label(item), *(item.get("data") or [])] for item in items]


def series_chart(items: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]] | None:
    """The same series for a chart: one row per interval (its day first, so it draws as a line), one column per
    series (repeated labels numbered, so each keeps its line)."""
    first = next((item for item in items if item.get("days")), None)
    if first is None:
        return None
    names: list[str] = []
    for item in items:
        name = _series_label(item)
        if name in names:  # e.g. one event counted twice (total, dau): tell the lines apart by their math
            math = (item.get("action") or {}).get("math") if isinstance(item.get("action"), dict) else None
            name = f"{name} ({math or len(names) + 1})"
        names.append(name)
    data = [item.get("data") or [] for item in items]
    rows = [[day, *(values[i] if i < len(values) else None for values in data)] for i, day in enumerate(first["days"])]
    return ["date" if isinstance(first["days"][0], str) else "day", *names], rows


def _funnel_steps_table(results: list[Any]) -> tuple[list[str], list[list[Any]]]:
    groups = results if results and isinstance(results[0], list) else [results]
    steps = groups[0] if groups else []
    if len(groups) == 1:
        return ["step", "count"], [[step.get("custom_name") or step.get("name"), step.get("count")] for step in steps]
    columns = ["step"]
    for group in groups:
        value = group[0].get("breakdown_value") if group else None
        columns.append(f"count ({', '.join(map(str, value)) if isinstance(value, list) else value})")
    rows = [
        [step.get("custom_name") or step.get("name"), *(g[i].get("count") if i < len(g) else None for g in groups)]
        for i, step in enumerate(steps)
    ]
    return columns, rows


def _retention_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    width = max((len(row.get("values") or []) for row in rows), default=0)
    labels = next(([v.get("label") or f"Interval {i}" for i, v in enumerate(row["values"])]
                   for row in rows if len(row.get("values") or []) == width), [])  # fmt: skip
    columns = ["cohort", *labels]
    out = []
    for row in rows:
        cohort = row.get("date") or row.get("label")
        if row.get("breakdown_value") is not None:
            cohort = f"{cohort} ({row['breakdown_value']})"
        out.append([cohort, *(value.get("count") for value in row.get("values") or [])])
    return columns, out


def result_table(kind: str | None, response: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """(columns, rows) of a query response, per the module's table of shapes."""
    results = response.get("result")
    if response.get("columns") is not None and isinstance(results, list):
        return [str(c) for c in response["columns"]], [list(row) for row in results]
    if isinstance(results, dict) and "bins" in results:  # funnel time to convert
        return ["seconds", "persons"], [list(b) for b in results.get("bins") or []]
    if not isinstance(results, list) or not results:
        return [], []
    if kind == "FunnelsQuery" and not any(isinstance(r, dict) and "days" in r for r in results):
        return _funnel_steps_table(results)
    if kind == "RetentionQuery":
        return _retention_table(results)
    if kind == "PathsQuery":
        return ["source", "target", "value"], [[e.get("source"), e.get("target"), e.get("value")] for e in results]
    if all(isinstance(item, dict) for item in results):
        return _series_table(results)
    return [], []


def _kind(insight: Insight) -> str | None:
    source = source_node(insight.query) if isinstance(insight.query, dict) else None
    return source.get("kind") if isinstance(source, dict) else None


def insight_table(team: Team, insight: Insight, context: RunContext) -> Table:
    """The insight's table (and, for series over time, the chart's), computed in `context` (a dashboard's
    filters, or none)."""
    shown = insight_result(team, insight, context)
    kind = _kind(insight)
    columns, rows = result_table(kind, {"result": shown.result, "columns": shown.columns})
    table: Table = {"title": insight.name or insight.derived_name or f"Insight {insight.short_id}", "columns": columns,
                    "rows": rows}  # fmt: skip
    results = shown.result
    if shown.columns is None and kind not in {"RetentionQuery", "PathsQuery"} and isinstance(results, list):
        chart = series_chart([item for item in results if isinstance(item, dict)])
        if chart is not None:
            table["chart_columns"], table["chart_rows"] = chart
    return table


def insight_exists(team_id: int, pk: int) -> bool:
    return Insight.objects.filter(team_id=team_id, pk=pk, deleted=False).exists()


def insight_panels(team_id: int, pk: int) -> dict[str, Any]:
    insight = Insight.objects.select_related("team").get(team_id=team_id, pk=pk, deleted=False)
    table = insight_table(insight.team, insight, RunContext(mode="blocking"))
    return {"title": table["title"], "panels": [table]}
