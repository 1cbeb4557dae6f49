"""Activity log writes: who created, changed or deleted which definition, group or schema, with per-field
before/after values."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from definitions.models import ActivityLog
from posthog_clone.accounts.models import Team, User


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def changes_between(*, scope: str, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """One `changed` entry per field whose value differs (fields absent from `after` are not compared)."""
    return [
        {
            "type": scope,
            "action": "changed",
            "field": field,
            "before": jsonable(before.get(field)),
            "after": jsonable(value),
        }
        for field, value in after.items()
        if jsonable(before.get(field)) != jsonable(value)
    ]


def activity_log_record(
    *,
    team: Team,
    user: User | None,
    scope: str,
    activity: str,
    item_id: Any,
    name: str | None,
    changes: list[dict[str, Any]] | None = None,
    type_label: str | None = None,
    context: dict[str, Any] | None = None,
    short_id: str | None = None,
) -> ActivityLog:
    detail = {
        "name": name,
        "short_id": short_id,
        "type": type_label,
        "changes": changes,
        "merge": None,
        "trigger": None,
        "context": context,
    }
    return ActivityLog.objects.create(
        team=team,
        organization_id=team.organization_id,
        user=user if user is not None and user.is_authenticated else None,
        is_system=user is None,
        activity=activity,
        item_id=str(item_id),
        scope=scope,
        detail=detail,
    )
