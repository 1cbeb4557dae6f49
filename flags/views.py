"""Feature flag CRUD under /api/projects/:id/feature_flags/ and the project-scoped local evaluation."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from flags.models import FeatureFlag
from flags.selectors import local_evaluation_payload
from flags.serializers import (
    FeatureFlagInputSerializer,
    FeatureFlagListQuerySerializer,
    FeatureFlagPatchSerializer,
    FeatureFlagSerializer,
    LocalEvaluationQuerySerializer,
    LocalEvaluationSerializer,
)
from flags.services import feature_flag_create, feature_flag_delete, feature_flag_update
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.throttling import LocalEvaluationThrottle
from posthog_clone.api.validation import validated_request


class FeatureFlagViewSet(TeamScopedViewSet):
    scope_object = "feature_flag"
    scope_object_read_actions = ("local_evaluation",)
    openapi_tag = "Feature flags"
    queryset = FeatureFlag.objects.filter(deleted=False)
    serializer_class = FeatureFlagSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("created_by").order_by("-created_at", "-id")

    def get_throttles(self) -> list[BaseThrottle]:
        if self.action == "local_evaluation":
            return [LocalEvaluationThrottle()]
        return super().get_throttles()

    @validated_request(
        query=FeatureFlagListQuerySerializer,
        responses={200: FeatureFlagSerializer(many=True)},
        summary="List feature flags",
        description="Non-deleted flags of the project, newest first; `search` matches key or name.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        flags = self.get_queryset()
        query = request.validated_query
        if query.get("search"):
            flags = flags.filter(Q(key__icontains=query["search"]) | Q(name__icontains=query["search"]))
        if query.get("active") in ("true", "false"):
            flags = flags.filter(active=query["active"] == "true")
        page = self.paginate_queryset(flags)
        return self.get_paginated_response(FeatureFlagSerializer(page, many=True).data)

    @validated_request(
        request=FeatureFlagInputSerializer,
        responses={201: FeatureFlagSerializer},
        summary="Create a feature flag",
        description="Key must be unique among the project's non-deleted flags.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        flag = feature_flag_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(FeatureFlagSerializer(flag).data, status=status.HTTP_201_CREATED)

    @validated_request(responses={200: FeatureFlagSerializer}, summary="Retrieve a feature flag")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(FeatureFlagSerializer(self.get_object()).data)

    @validated_request(
        request=FeatureFlagInputSerializer,
        responses={200: FeatureFlagSerializer},
        summary="Update a feature flag",
        description="Replaces the given fields and bumps `version`.",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        flag = feature_flag_update(flag=self.get_object(), data=request.validated_data)
        return Response(FeatureFlagSerializer(flag).data)

    @validated_request(
        request=FeatureFlagPatchSerializer,
        responses={200: FeatureFlagSerializer},
        summary="Partially update a feature flag",
        description="Only the given fields change; `deleted: true` soft-deletes. Bumps `version`.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = {k: v for k, v in request.validated_data.items() if not (k == "filters" and v is None)}
        flag = feature_flag_update(flag=self.get_object(), data=data)
        return Response(FeatureFlagSerializer(flag).data)

    @validated_request(responses={204: None}, summary="Delete a feature flag", description="Soft delete.")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        feature_flag_delete(flag=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @validated_request(
        query=LocalEvaluationQuerySerializer,
        responses={200: LocalEvaluationSerializer},
        summary="Flag definitions for local evaluation",
        description="What server SDKs poll to evaluate flags in-process: flags, group type mapping, cohorts.",
    )
    @action(detail=False, methods=["get"], url_path="local_evaluation")
    def local_evaluation(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(
            local_evaluation_payload(team_id=self.team.pk, send_cohorts="send_cohorts" in request.query_params)
        )
