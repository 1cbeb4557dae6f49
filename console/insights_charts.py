"""How the console draws an insight: its query kind and display settings plus its results become a chart spec,
a plain dict the page hands to console/insights.js (Chart.js) through a data-* attribute, or rows the template
renders as HTML (retention's cohort table, paths' edge list, total-value tables).

Spec `type`: `line` / `bar` / `pie` (Chart.js), `number` (one big value), `table` (label/value rows),
`retention` (cohort × period rows with percentages and a heat class 0–10), `paths` (edges grouped by step),
`empty` (no results: a miss, a failed run or a kind not drawn). Time-axis charts carry `annotations`: the
bucket index each annotation falls in and its text (drawn by the page's marker plugin)."""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

TOTAL_VALUE_DISPLAYS = frozenset(
    {"BoldNumber", "ActionsPie", "ActionsBarValue", "ActionsTable", "WorldMap", "CalendarHeatmap"}
)
STACKED_BARS = frozenset({"ActionsBar", "ActionsStackedBar"})
LIFECYCLE_ORDER = ("new", "returning", "resurrecting", "dormant")
MATH_NAMES = {"dau": "unique users", "weekly_active": "weekly active", "monthly_active": "monthly active",
              "unique_session": "unique sessions", "unique_group": "unique groups", "hogql": "HogQL",
              "first_time_for_user": "first time", "first_matching_event_for_user": "first matching"}  # fmt: skip


def number(value: Any) -> float | int:
    """A result number as shown: integral floats become ints (3.0 → 3), missing values 0."""
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def percent(part: Any, whole: Any) -> float:
    return round(100.0 * float(part or 0) / float(whole), 1) if whole else 0.0


def duration(seconds: Any) -> str:
    """`1h 2m`, `3m 20s`, `45s` (— when unknown)."""
    if seconds is None:
        return "—"
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def _breakdown_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return "(none)" if value in (None, "") else str(value)


def _series_label(item: dict[str, Any]) -> str:
    label = str(item.get("label") or (item.get("action") or {}).get("name") or "Series")
    action = item.get("action") or {}
    if action.get("custom_name"):
        label = str(action["custom_name"])
    elif action.get("math") not in (None, "total"):
        math = str(action["math"])
        prop = f" of {action['math_property']}" if action.get("math_property") else ""
        label = f"{label} ({MATH_NAMES.get(math, math)}{prop})"
    breakdown = item.get("breakdown_value")
    if breakdown is not None and _breakdown_text(breakdown) not in label:
        label = f"{label} - {_breakdown_text(breakdown)}"
    if item.get("compare_label"):
        label = f"{label} ({item['compare_label']})"
    return label


def _bucket_start(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def place_annotations(days: list[Any], annotations: Iterable[Any], timezone: str) -> list[dict[str, Any]]:
    """Each annotation whose date marker falls in a bucket of `days` (bucket starts, in the project's
    timezone): `{index, text, date}`. Past the last bucket by more than one bucket width → not shown."""
    tz = zoneinfo.ZoneInfo(timezone or "UTC")
    starts = [_bucket_start(day, tz) for day in days]
    if not starts or any(start is None for start in starts):
        return []
    width = starts[1] - starts[0] if len(starts) > 1 else dt.timedelta(days=1)
    placed = []
    for annotation in annotations:
        marker = annotation.date_marker.astimezone(tz)
        index = bisect.bisect_right(starts, marker) - 1
        if index < 0 or (index == len(starts) - 1 and marker >= starts[-1] + width):
            continue
        text = annotation.content or ""
        placed.append({"index": index, "text": text, "date": marker.strftime("%Y-%m-%d %H:%M")})
    return placed


def _trends(source: dict[str, Any], result: list[dict[str, Any]]) -> dict[str, Any]:
    display = (source.get("trendsFilter") or {}).get("display") or "ActionsLineGraph"
    if display in TOTAL_VALUE_DISPLAYS:
        rows = [{"label": _series_label(item), "value": number(item.get("aggregated_value"))} for item in result]
        if display == "BoldNumber":
            return {"type": "number", "display": display, "rows": rows, "value": rows[0]["value"] if rows else 0}
        if display == "ActionsPie":
            return {"type": "pie", "display": display, "labels": [r["label"] for r in rows],
                    "datasets": [{"label": "Total", "data": [r["value"] for r in rows]}], "rows": rows}  # fmt: skip
        if display == "ActionsBarValue":
            return {"type": "bar", "display": display, "indexAxis": "y", "labels": [r["label"] for r in rows],
                    "datasets": [{"label": "Total", "data": [r["value"] for r in rows]}], "rows": rows}  # fmt: skip
        return {"type": "table", "display": display, "rows": rows}
    first = result[0] if result else {}
    return {
        "type": "bar" if display in STACKED_BARS | {"ActionsUnstackedBar"} else "line",
        "display": display,
        "stacked": display in STACKED_BARS or display == "ActionsAreaGraph",
        "fill": display == "ActionsAreaGraph",
        "labels": list(first.get("labels") or first.get("days") or []),
        "days": list(first.get("days") or []),
        "datasets": [
            {"label": _series_label(item), "data": [number(v) for v in item.get("data") or []]} for item in result
        ],  # fmt: skip
    }


def _step_name(step: dict[str, Any]) -> str:
    return str(step.get("custom_name") or step.get("name") or step.get("action_id") or f"Step {step.get('order')}")


def _funnel_steps(source: dict[str, Any], result: list[Any]) -> dict[str, Any]:
    groups = result if result and isinstance(result[0], list) else [result]
    steps = groups[0] if groups and groups[0] else []
    labels = [f"{i + 1}. {_step_name(step)}" for i, step in enumerate(steps)]
    datasets, rows = [], []
    for group in groups:
        counts = [number(step.get("count")) for step in group]
        breakdown = _breakdown_text(group[0].get("breakdown_value")) if group and "breakdown_value" in group[0] else ""
        datasets.append({"label": breakdown or "Conversion", "data": [percent(c, counts[0]) for c in counts],
                         "counts": counts})  # fmt: skip
        for i, step in enumerate(group):
            rows.append({
                "breakdown": breakdown, "step": i + 1, "name": _step_name(step), "count": counts[i],
                "conversion": percent(counts[i], counts[0]),
                "from_previous": percent(counts[i], counts[i - 1]) if i else 100.0,
                "average_time": duration(step.get("average_conversion_time")) if i else "",
            })  # fmt: skip
    layout = (source.get("funnelsFilter") or {}).get("layout") or "vertical"
    return {"type": "bar", "display": "FunnelSteps", "funnel": True, "percent": True, "labels": labels,
            "indexAxis": "y" if layout == "horizontal" else "x", "datasets": datasets, "rows": rows}  # fmt: skip


def _funnels(source: dict[str, Any], result: Any) -> dict[str, Any]:
    viz = (source.get("funnelsFilter") or {}).get("funnelVizType") or "steps"
    if viz == "trends" and isinstance(result, list):
        first = result[0] if result else {}
        return {"type": "line", "display": "FunnelTrends", "percent": True,
                "labels": list(first.get("labels") or []), "days": list(first.get("days") or []),
                "datasets": [{"label": _breakdown_text(item.get("breakdown_value")) if "breakdown_value" in item
                              else "Conversion rate", "data": [number(v) for v in item.get("data") or []]}
                             for item in result]}  # fmt: skip
    if viz == "time_to_convert" and isinstance(result, dict):
        bins = result.get("bins") or []
        return {"type": "bar", "display": "FunnelTimeToConvert", "labels": [duration(b[0]) for b in bins],
                "datasets": [{"label": "Conversions", "data": [number(b[1]) for b in bins]}],
                "average": duration(result.get("average_conversion_time"))}  # fmt: skip
    return _funnel_steps(source, result if isinstance(result, list) else [])


def _retention(source: dict[str, Any], result: list[dict[str, Any]]) -> dict[str, Any]:
    cohorts = len({row.get("date") for row in result}) or 1
    width = max((len(row.get("values") or []) for row in result), default=0)
    period = (source.get("retentionFilter") or {}).get("period") or "Day"
    rows = []
    for position, row in enumerate(result):
        values = row.get("values") or []
        size = number(values[0].get("count")) if values else 0
        index = position % cohorts  # breakdowns repeat the cohorts per value
        cells = []
        for k in range(width):
            if k >= len(values) or index + k >= cohorts:
                cells.append(None)  # the future: not shown, as PostHog leaves it blank
                continue
            share = percent(values[k].get("count"), size)
            cells.append({"count": number(values[k].get("count")), "percent": share, "heat": int(round(share / 10))})
        rows.append({"date": str(row.get("date") or "")[:10], "label": row.get("label") or "", "size": size,
                     "breakdown": _breakdown_text(row["breakdown_value"]) if "breakdown_value" in row else "",
                     "cells": cells})  # fmt: skip
    return {"type": "retention", "headers": [f"{period} {k}" for k in range(width)], "rows": rows,
            "breakdown": any(r["breakdown"] for r in rows)}  # fmt: skip


def _lifecycle(source: dict[str, Any], result: list[dict[str, Any]]) -> dict[str, Any]:
    toggled = (source.get("lifecycleFilter") or {}).get("toggledLifecycles") or list(LIFECYCLE_ORDER)
    items = sorted(
        (item for item in result if item.get("status") in toggled),
        key=lambda item: LIFECYCLE_ORDER.index(item["status"]) if item.get("status") in LIFECYCLE_ORDER else 9,
    )
    first = result[0] if result else {}
    return {
        "type": "bar",
        "display": "Lifecycle",
        "stacked": True,
        "labels": list(first.get("labels") or first.get("days") or []),
        "days": list(first.get("days") or []),
        "datasets": [
            {
                "label": str(item.get("status")),
                "status": item.get("status"),
                "data": [number(v) for v in item.get("data") or []],
            }
            for item in items
        ],  # fmt: skip
    }


def _stickiness(source: dict[str, Any], result: list[dict[str, Any]]) -> dict[str, Any]:
    display = (source.get("stickinessFilter") or {}).get("display") or "ActionsLineGraph"
    first = result[0] if result else {}
    return {
        "type": "bar" if display in STACKED_BARS | {"ActionsUnstackedBar"} else "line",
        "display": display,
        "labels": list(first.get("labels") or [str(d) for d in first.get("days") or []]),
        "datasets": [
            {"label": _series_label(item), "data": [number(v) for v in item.get("data") or []]} for item in result
        ],  # fmt: skip
    }


def _node(name: Any) -> tuple[int, str]:
    step, _, label = str(name).partition("_")
    return (int(step), label) if step.isdigit() and label else (0, str(name))


def _paths(source: dict[str, Any], result: list[dict[str, Any]]) -> dict[str, Any]:
    steps: dict[int, list[dict[str, Any]]] = {}
    for edge in result:
        step, source_name = _node(edge.get("source"))
        _, target_name = _node(edge.get("target"))
        average_ms = edge.get("average_conversion_time")
        steps.setdefault(step, []).append({
            "source": source_name, "target": target_name, "value": number(edge.get("value")),
            "average_time": duration(average_ms / 1000 if average_ms is not None else None),
        })  # fmt: skip
    groups = [{"step": step, "edges": sorted(edges, key=lambda e: (-e["value"], e["source"], e["target"]))}
              for step, edges in sorted(steps.items())]  # fmt: skip
    return {"type": "paths", "groups": groups, "edges": len(result)}


BUILDERS = {
    "TrendsQuery": _trends,
    "FunnelsQuery": _funnels,
    "RetentionQuery": _retention,
    "LifecycleQuery": _lifecycle,
    "StickinessQuery": _stickiness,
    "PathsQuery": _paths,
}


def chart_spec(source: dict[str, Any] | None, result: Any) -> dict[str, Any]:
    """The spec of an insight whose runnable node is `source`, with its `result` (None on a miss)."""
    kind = (source or {}).get("kind")
    builder = BUILDERS.get(kind)
    if builder is None:
        return {"type": "empty", "message": f"{kind or 'This query'} is not drawn here."}
    if result is None:
        return {"type": "empty", "message": "No results yet."}
    spec = builder(source, result)
    spec["kind"] = kind
    return spec
