"""Reads of actions."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet

from actions.models import Action


def live_actions(*, team_id: int) -> QuerySet[Action]:
    """Non-deleted actions of a project in PostHog's list order: most recently calculated first, then name."""
    return (
        Action.objects.filter(team_id=team_id, deleted=False)
        .select_related("created_by")
        .order_by(F("last_calculated_at").desc(nulls_last=True), "name", "id")
    )


def action_for_query(team_id: int, ref: int | str) -> dict[str, Any] | list[dict[str, Any]] | None:
    """What a query naming an action needs: `{"id", "name", "steps"}` for an id (a live action of this project),
    or the list of live actions of that name for a name (the caller reports none or several). None: no such id."""
    if isinstance(ref, int):
        action = Action.objects.filter(team_id=team_id, deleted=False, pk=ref).first()
        return None if action is None else _for_query(action)
    return [_for_query(a) for a in Action.objects.filter(team_id=team_id, deleted=False, name=ref).order_by("id")]


def _for_query(action: Action) -> dict[str, Any]:
    return {"id": action.pk, "name": action.name, "steps": list(action.steps_json or [])}
