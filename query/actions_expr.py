"""An action's steps → the HogQL condition "this event matches the action" (PostHog's `action_to_expr`).

An event matches when it matches any step; no steps match every event. Within a step every present key must
hold: `event` (exact name), `url` on `$current_url` (`exact`, `regex`, else a case-sensitive LIKE
`%url%` whose `%`/`_` stay wildcards), `properties` (the shared property-filter language), and — only when
the step's event is `$autocapture` — `selector`, `tag_name`, `text` and `href` on `elements_chain` (the
element property filters of `query.properties`; each may hold on a different element of the chain).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from query import clock
from query.hogql.ast import call
from query.properties import PropertyFilterError, property_filters_to_expr

AUTOCAPTURE = "$autocapture"
MATCHING = ("contains", "regex", "exact")
_ELEMENT_OPERATORS = {None: "exact", "": "exact", "exact": "exact", "contains": "icontains", "regex": "regex"}


def _current_url() -> exp.Expression:
    return exp.Bracket(this=exp.column("properties"), expressions=[exp.Literal.string("$current_url")])


def _url_condition(url: str, matching: str | None) -> exp.Expression:
    if matching == "exact":
        condition: exp.Expression = exp.EQ(this=_current_url(), expression=exp.Literal.string(url))
    elif matching == "regex":
        condition = call("match", _current_url(), exp.Literal.string(url))
    else:
        condition = exp.Like(this=_current_url(), expression=exp.Literal.string(f"%{url}%"))
    return call("ifNull", condition, exp.false())


def step_filters(step: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The element keys of an `$autocapture` step as element property filters."""
    if step.get("event") != AUTOCAPTURE:
        return []
    filters = []
    for key in ("selector", "tag_name"):
        if step.get(key):
            filters.append({"type": "element", "key": key, "value": step[key], "operator": "exact"})
    for key in ("text", "href"):
        if step.get(key) not in (None, ""):
            operator = _ELEMENT_OPERATORS.get(step.get(f"{key}_matching"), "exact")
            filters.append({"type": "element", "key": key, "value": step[key], "operator": operator})
    return filters


def step_to_expr(
    step: Mapping[str, Any], *, property_types: Mapping[tuple[int, str], str], timezone: str, now: dt.datetime
) -> exp.Expression:
    conditions: list[exp.Expression] = []
    if step.get("event"):
        conditions.append(exp.EQ(this=exp.column("event"), expression=exp.Literal.string(step["event"])))
    if step.get("url"):
        conditions.append(_url_condition(step["url"], step.get("url_matching")))
    filters = [*step_filters(step), *(step.get("properties") or [])]
    if filters:
        conditions.append(
            property_filters_to_expr(filters, scope="event", property_types=property_types, timezone=timezone, now=now)
        )
    if not conditions:
        return exp.true()
    return conditions[0] if len(conditions) == 1 else exp.and_(*conditions)


def action_to_expr(
    steps: Sequence[Mapping[str, Any]],
    *,
    property_types: Mapping[tuple[int, str], str] | None = None,
    timezone: str = "UTC",
    now: dt.datetime | None = None,
) -> exp.Expression:
    """Raises PropertyFilterError (a 400) for a step that cannot be translated (bad selector, regex, filter)."""
    if not steps:
        return exp.true()
    now = now or clock.now()
    parts = []
    for i, step in enumerate(steps):
        try:
            parts.append(step_to_expr(step, property_types=property_types or {}, timezone=timezone, now=now))
        except PropertyFilterError as error:
            raise PropertyFilterError(f"Step {i + 1}: {error.message}", ("steps", i, *error.path)) from None
    return parts[0] if len(parts) == 1 else exp.or_(*(exp.paren(p) for p in parts))
