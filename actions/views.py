"""Action CRUD under /api/projects/:id/actions/. No hard delete: DELETE is 405, `PATCH {"deleted": true}`
soft-deletes and `{"deleted": false}` restores, as PostHog."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from actions.models import Action
from actions.selectors import live_actions
from actions.serializers import (
    ActionInputSerializer,
    ActionListSerializer,
    ActionSerializer,
)
from actions.services import action_create, action_update
from posthog_clone.api.base import NoHardDeleteMixin, TeamScopedViewSet
from posthog_clone.api.renderers import CSVRenderer, json_errors
from posthog_clone.api.validation import validated_request


class ActionViewSet(NoHardDeleteMixin, TeamScopedViewSet):
    scope_object = "action"
    openapi_tag = "Actions"
    queryset = Action.objects.all()
    serializer_class = ActionSerializer
    pagination_class = None  # the list is `{"results": [...]}` without paging, as PostHog's

    def get_renderers(self) -> list[BaseRenderer]:
        renderers = super().get_renderers()
        return [*renderers, CSVRenderer()] if self.action == "list" else renderers

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        return super().finalize_response(request, json_errors(request, response), *args, **kwargs)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action == "partial_update" and self.request.data.get("deleted") is False:
            return queryset  # restoring: the soft-deleted row is reachable
        return queryset.filter(deleted=False)

    @validated_request(
        responses={200: ActionListSerializer},
        summary="List actions",
        description="Live actions, most recently calculated first, then by name; not paginated. "
        "`?format=csv` answers CSV.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"results": ActionSerializer(live_actions(team_id=self.team.pk), many=True).data})

    @validated_request(request=ActionInputSerializer, responses={201: ActionSerializer}, summary="Create an action")
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        action = action_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(ActionSerializer(action).data, status=status.HTTP_201_CREATED)

    @validated_request(responses={200: ActionSerializer}, summary="Retrieve an action")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(ActionSerializer(self.get_object()).data)

    @validated_request(request=ActionInputSerializer, responses={200: ActionSerializer}, summary="Update an action")
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        action = action_update(action=self.get_object(), data=request.validated_data)
        return Response(ActionSerializer(action).data)

    @validated_request(
        request=ActionInputSerializer,
        responses={200: ActionSerializer},
        summary="Partially update an action",
        description='`{"deleted": true}` soft-deletes; `{"deleted": false}` restores.',
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        action = action_update(action=self.get_object(), data=request.validated_data)
        return Response(ActionSerializer(action).data)
