"""`TeamScopedViewSet`: the one base for project resources. It fails closed.

It owns resolving `project_id` (incl. `@current`) into `self.team`, the permission chain
(authenticated → key scopes → project membership) and queryset scoping. Subclasses never override
`get_queryset`; they set `queryset`, `scope_object`, and optionally `team_field` / `scope_queryset()`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from posthog_clone.accounts.models import OrganizationMembership, Team
from posthog_clone.accounts.selectors import team_with_membership
from posthog_clone.api.permissions import APIScopePermission

_SEALED = ("get_queryset", "check_permissions", "get_authenticators")


def resolve_team(request: Request, raw_id: str | None) -> Team:
    if raw_id == "@current":
        team = getattr(request.user, "current_team", None)
        if team is None:
            raise exceptions.NotFound("Project not found.")
        return team
    try:
        team_id = int(str(raw_id))
    except (TypeError, ValueError):
        raise exceptions.NotFound("Project not found.") from None
    team = team_with_membership(team_id, request.user.pk)
    if team is None:
        raise exceptions.NotFound("Project not found.")
    return team


def check_membership(request: Request, team: Team) -> None:
    """Refused unless the requester belongs to the team's organization (answered by `resolve_team`'s own query
    when it loaded the team: one query a request fewer)."""
    member = getattr(team, "_member", None)
    if member is None:
        member = OrganizationMembership.objects.filter(
            organization_id=team.organization_id, user_id=request.user.pk
        ).exists()
    if not member:
        raise exceptions.PermissionDenied("You don't have access to the project.")


class TeamScopedViewSet(viewsets.GenericViewSet):
    scope_object: ClassVar[str] = ""
    scope_object_read_actions: ClassVar[tuple[str, ...]] = ()
    scope_object_write_actions: ClassVar[tuple[str, ...]] = ()
    team_field: ClassVar[str] = "team"
    team_url_kwarg: ClassVar[str] = "project_id"
    team_optional_actions: ClassVar[frozenset[str]] = frozenset()
    team: Team

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _SEALED:
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} must not override {name}; use scope_queryset() instead")

    def check_permissions(self, request: Request) -> None:
        if not (request.user and request.user.is_authenticated):
            self.permission_denied(request)
        if self.action not in self.team_optional_actions:
            self.team = resolve_team(request, self.kwargs.get(self.team_url_kwarg))
        APIScopePermission().has_permission(request, self)
        if self.action not in self.team_optional_actions:
            check_membership(request, self.team)

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()  # type: ignore[union-attr]
        queryset = self.queryset.all().filter(**{self.team_field: self.team})  # type: ignore[union-attr]
        return self.scope_queryset(queryset)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        """Narrow further (filters, select_related). The team filter is already applied."""
        return queryset

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if hasattr(self, "team"):
            context["team"] = self.team
        return context


class NoHardDeleteMixin:
    """PostHog's rule for insights, dashboards, annotations, actions and cohorts: `DELETE` answers 405 with an
    empty body (after the usual lookup, so another project's id is still a 404); deletion is
    `PATCH {"deleted": true}`. Put it before `TeamScopedViewSet` in the bases."""

    @extend_schema(exclude=True)  # not an operation
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.get_object()  # type: ignore[attr-defined]
        return Response(status=status.HTTP_405_METHOD_NOT_ALLOWED)
