"""Named definitions queries reference — actions and cohorts — looked up through the app that owns them
(`posthog_clone.registry.query_reference`), so the query app imports none of them. Lookups are per project:
another project's definition is not found.

`find_action(team_id, ref)` → `{"id", "name", "steps"}` and `find_cohort(team_id, ref)` → `{"id", "name",
"is_static", "version"}` (an id, or a unique name) or a 400 with PostHog's wording; `expand_reference` is what
the HogQL compiler calls for `matchesAction(…)` and `IN COHORT …`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlglot import exp

from posthog_clone import registry
from query.actions_expr import action_to_expr
from query.hogql.ast import HogQLContext, and_, column, equals
from query.hogql.errors import HogQLQueryError
from query.properties import PropertyFilterError


def find_action(team_id: int, ref: int | str) -> dict[str, Any]:
    lookup = registry.reference_lookup("action")
    if lookup is None:
        raise HogQLQueryError("Actions are not available in this installation")
    found = lookup(team_id, ref)
    if isinstance(ref, int):
        if found is None:
            # PostHog's own wording for a missing action id (it says "cohort"), kept for compatibility
            raise HogQLQueryError(f"Could not find cohort with ID {ref}")
        return found
    if not found:
        raise HogQLQueryError(f"Could not find an action with the name '{ref}'")
    if len(found) > 1:
        raise HogQLQueryError(f"Found multiple actions with name '{ref}'")
    return found[0]


MAX_ID = 2**63 - 1  # larger ids name nothing (and would overflow the database's integer)


def find_cohort(team_id: int, ref: int | str) -> dict[str, Any]:
    lookup = registry.reference_lookup("cohort")
    if lookup is None:
        raise HogQLQueryError("Cohorts are not available in this installation")
    if isinstance(ref, int):
        found = lookup(team_id, ref) if 0 < ref <= MAX_ID else None
        if found is None:
            raise HogQLQueryError(f"Could not find cohort with ID {ref}")
        return found
    found = lookup(team_id, ref)
    if not found:
        raise HogQLQueryError(f"Could not find a cohort with the name '{ref}'")
    if len(found) > 1:
        raise HogQLQueryError(f"Found multiple cohorts with name '{ref}'")
    return found[0]


def cohort_members(cohort: dict[str, Any]) -> exp.Select:
    """HogQL selecting the person ids of a cohort: a static cohort's current members (`static_cohort_people`
    keeps the newest row per person and drops removed ones); a dynamic cohort's rows of its current
    calculation `version` in `cohort_people` (never calculated: nobody)."""
    is_cohort = equals(column("cohort_id"), exp.Literal.number(cohort["id"]))
    if cohort["is_static"]:
        return exp.select("person_id").from_("static_cohort_people").where(is_cohort)
    version = cohort.get("version")
    current = exp.false() if version is None else equals(column("version"), exp.Literal.number(version))
    return exp.select("person_id").from_("cohort_people").where(and_(is_cohort, current))


def action_expr(
    action: dict[str, Any], *, property_types: Any, timezone: str, now: dt.datetime | None = None
) -> exp.Expression:
    try:
        return action_to_expr(action["steps"], property_types=property_types, timezone=timezone, now=now)
    except PropertyFilterError as error:
        raise HogQLQueryError(f"Action '{action['name']}' cannot be matched: {error.message}") from None


def expand_reference(kind: str, ref: Any, ctx: HogQLContext) -> exp.Expression:
    if kind == "action":
        action = find_action(ctx.team_id, ref)
        return action_expr(action, property_types=ctx.property_types, timezone=ctx.timezone)
    if kind == "cohort":
        return cohort_members(find_cohort(ctx.team_id, ref))
    raise HogQLQueryError(f"Unknown reference kind: {kind}")


_DROPS_MISSING = ("TrendsQuery", "StickinessQuery")
"""Kinds whose series of a deleted or unknown action are left out (as PostHog); elsewhere it is a 400."""


def resolve_actions(team_id: int, node: Any) -> Any:
    """A copy of a query node in which every ActionsNode carries its action (`{"id", "name", "steps"}`), looked
    up once per id. The kinds read `series["action"]`; another project's action is not found."""
    found: dict[int, dict[str, Any] | None] = {}

    def lookup(action_id: int) -> dict[str, Any] | None:
        if action_id not in found:
            try:
                found[action_id] = find_action(team_id, action_id)
            except HogQLQueryError:
                found[action_id] = None
        return found[action_id]

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        out = {key: walk(item) for key, item in value.items()}
        if out.get("kind") == "ActionsNode" and isinstance(out.get("id"), int):
            out["action"] = lookup(out["id"])
        if out.get("kind") in _DROPS_MISSING and isinstance(out.get("series"), list):
            out["series"] = [s for s in out["series"] if not _missing(s)]
        return out

    resolved = walk(node)
    missing = sorted(action_id for action_id, action in found.items() if action is None)
    if missing and _any_missing(resolved):
        raise HogQLQueryError(f"Action {missing[0]} does not exist")
    return resolved


def _missing(node: Any) -> bool:
    return isinstance(node, dict) and node.get("kind") == "ActionsNode" and node.get("action") is None


def _any_missing(value: Any) -> bool:
    if isinstance(value, list):
        return any(_any_missing(item) for item in value)
    if isinstance(value, dict):
        return _missing(value) or any(_any_missing(item) for item in value.values())
    return False
