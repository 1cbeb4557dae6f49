"""The project's activity log at /api/projects/:id/activity_log/ (who changed which definition, when, how)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from definitions.models import ActivityLog
from definitions.serializers.activity_log import (
    ActivityLogPageSerializer,
    ActivityLogQuerySerializer,
    ActivityLogSerializer,
)
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.validation import validated_request


class ActivityLogPagination(CursorPagination):
    page_size = 100
    ordering = ("-created_at", "-id")


class ActivityLogViewSet(TeamScopedViewSet):
    scope_object = "activity_log"
    openapi_tag = "Activity log"
    queryset = ActivityLog.objects.all()
    serializer_class = ActivityLogSerializer
    pagination_class = ActivityLogPagination

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("user")

    @validated_request(
        query=ActivityLogQuerySerializer,
        responses={200: ActivityLogPageSerializer},
        summary="List activity log entries",
        description="Creates, changes and deletes of definitions, groups and schemas, newest first (cursor pages).",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = self.get_queryset()
        query = request.validated_query
        for field in ("scope", "item_id"):
            if query.get(field):
                rows = rows.filter(**{field: query[field]})
        if query.get("user") is not None:
            rows = rows.filter(user_id=query["user"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ActivityLogSerializer(page, many=True).data)
