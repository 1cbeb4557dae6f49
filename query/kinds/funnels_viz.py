"""The `time_to_convert` and `trends` funnel vizzes (reference §3.5), over the engine's per-actor paths.

- time_to_convert: each converter's seconds from `funnelFromStep` (default 0) to `funnelToStep` (default the
  last step) on its best path, binned: `clamp(ceil(cbrt(samples)), 1, 60)` bins, or `binCount` clamped to 1–90;
  width `ceil((max − min) / bins)` (60 s when 0); `bins + 1` rows `[bin_start_seconds, actors]`, zero-filled;
  `average_conversion_time` (2 dp) and `median_conversion_time` over the converters.
- trends: each actor is matched once per interval it entered in (its step-0 events of other intervals are not
  entries there), bucketed by that interval (team timezone); per bucket `reached_from_step_count`,
  `reached_to_step_count` and `conversion_rate` = round(to / from × 100, 2) (0 without entries). One result
  `{count: <buckets>, data, days, labels}`.
"""

from __future__ import annotations

import math
from typing import Any

from query.hogql.errors import HogQLQueryError
from query.hogql.parser import to_hogql
from query.kinds.breakdown import parse_breakdown
from query.kinds.funnels_engine import actor_rows, event_rows, path_expr, sorted_events

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def step_range(context: Any) -> tuple[int, int]:
    funnels = context.funnels
    start = funnels.get("funnelFromStep")
    end = funnels.get("funnelToStep")
    return (0 if start is None else int(start)), (context.steps - 1 if end is None else int(end))


def _bin_count(context: Any, samples: int) -> int:
    asked = context.funnels.get("binCount")
    if isinstance(asked, int) and asked > 0:
        return max(1, min(asked, 90))
    return max(1, min(math.ceil(samples ** (1 / 3)), 60)) if samples else 1


def run_time_to_convert(context: Any) -> dict[str, Any]:
    start, end = step_range(context)
    seconds = f"(arrayElement(path, {end + 1}) - arrayElement(path, {start + 1})) / 1000"
    converters = f"SELECT {seconds} AS t FROM ({actor_rows(context.spec())}) WHERE length(path) >= {end + 1}"
    [row] = context.execute(
        f"SELECT count(), min(t), max(t), avg(t), quantileExactInclusive(0.5)(t) FROM ({converters})"
    )
    samples = int(row[0] or 0)
    if not samples:
        return {"bins": [], "average_conversion_time": None, "median_conversion_time": None}
    low, high = float(row[1]), float(row[2])
    bins = _bin_count(context, samples)
    width = math.ceil((high - low) / bins) or 60
    low_text = repr(low)
    histogram = (
        f"SELECT toInt64(floor((t - {low_text}) / {width})) AS b, count() FROM ({converters}) GROUP BY b ORDER BY b"
    )
    found = {int(b): int(n) for b, n in context.execute(histogram)}
    rows = [[_number(low + i * width), context.scale(found.get(i, 0))] for i in range(bins + 1)]
    return {
        "bins": rows,
        "average_conversion_time": round(float(row[3]), 2),
        "median_conversion_time": round(float(row[4]), 2),
    }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _label(day: str) -> str:
    year, month, rest = day[:4], int(day[5:7]), day[8:10]
    return f"{int(rest)}-{_MONTHS[month - 1]}-{year}"


def trends_entries(context: Any) -> str:
    """`SELECT aggregation_target, entry`: one row per actor and interval it entered in, entry = (interval start,
    the path of that interval's entries)."""
    date_range = context.date_range
    spec = context.spec(extras=(("entry_bucket", to_hogql(date_range.bucket_expr())),))
    evs = sorted_events(spec, "entry_bucket")
    # the events as seen by the entries of interval b: step-0 events of other intervals are no entries
    first = "bitAnd(tupleElement(e, 2), 1) != 0" if spec.uses_mask else "has(tupleElement(e, 2), 0)"
    without = "tupleElement(e, 2) - 1" if spec.uses_mask else "arrayFilter(s -> s != 0, tupleElement(e, 2))"
    per_bucket = (
        f"arrayMap(e -> if({first} AND tupleElement(e, 3) != b, "
        f"tuple(tupleElement(e, 1), {without}, tupleElement(e, 3)), e), evs)"
    )
    buckets = f"arrayDistinct(arrayMap(e -> tupleElement(e, 3), arrayFilter(e -> {first}, evs)))"
    pairs = f"arrayMap(b -> tuple(b, {path_expr(spec, per_bucket)}), {buckets})"
    return (
        f"SELECT aggregation_target, arrayJoin(arrayElement(arrayMap(evs -> {pairs}, [{evs}]), 1)) AS entry "
        f"FROM ({event_rows(spec)}) GROUP BY aggregation_target"
    )


def run_trends(context: Any) -> list[dict[str, Any]]:
    if parse_breakdown(context.query.get("breakdownFilter")) is not None:
        raise HogQLQueryError("Breakdowns of funnel trends are not supported yet")
    start, end = step_range(context)
    date_range = context.date_range
    per_actor = trends_entries(context)
    text = (
        f"SELECT tupleElement(entry, 1) AS bucket, countIf(length(tupleElement(entry, 2)) >= {start + 1}), "
        f"countIf(length(tupleElement(entry, 2)) >= {end + 1}) FROM ({per_actor}) GROUP BY bucket"
    )
    data = [0.0] * len(date_range.buckets)
    for bucket, entered, converted in context.execute(text):
        index = date_range.bucket_index(bucket)
        if index is not None and entered:
            data[index] = round(context.scale(converted) / context.scale(entered) * 100, 2)
    days = date_range.days
    return [{"count": len(days), "data": data, "days": days, "labels": [_label(d) for d in days]}]
