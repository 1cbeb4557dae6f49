"""The root resources: /api/users/@me/ (whoami), /api/projects/ and /api/organizations/ (mounted by urls.py)."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import exceptions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from posthog_clone.accounts.models import Organization, PersonalAPIKey, Team
from posthog_clone.accounts.serializers import (
    MeSerializer,
    OrganizationSerializer,
    TeamSerializer,
    TeamUpdateSerializer,
)
from posthog_clone.accounts.services import update_team_settings
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.permissions import APIScopePermission
from posthog_clone.api.validation import validated_request


class UserViewSet(viewsets.GenericViewSet):
    scope_object = "user"
    openapi_tag = "Users"
    serializer_class = MeSerializer
    lookup_value_regex = "@me"

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        APIScopePermission().has_permission(request, self)

    @validated_request(
        responses={200: MeSerializer},
        summary="Retrieve the current user",
        description="Who am I: the user, its organization, current project (with its api_token) and the key's scopes.",
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        context = {
            "request": request,
            "user": request.user,
            "key": request.auth if isinstance(request.auth, PersonalAPIKey) else None,
        }
        return Response(MeSerializer(request.user, context=context).data)


class ProjectViewSet(TeamScopedViewSet):
    scope_object = "project"
    openapi_tag = "Projects"
    serializer_class = TeamSerializer
    queryset = Team.objects.all()
    team_url_kwarg = "pk"
    team_field = "pk"
    team_optional_actions: ClassVar[frozenset[str]] = frozenset({"list"})

    @validated_request(
        responses={200: TeamSerializer(many=True)},
        summary="List projects",
        description="Projects of the organizations the caller belongs to (narrowed by a key's scoped projects).",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        teams = Team.objects.filter(organization__memberships__user=request.user).order_by("id")
        key = request.auth
        if isinstance(key, PersonalAPIKey) and key.scoped_teams:
            teams = teams.filter(pk__in=key.scoped_teams)
        page = self.paginate_queryset(teams)
        return self.get_paginated_response(TeamSerializer(page, many=True).data)

    @validated_request(responses={200: TeamSerializer}, summary="Retrieve a project")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(TeamSerializer(self.team).data)

    @validated_request(
        request=TeamUpdateSerializer,
        responses={200: TeamSerializer},
        summary="Update a project's settings",
        description="Name, timezone, week start and test-account filters (what insights read), and the session "
        "replay settings remote config hands to posthog-js.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = update_team_settings(team=self.team, changes=request.validated_data)
        return Response(TeamSerializer(team).data)


class OrganizationViewSet(viewsets.GenericViewSet):
    scope_object = "organization"
    openapi_tag = "Organizations"
    serializer_class = OrganizationSerializer
    lookup_value_regex = "@current|[0-9a-f-]{36}"

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        APIScopePermission().has_permission(request, self)

    @validated_request(
        responses={200: OrganizationSerializer},
        summary="Retrieve an organization",
        description="`@current` is the caller's current organization.",
    )
    def retrieve(self, request: Request, *args: Any, pk: str = "", **kwargs: Any) -> Response:
        orgs = Organization.objects.filter(memberships__user=request.user)
        org = request.user.current_organization if pk == "@current" else orgs.filter(pk=pk).first()
        if org is None or not orgs.filter(pk=org.pk).exists():
            raise exceptions.NotFound()
        return Response(OrganizationSerializer(org, context={"user": request.user}).data)
