"""The ordered and strict funnel matching as one `arrayFold` over scalars (no arrays in the state): the fast form
of `query.kinds.funnels_engine`'s array fold, with the same semantics, for funnels of up to `MAX_STEPS` steps.

Each event carries `mask`: bit k (k < n) = it satisfies step k; bit n + k = an exclusion blocking the move to
step k. The state is a tuple of Int64s: `P[k][j]` (j ≤ k), the timestamps of the latest entry that reached step k
(0 = none); `B[j]`, the best path; its length; the excluded flag. Every new `P[k]` reads only the old `P[k-1]`,
so an event's steps apply at once (the last first, as the array engine tries them): an event advances at most
one step of one entry.
"""

from __future__ import annotations

from typing import Any

MAX_STEPS = 31  # steps and exclusion bits share one Int64 mask


def _t(expr: str, index: int) -> str:
    return f"tupleElement({expr}, {index})"


def _bit(mask: str, bit: int) -> str:
    return f"bitAnd({mask}, {1 << bit}) != 0"


class _Layout:
    """Tuple positions (1-based) of P[k][j], B[j], the best length and the excluded flag."""

    def __init__(self, n: int):
        self.n = n
        self.p: dict[tuple[int, int], int] = {}
        for k in range(n):
            for j in range(k + 1):
                self.p[(k, j)] = len(self.p) + 1
        self.b = {j: len(self.p) + 1 + j for j in range(n)}
        self.length = len(self.p) + n + 1
        self.excluded = self.length + 1

    def init(self) -> str:
        return "tuple(" + ", ".join(["toInt64(0)"] * (self.length)) + ", toUInt8(0))"


def fold_path(spec: Any, events: str) -> str:
    """The winning path (`arraySlice` of B to its length; empty when excluded) over `events` (ts, mask, …)."""
    n, window, strict = len(spec.steps), spec.window_ms, spec.order == "strict"
    lay = _Layout(n)
    ts, mask = "tupleElement(ev, 1)", "tupleElement(ev, 2)"

    def p(k: int, j: int) -> str:
        return _t("st", lay.p[(k, j)])

    def movable(k: int, bit: int) -> str:
        """The event may move the latest entry at step k-1 on to step k (bit: which bit asks for it)."""
        fresh = f"{p(k, 0)} != {p(k - 1, 0)}"
        return f"({_bit(mask, bit)} AND {p(k - 1, 0)} > 0 AND {ts} - {p(k - 1, 0)} <= {window} AND {fresh})"

    def moved(k: int) -> str:
        return _bit(mask, 0) if k == 0 else movable(k, k)

    def new_p(k: int, j: int) -> str:
        source = ts if j == k else p(k - 1, j)
        return f"if({moved(k)}, {source}, {0 if strict else p(k, j)})"  # strict: what does not move resets

    length = _t("st", lay.length)
    furthest = length
    for k in range(n):  # HogQL's greatest takes two arguments
        furthest = f"greatest({furthest}, if({new_p(k, 0)} > 0, {k + 1}, 0))"
    items = [new_p(k, j) for k in range(n) for j in range(k + 1)]
    for j in range(n):
        better = [f"{furthest} = {level} AND {level} > {length}, {new_p(level - 1, j)}" for level in range(n, j, -1)]
        items.append(f"multiIf({', '.join(better)}, {_t('st', lay.b[j])})")
    items.append(furthest)
    excluded = [movable(k, n + k) for k in range(1, n) if any(e.from_step < k <= e.to_step for e in spec.exclusions)]
    items.append(
        f"if({' OR '.join(excluded)}, toUInt8(1), {_t('st', lay.excluded)})" if excluded else _t("st", lay.excluded)
    )
    step = f"(st, ev) -> if({length} = {n} OR {_t('st', lay.excluded)} = 1, st, tuple({', '.join(items)}))"
    best = "[" + ", ".join(_t("s", lay.b[j]) for j in range(n)) + "]"
    state = f"arrayFold({step}, {events}, {lay.init()})"
    chosen = f"if({_t('s', lay.excluded)} = 1, emptyArrayInt64(), arraySlice({best}, 1, {_t('s', lay.length)}))"
    return f"arrayElement(arrayMap(s -> {chosen}, [{state}]), 1)"


def mask_expr(spec: Any) -> str:
    """The event's mask: step bits, then exclusion bits."""
    n = len(spec.steps)
    items = [f"if({condition}, {1 << k}, 0)" for k, condition in enumerate(spec.steps)]
    for exclusion in spec.exclusions:
        bits = sum(1 << (n + k) for k in range(exclusion.from_step + 1, exclusion.to_step + 1))
        items.append(f"if({exclusion.condition}, {bits}, 0)")
    mask = items[0]
    for item in items[1:]:  # bitOr: two exclusions may block the same step (a sum would carry into the next bit)
        mask = f"bitOr({mask}, {item})"
    return f"toInt64({mask})"


def mask_rank(spec: Any) -> str:
    """The sort rank of an event at one moment: its first step (earlier steps first), exclusions last."""
    n = len(spec.steps)
    branches = ", ".join(f"{_bit('tupleElement(e, 2)', k)}, {k}" for k in range(n))
    return f"multiIf({branches}, tupleElement(e, 2) != 0, 500, 1000)"
