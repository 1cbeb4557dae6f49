"""Ordered funnels matched with whole-array functions instead of a fold: the fast path of
`query.kinds.funnels_engine.actor_rows`, with the fold's (`query.kinds.funnels_fold`) exact semantics.

A fold runs its step lambda once per array position over the rows still that long, copying its tuple state each
time; over 10M events that is most of a funnel's time. The ordered funnel needs no general state machine: with
P[k] the latest entry that reached step k and s(i) = P[k-1]'s start just before event i, the fold moves an entry
to step k at event i exactly when

    i satisfies step k, s(i) > 0, ts(i) − s(i) ≤ window, and no earlier event satisfying step k had the same s

(starts only grow, so an earlier step-k event with the same s either moved that entry already or was outside the
window, as i is then too). s(i) is the start carried by the last event before i that moved an entry to step k-1
— a forward fill (`arrayFill`, then `arrayShiftRight`) — so each step is a handful of vectorised array passes
(no lookups by position inside lambdas: a lambda reading an outer array copies it once per element). The furthest
step is the highest k with a move; the reported path (the fold's "first path to reach the furthest step") is
the first move there and, for each earlier step, the one move of that entry (its start identifies it: at most
one move per step has a given start). An exclusion event blocking step k drops the actor when s(i) is set and
within the window and P[k]'s start just before i (the same fill over the moves to step k) is not s(i) — counted
up to the event that completed the funnel, where the fold stops.

Events are one Int64 each: `ts << width | code`, code = the step bits reversed and inverted (step k is bit
width-1-k, set to 0), then the exclusion bits, so a plain `arraySort` orders by time and, at one moment, earlier
steps first and exclusions last — the fold's rank order (made total). width ≤ `MAX_BITS` (n steps, n-1 more with
exclusions): 19 steps, 10 with exclusions; longer funnels and strict ones fold.

Person actors: the events are grouped by `distinct_id` first and the (far fewer) per-distinct-id arrays joined to
`person_distinct_ids` and merged per person — one hash pass over the events instead of a join and a group by.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_BITS = 19  # bits under the timestamp: epoch ms keeps 44, enough for DateTime64's last year (2299)


def _width(spec: Any) -> int:
    """Bits under the timestamp: n step bits, then (with exclusions) n-1 bits for "blocks the move to step k"."""
    n = len(spec.steps)
    return 2 * n - 1 if spec.exclusions else n


def applies(spec: Any, group_extras: Sequence[str] = ()) -> bool:
    """Ordered, the bits fit, and every carried extra is a grouping key."""
    extras = {alias for alias, _ in spec.extras}
    return spec.order == "ordered" and _width(spec) <= MAX_BITS and extras <= set(group_extras)


def _step_position(spec: Any, k: int) -> int:
    return _width(spec) - 1 - k


def _exclusion_position(k: int) -> int:
    return k - 1  # k ≥ 1: the lowest bits


def packed_key(spec: Any) -> str:
    """The event as one sortable Int64: epoch ms, then the step bits reversed and inverted (at one moment the
    earliest step first), then the exclusion bits (at one moment, of events with the same steps, those marked
    as exclusions last; exclusion-only events after every step event)."""
    width = _width(spec)
    steps = [f"if({condition}, {1 << _step_position(spec, k)}, 0)" for k, condition in enumerate(spec.steps)]
    code = f"{(1 << width) - (1 << (width - len(spec.steps)))} - {_or(steps)}"
    exclusions = []
    for exclusion in spec.exclusions:
        bits = sum(1 << _exclusion_position(k) for k in range(exclusion.from_step + 1, exclusion.to_step + 1))
        exclusions.append(f"if({exclusion.condition}, {bits}, 0)")
    if exclusions:
        code = _or([f"({code})", *exclusions])
    return f"bitOr(bitShiftLeft(toUnixTimestamp64Milli(timestamp), {width}), {code})"


def _or(items: Sequence[str]) -> str:
    """Nested two-argument bitOrs (one exclusion's bits may overlap another's)."""
    text = items[0]
    for item in items[1:]:
        text = f"bitOr({text}, {item})"
    return text


def _is_step(spec: Any, k: int) -> str:
    return f"bitAnd(x, {1 << _step_position(spec, k)}) = 0"


def _is_exclusion(k: int) -> str:
    return f"bitAnd(x, {1 << _exclusion_position(k)}) != 0"


def _before(array: str) -> str:
    """Each position's value at the position before (0 first)."""
    return f"arrayShiftRight({array}, 1)"


def _latest(moved: str, values: str) -> str:
    """Per position, `values` at the last position before it whose event moved an entry (0: none yet)."""
    return _before(f"arrayFill(x -> x > 0, arrayMap((m, v) -> if(m, v, 0), {moved}, {values}))")


def _layer(carried: Sequence[str], columns: Sequence[str], source: str) -> str:
    return f"SELECT {', '.join([*carried, *columns])} FROM ({source})"


def _blocked(spec: Any) -> list[int]:
    """The steps k some exclusion blocks the move to."""
    return sorted({k for e in spec.exclusions for k in range(e.from_step + 1, e.to_step + 1)})


def path_rows(spec: Any, source: str, keys: Sequence[str]) -> str:
    """`SELECT <keys>, path` over `source` (`keys` and the sorted packed `evs`): the winning path's timestamps
    (ms), empty when the actor never entered or was excluded. One subquery per step: ClickHouse expands an alias
    wherever it is used, so a step reading the previous step's aliases would double the query tree each step."""
    n, window, width, blocked = len(spec.steps), spec.window_ms, _width(spec), _blocked(spec)
    columns = [f"arrayMap(x -> bitShiftRight(x, {width}), evs) AS m_ts"]
    columns += [f"arrayMap(x -> {_is_step(spec, k)}, evs) AS m_b{k}" for k in range(n)]
    columns.append("arrayFirstIndex(x -> x, m_b0) AS m_first0")
    text = _layer([*keys, *(["evs"] if blocked else [])], columns, source)
    carried = [*keys, *(["evs"] if blocked else []), "m_ts", *(f"m_b{k}" for k in range(n)), "m_first0"]
    moved, start = "m_b0", "m_ts"  # the events that moved an entry to step k-1, and that entry's start
    for k in range(1, n):
        previous = _before(f"arrayFill((v, b) -> b, m_s{k}, m_b{k})")  # s of the previous step-k event
        columns = [
            f"{_latest(moved, start)} AS m_s{k}",  # the start of P[k-1] just before each event
            f"arrayMap((b, s, t, p) -> b AND s > 0 AND t - s <= {window} AND p != s, m_b{k}, m_s{k}, m_ts, "
            f"{previous}) AS m_mv{k}",
            f"arrayFirstIndex(x -> x, m_mv{k}) AS m_first{k}",
        ]
        if k in blocked:  # the first exclusion event while P[k-1] is in its window and has not moved on
            columns.append(
                f"arrayFirstIndex((x, s, t, p) -> {_is_exclusion(k)} AND s > 0 AND t - s <= {window}"
                f" AND p != s, evs, m_s{k}, m_ts, {_latest(f'm_mv{k}', f'm_s{k}')}) AS m_x{k}"
            )
        text = _layer(carried, columns, text)
        carried += [f"m_s{k}", f"m_mv{k}", f"m_first{k}", *([f"m_x{k}"] if k in blocked else [])]
        moved, start = f"m_mv{k}", f"m_s{k}"
    # the winning path: the first move to the furthest step, its entry's start, and in between the one move of
    # that entry to each step (at most one move per step has a given start)
    level = f"({' + '.join(f'(m_first{k} > 0)' for k in range(n))})"
    starts = ", ".join(f"m_level = {k + 1}, arrayElement({f'm_s{k}' if k else 'm_ts'}, m_first{k})" for k in range(n))
    text = _layer(carried, [f"{level} AS m_level", f"multiIf({starts}, 0) AS m_start"], text)
    times = ["m_start"]
    for j in range(1, n):
        via = f"arrayFirstIndex((m, s) -> m AND s = m_start, m_mv{j}, m_s{j})" if j < n - 1 else "0"
        times.append(f"arrayElement(m_ts, if(m_level = {j + 1}, m_first{j}, {via}))")
    path = f"arraySlice([{', '.join(times)}], 1, m_level)"
    if blocked:  # an exclusion counts up to the event that completed the funnel (the fold stops there)
        done = f"m_first{n - 1}"
        excluded = " OR ".join(f"(m_x{k} > 0 AND ({done} = 0 OR m_x{k} <= {done}))" for k in blocked)
        path = f"if({excluded}, emptyArrayInt64(), {path})"
    return _layer(keys, [f"{path} AS path"], text)


def _event_filter(spec: Any) -> str:
    table = f"events SAMPLE {spec.sample}" if spec.sample else "events"
    conditions = " OR ".join(f"({c})" for c in [*spec.steps, *(e.condition for e in spec.exclusions)])
    return f"FROM {table} WHERE {spec.where} AND ({conditions})"


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
        f"SELECT pdi.person_id AS aggregation_target{carried}, arraySort(groupArrayArray(d.keys)) AS evs "
        f"FROM ({per_id}) AS d INNER JOIN person_distinct_ids AS pdi ON d.distinct_id = pdi.distinct_id "
        f"GROUP BY {', '.join(['aggregation_target', *group_extras])}"
    )


def actor_rows(spec: Any, group_extras: Sequence[str] = ()) -> str:
    """`SELECT aggregation_target, <group extras>, path`, as `funnels_engine.actor_rows` answers it."""
    return path_rows(spec, actor_events(spec, group_extras), ["aggregation_target", *group_extras])
