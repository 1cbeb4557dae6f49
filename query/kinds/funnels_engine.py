"""The funnel engine: per actor, how far it got and when, as HogQL array functions (no events pulled into Python).

The events of the range that match a step or an exclusion (strict funnels: all of the actor's events) become one
row each: `ts` (epoch milliseconds) and `steps`, the 0-based steps the event satisfies, with exclusion markers
`-k` (the event blocks the move to step k, k ≥ 1). Per actor they are gathered by timestamp (`groupArray`,
`arraySort`) and folded (`arrayFold`) into the state PostHog's funnel UDF keeps:

- `paths[k]`: the timestamps [t0 … tk] of the latest entry that reached step k (empty: none). A step-0 event
  opens a new entry; a step-k event extends `paths[k-1]` when it lies within the window of that entry's t0
  (inclusive) and step k has not been reached by the same entry yet. Steps of one event are tried from the
  last to the first, so an event advances at most one step of one entry.
- `best`: the path of the furthest step reached, the first time it was reached (its times are the ones
  reported); folding stops once the last step is reached.
- `excluded`: an exclusion marker `-k` met while the latest entry at step k-1 is inside its window and has not
  reached step k — the actor is dropped from the whole funnel.
- strict: after each event only the paths it moved survive (any other event resets partial progress).

Unordered funnels (the newer sliding window): for each event as the window start, the distinct steps with an
event inside `[t, t + window]`; the window with the most wins, its path being the first time of each step in it,
sorted. An exclusion event strictly inside the winning window drops the actor.

`actor_rows` answers `SELECT aggregation_target, <extras>, path` where `path` is the winning path (empty when
the actor is excluded or never entered); `length(path)` is the furthest step reached. Ordered funnels take
`query.kinds.funnels_arrays` there: the same answers with whole-array functions, several times faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from query.kinds import funnels_arrays
from query.kinds.funnels_fold import MAX_STEPS, fold_path, mask_expr, mask_rank

WINDOW_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 31 * 86400}
"""A funnel window unit in seconds (PostHog: a month is 31 days)."""
NO_STEP = -100


def _t(expr: str, index: int) -> str:
    return f"tupleElement({expr}, {index})"


def _at(array: str, index: str) -> str:
    return f"arrayElement({array}, {index})"


@dataclass(frozen=True)
class Exclusion:
    condition: str  # HogQL boolean over an event
    from_step: int
    to_step: int


@dataclass(frozen=True)
class FunnelSpec:
    """What the engine needs, as HogQL text: the step conditions, exclusions, the actor key and the event filter."""

    steps: Sequence[str]
    order: str  # ordered | strict | unordered
    window_ms: int
    actor: str
    where: str  # the date range, sampling-independent filters common to every event read
    exclusions: Sequence[Exclusion] = ()
    sample: float | None = None
    extras: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (alias, per-event HogQL) carried per event

    @property
    def uses_mask(self) -> bool:
        """Strict funnels, and ordered ones that do not take the array matching (`query.kinds.funnels_arrays`:
        attributed breakdowns, trends, too many steps), of up to MAX_STEPS steps run the scalar fold
        (`query.kinds.funnels_fold`)."""
        return self.order != "unordered" and len(self.steps) <= MAX_STEPS


def _markers(spec: FunnelSpec) -> str:
    """`[if(c0, 0, -100), …, if(x, -k, -100), …]` without the -100s: the steps and exclusion markers of an event."""
    items = [f"if({condition}, {i}, {NO_STEP})" for i, condition in enumerate(spec.steps)]
    for exclusion in spec.exclusions:
        for k in range(exclusion.from_step + 1, exclusion.to_step + 1):
            items.append(f"if({exclusion.condition}, {-k}, {NO_STEP})")
    return f"arrayFilter(x -> x != {NO_STEP}, [{', '.join(items)}])"


def event_rows(spec: FunnelSpec) -> str:
    """One row per event read: actor, ts (ms), steps (+ the extras)."""
    table = f"events SAMPLE {spec.sample}" if spec.sample else "events"
    conditions = [spec.where]
    if spec.order != "strict":  # strict funnels read all of the actor's events: any other one breaks a path
        anything = [*spec.steps, *(e.condition for e in spec.exclusions)]
        conditions.append("(" + " OR ".join(f"({c})" for c in anything) + ")")
    extras = "".join(f", {expr} AS {alias}" for alias, expr in spec.extras)
    marks = f"{mask_expr(spec)} AS mask" if spec.uses_mask else f"{_markers(spec)} AS steps"
    return (
        f"SELECT {spec.actor} AS aggregation_target, toUnixTimestamp64Milli(timestamp) AS ts, "
        f"{marks}{extras} FROM {table} WHERE {' AND '.join(conditions)}"
    )


def _apply_step(window_ms: int) -> str:
    """(acc = (paths, excluded), s) → acc after the event `ev` is tried as step s (or exclusion marker)."""
    paths, excluded, ts = _t("acc", 1), _t("acc", 2), _t("ev", 1)
    prev, cur = _at(paths, "abs(s)"), _at(paths, "abs(s) + 1")
    open_entry = f"tuple(arrayMap((p, i) -> if(i = 1, [{ts}], p), {paths}, arrayEnumerate({paths})), {excluded})"
    movable = (
        f"length({prev}) > 0 AND {ts} - {_at(prev, '1')} <= {window_ms} "
        f"AND (length({cur}) = 0 OR {_at(cur, '1')} != {_at(prev, '1')})"
    )
    advance = (
        f"tuple(arrayMap((p, i) -> if(i = s + 1, arrayPushBack({_at(paths, 's')}, {ts}), p), {paths}, "
        f"arrayEnumerate({paths})), {excluded})"
    )
    exclude = f"tuple({paths}, toUInt8(1))"
    return f"(acc, s) -> if(s = 0, {open_entry}, if({movable}, if(s > 0, {advance}, {exclude}), acc))"


def _ordered_state(spec: FunnelSpec, events: str) -> str:
    """The arrayFold over the actor's sorted events; its value is (paths, best, excluded)."""
    n = len(spec.steps)
    paths, best, excluded = _t("state", 1), _t("state", 2), _t("state", 3)
    tried = f"arrayFold({_apply_step(spec.window_ms)}, arrayReverseSort({_t('ev', 2)}), tuple({paths}, {excluded}))"
    moved = _t("x", 1)
    if spec.order == "strict":  # only what this event moved survives
        moved = f"arrayMap((np, op) -> if(np = op, emptyArrayInt64(), np), {_t('x', 1)}, {paths})"
    furthest = f"arrayMax(arrayMap(p -> length(p), {_t('x', 1)}))"
    new_best = f"if({furthest} > length({best}), {_at(_t('x', 1), furthest)}, {best})"
    step = (
        f"(state, ev) -> if(length({best}) = {n} OR {excluded} = 1, state, "
        f"arrayElement(arrayMap(x -> tuple({moved}, {new_best}, {_t('x', 2)}), [{tried}]), 1))"
    )
    init = f"tuple(arrayMap(i -> emptyArrayInt64(), range({n})), emptyArrayInt64(), toUInt8(0))"
    return f"arrayFold({step}, {events}, {init})"


def sorted_events(spec: FunnelSpec, *columns: str) -> str:
    """The actor's events (tuples of ts, steps or mask, and `columns`) by time; at one moment the earlier steps
    first (the order that gets furthest), exclusion markers last."""
    rank = "if(empty(tupleElement(e, 2)), 1000, arrayMin(arrayMap(s -> if(s < 0, 500, s), tupleElement(e, 2))))"
    if spec.uses_mask:
        rank = mask_rank(spec)
    items = ", ".join(["ts", "mask" if spec.uses_mask else "steps", *columns])
    return f"arraySort(e -> tuple(tupleElement(e, 1), {rank}), groupArray(tuple({items})))"


def _unordered_path(spec: FunnelSpec, events: str) -> str:
    """The winning window's path (empty when excluded)."""
    w = spec.window_ms
    start, ts = "tupleElement(s0, 1)", "tupleElement(e, 1)"
    window = f"arrayFilter(e -> {ts} >= {start} AND {ts} - {start} <= {w}, evs)"
    distinct = "arrayDistinct(arrayFilter(k -> k >= 0, arrayFlatten(arrayMap(e -> tupleElement(e, 2), win))))"
    path = f"arraySort(arrayMap(k -> tupleElement(arrayFirst(e -> has(tupleElement(e, 2), k), win), 1), {distinct}))"
    candidates = f"arrayMap(s0 -> arrayElement(arrayMap(win -> {path}, [{window}]), 1), evs)"
    best = "arrayElement(paths, indexOf(lens, arrayMax(lens)))"
    pick = f"arrayElement(arrayMap(lens -> {best}, [arrayMap(p -> length(p), paths)]), 1)"
    inside = (
        "arrayExists(e -> arrayExists(s -> s < 0, tupleElement(e, 2)) AND tupleElement(e, 1) > arrayElement(bp, 1)"
        " AND tupleElement(e, 1) < arrayElement(bp, -1), evs)"
    )
    guarded = f"if(length(bp) > 1 AND {inside}, emptyArrayInt64(), bp)" if spec.exclusions else "bp"
    chosen = f"arrayElement(arrayMap(paths -> arrayElement(arrayMap(bp -> {guarded}, [{pick}]), 1), [{candidates}]), 1)"
    return f"arrayElement(arrayMap(evs -> {chosen}, [{events}]), 1)"


def path_expr(spec: FunnelSpec, events: str | None = None) -> str:
    """The winning path (empty when excluded) over `events` (default: the actor's rows, `sorted_events(spec)`)."""
    events = events or sorted_events(spec)
    if spec.uses_mask:
        return fold_path(spec, events)
    if spec.order == "unordered":
        return _unordered_path(spec, events)
    state = _ordered_state(spec, events)
    return f"arrayElement(arrayMap(st -> if({_t('st', 3)} = 1, emptyArrayInt64(), {_t('st', 2)}), [{state}]), 1)"


def actor_rows(spec: FunnelSpec, group_extras: Sequence[str] = ()) -> str:
    """`SELECT aggregation_target[, extras], path FROM (event rows) GROUP BY aggregation_target[, extras]`
    (ordered funnels: `query.kinds.funnels_arrays`)."""
    if funnels_arrays.applies(spec, group_extras):
        return funnels_arrays.actor_rows(spec, group_extras)
    keys = ", ".join(["aggregation_target", *group_extras])
    return f"SELECT {keys}, {path_expr(spec)} AS path FROM ({event_rows(spec)}) GROUP BY {keys}"


def conversion_time(k: int) -> str:
    """Seconds from step k-1 to step k on an actor's path (k ≥ 1)."""
    return f"(arrayElement(path, {k + 1}) - arrayElement(path, {k})) / 1000"
