"""Scope checks for personal API keys (PostHog's APIScopePermission), project membership checks."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, permissions
from rest_framework.request import Request

from posthog_clone.accounts.models import PersonalAPIKey
from posthog_clone.accounts.scopes import scope_satisfied

DEFAULT_READ_ACTIONS = frozenset({"list", "retrieve"})
DEFAULT_WRITE_ACTIONS = frozenset({"create", "update", "partial_update", "patch", "destroy"})
NO_KEY_ACCESS = "This action does not support Personal API Key access"


def required_scopes(view: Any, request: Request) -> list[str]:
    """The scopes an action needs: declared on the action, else derived from the viewset's scope_object."""
    action = getattr(view, "action", None)
    handler = getattr(view, action, None) if action else None
    declared = getattr(handler, "required_scopes", None)
    if declared:
        return list(declared)
    obj = getattr(view, "scope_object", None)
    if not obj or obj == "INTERNAL":
        return []
    read_actions = DEFAULT_READ_ACTIONS | set(getattr(view, "scope_object_read_actions", ()))
    write_actions = DEFAULT_WRITE_ACTIONS | set(getattr(view, "scope_object_write_actions", ()))
    if action in write_actions:
        return [f"{obj}:write"]
    if action in read_actions or request.method == "OPTIONS":
        return [f"{obj}:read"]
    return []


class APIScopePermission(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, PersonalAPIKey):
            return True  # session users are not scope-checked
        needed = required_scopes(view, request)
        if not needed:
            raise exceptions.PermissionDenied(NO_KEY_ACCESS)
        granted = key.scopes or []
        if not granted:
            return True  # legacy key without scopes: everything
        team = getattr(view, "team", None)
        if key.scoped_teams and getattr(view, "scope_object", None) != "user":
            if team is None and view.action in getattr(view, "team_optional_actions", ()):
                pass  # e.g. the projects list, which narrows itself to the key's projects
            elif team is None:
                raise exceptions.PermissionDenied(
                    "API keys with scoped projects are only supported on project-based endpoints."
                )
            elif team.pk not in key.scoped_teams:
                raise exceptions.PermissionDenied(
                    f"API key does not have access to the requested project: ID {team.pk}."
                )
        if key.scoped_organizations and team is not None and str(team.organization_id) not in key.scoped_organizations:
            raise exceptions.PermissionDenied(
                f"API key does not have access to the requested organization: ID {team.organization_id}."
            )
        for scope in needed:
            if not scope_satisfied(scope, granted):
                raise exceptions.PermissionDenied(f"API key missing required scope '{scope}'")
        return True
