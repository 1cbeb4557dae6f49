"""Writes on actions: create, update (soft delete and restore included)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from actions.models import Action
from posthog_clone import definitions_version
from posthog_clone.accounts.models import Team, User
from query.actions_expr import action_to_expr
from query.properties import PropertyFilterError

_FIELDS = ("name", "description", "tags", "post_to_slack", "slack_message_format", "deleted")


def _check_name_free(*, team: Team, name: str | None, exclude: int | None = None) -> None:
    if not name:
        return
    clash = Action.objects.filter(team=team, deleted=False, name=name).exclude(pk=exclude).first()
    if clash is not None:
        message = f"This project already has an action with this name, ID {clash.pk}"
        raise serializers.ValidationError({"name": [serializers.ErrorDetail(message, code="unique")]})


def _clean_steps(steps: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{key: value for key, value in dict(step).items() if value is not None} for step in steps or []]


def _compile_error(steps: list[dict[str, Any]]) -> str | None:
    """Like PostHog's bytecode compile on save: a step that cannot be matched is recorded, not refused."""
    try:
        action_to_expr(steps)
    except PropertyFilterError as error:
        return error.message
    return None


def _apply(action: Action, data: dict[str, Any]) -> None:
    for field in _FIELDS:
        if field in data:
            setattr(action, field, data[field])
    if "steps" in data:
        action.steps_json = _clean_steps(data["steps"])
        action.bytecode_error = _compile_error(action.steps_json)
    if "pinned_at" in data:
        action.pinned_at = timezone.now() if data["pinned_at"] is not None else None


@transaction.atomic
def action_create(*, team: Team, user: User | None, data: dict[str, Any]) -> Action:
    _check_name_free(team=team, name=data.get("name"))
    action = Action(team=team, created_by=user)
    _apply(action, {"steps": [], **data})
    action.save()
    definitions_version.bump(team.pk)
    return action


@transaction.atomic
def action_update(*, action: Action, data: dict[str, Any]) -> Action:
    restoring_or_live = not data.get("deleted", action.deleted)
    if restoring_or_live:
        _check_name_free(team=action.team, name=data.get("name", action.name), exclude=action.pk)
    _apply(action, data)
    action.save()
    definitions_version.bump(action.team_id)
    return action
