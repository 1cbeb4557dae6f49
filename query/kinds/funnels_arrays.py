"""Ordered funnels without exclusions, matched with whole-array functions instead of a fold: the fast path of
`query.kinds.funnels_engine.actor_rows`, with the fold's (`query.kinds.funnels_fold`) exact semantics.

A fold runs its step lambda once per array position over the rows still that long, copying its tuple state each
time; over 10M events that is most of a funnel's time. The ordered funnel needs no general state machine: with
P[k] the latest entry that reached step k and s(i) = P[k-1]'s start just before event i, the fold moves an entry
to step k at event i exactly when

    i satisfies step k, s(i) > 0, ts(i) − s(i) ≤ window, and no earlier event satisfying step k had the same s

(starts only grow, so an earlier step-k event with the same s either moved that entry already or was outside the
window, as i is then too). P[k-1] just before i is the last event before i that moved an entry to step k-1 — a
forward fill (`arrayFill`) of positions — so each step is a handful of vectorised array passes. The furthest
step is the highest k with a move; the reported path is the first move there, followed back through the
positions each move came from (the fold's "first path to reach the furthest step").

Events are one Int64 each: `ts << n | code`, code = the step bits reversed and inverted (step k is bit n-1-k,
set to 0), so a plain `arraySort` orders by time and, at one moment, earlier steps first — the order the fold's
rank gives. That needs n ≤ `MAX_STEPS` (ts in epoch ms keeps 43 bits: past the year 2200).

Person actors: the events are grouped by `distinct_id` first and the (far fewer) per-distinct-id arrays joined to
`person_distinct_ids` and merged per person — one hash pass over the events instead of a join and a group by.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_STEPS = 20


def applies(spec: Any, group_extras: Sequence[str] = ()) -> bool:
    """Ordered, no exclusions, ≤ MAX_STEPS steps, and every carried extra is a grouping key."""
    extras = {alias for alias, _ in spec.extras}
    return (
        spec.order == "ordered" and not spec.exclusions and len(spec.steps) <= MAX_STEPS and extras <= set(group_extras)
    )


def packed_key(spec: Any) -> str:
    """The event as one sortable Int64: epoch ms, then the inverted reversed step bits."""
    n = len(spec.steps)
    bits = " + ".join(f"if({condition}, {1 << (n - 1 - k)}, 0)" for k, condition in enumerate(spec.steps))
    return f"bitOr(bitShiftLeft(toUnixTimestamp64Milli(timestamp), {n}), {(1 << n) - 1} - ({bits}))"


def _step_bit(n: int, k: int) -> str:
    return f"x -> bitAnd(x, {1 << (n - 1 - k)}) = 0"


def _before(array: str) -> str:
    """Each position's value at the position before (0 first)."""
    return f"arrayPushFront(arrayPopBack({array}), 0)"


def _last_moved(moved: str) -> str:
    """Per position, the last position at or before it whose event moved an entry (0: none yet)."""
    return f"arrayFill(x -> x > 0, arrayMap((m, i) -> if(m, i, 0), {moved}, m_idx))"


def path_columns(spec: Any, events: str = "evs") -> list[str]:
    """`expr AS name` columns over the sorted packed `events`, the last one `path`: the winning path's
    timestamps (ms), empty when the actor never entered."""
    n, window = len(spec.steps), spec.window_ms
    cols = [f"arrayMap(x -> bitShiftRight(x, {n}), {events}) AS m_ts", f"arrayEnumerate({events}) AS m_idx"]
    cols += [f"arrayMap({_step_bit(n, k)}, {events}) AS m_b{k}" for k in range(n)]
    cols.append("arrayFirstIndex(x -> x, m_b0) AS m_first0")
    start = "m_ts"  # per position that moved an entry to step k-1: the entry's start
    for k in range(1, n):
        last = _last_moved("m_b0" if k == 1 else f"m_mv{k - 1}")
        cols.append(f"{_before(last)} AS m_src{k}")  # the position that put P[k-1] in place before each event
        cols.append(f"arrayMap(j -> arrayElement({start}, j), m_src{k}) AS m_s{k}")
        previous = _before(f"arrayFill((v, b) -> b, m_s{k}, m_b{k})")  # s of the previous step-k event
        cols.append(
            f"arrayMap((b, s, t, p) -> b AND s > 0 AND t - s <= {window} AND p != s, m_b{k}, m_s{k}, m_ts, "
            f"{previous}) AS m_mv{k}"
        )
        cols.append(f"arrayFirstIndex(x -> x, m_mv{k}) AS m_first{k}")
        start = f"m_s{k}"
    cols.append(f"({' + '.join(f'(m_first{k} > 0)' for k in range(n))}) AS m_level")
    # the positions of the winning path, from its last step back
    cols.append(f"if(m_level = {n}, m_first{n - 1}, 0) AS m_at{n - 1}")
    for k in range(n - 2, -1, -1):
        cols.append(f"if(m_level = {k + 1}, m_first{k}, arrayElement(m_src{k + 1}, m_at{k + 1})) AS m_at{k}")
    times = ", ".join(f"arrayElement(m_ts, m_at{k})" for k in range(n))
    cols.append(f"arraySlice([{times}], 1, m_level) AS path")
    return cols


def _event_filter(spec: Any) -> str:
    table = f"events SAMPLE {spec.sample}" if spec.sample else "events"
    steps = " OR ".join(f"({condition})" for condition in spec.steps)
    return f"FROM {table} WHERE {spec.where} AND ({steps})"


def actor_events(spec: Any, group_extras: Sequence[str] = ()) -> str:
    """`SELECT aggregation_target, <group extras>, evs`: each actor's packed events, sorted."""
    extras = dict(spec.extras)
    if spec.actor != "person_id":
        keys = ", ".join(["aggregation_target", *group_extras])
        values = "".join(f", {extras[alias]} AS {alias}" for alias in group_extras)
        return (
            f"SELECT {spec.actor} AS aggregation_target{values}, arraySort(groupArray({packed_key(spec)})) AS evs "
            f"{_event_filter(spec)} GROUP BY {keys}"
        )
    values = "".join(f", {extras[alias]} AS {alias}" for alias in group_extras)
    per_id = (
        f"SELECT distinct_id{values}, groupArray({packed_key(spec)}) AS keys {_event_filter(spec)} "
        f"GROUP BY {', '.join(['distinct_id', *group_extras])}"
    )
    carried = "".join(f", d.{alias} AS {alias}" for alias in group_extras)
    return (
        f"SELECT pdi.person_id AS aggregation_target{carried}, arraySort(arrayFlatten(groupArray(d.keys))) AS evs "
        f"FROM ({per_id}) AS d INNER JOIN person_distinct_ids AS pdi ON d.distinct_id = pdi.distinct_id "
        f"GROUP BY {', '.join(['aggregation_target', *group_extras])}"
    )


def actor_rows(spec: Any, group_extras: Sequence[str] = ()) -> str:
    """`SELECT aggregation_target, <group extras>, path`, as `funnels_engine.actor_rows` answers it."""
    keys = ", ".join(["aggregation_target", *group_extras])
    columns = ", ".join(path_columns(spec))
    return f"SELECT {keys}, path FROM (SELECT {keys}, {columns} FROM ({actor_events(spec, group_extras)}))"
