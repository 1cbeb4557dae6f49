"""Named definitions queries reference — actions now, cohorts next — looked up through the app that owns
them (`posthog_clone.registry.query_reference`), so the query app imports none of them.

`find_action(team_id, ref)` → `{"id", "name", "steps"}` (an id, or a unique name) or a 400 with PostHog's
wording; `expand_reference` is what the HogQL compiler calls for `matchesAction(…)`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlglot import exp

from posthog_clone import registry
from query.actions_expr import action_to_expr
from query.hogql.ast import HogQLContext
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
    raise HogQLQueryError(f"Unknown reference kind: {kind}")
