"""Annotations under /api/projects/:id/annotations/ (reference §3). Visible: the project's own and the
organization-scoped ones of any project of the same organization (never another organization's); hidden while
their insight or dashboard is soft-deleted. Newest `date_marker` first, 1000 per page by default. No hard
delete: DELETE is 405, `PATCH {"deleted": true}` soft-deletes, `{"deleted": false}` restores."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import F, Q, QuerySet
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.models import Annotation
from annotations.serializers import AnnotationInputSerializer, AnnotationListQuerySerializer, AnnotationSerializer
from annotations.services import annotation_create, annotation_update
from posthog_clone.api.base import NoHardDeleteMixin, TeamScopedViewSet
from posthog_clone.api.pagination import DefaultPagination
from posthog_clone.api.validation import validated_request


class AnnotationPagination(DefaultPagination):
    default_limit = 1000


def _restoring(request: Request) -> bool:
    return isinstance(request.data, dict) and request.data.get("deleted") in (False, "false", "False")


class AnnotationViewSet(NoHardDeleteMixin, TeamScopedViewSet):
    scope_object = "annotation"
    openapi_tag = "Annotations"
    queryset = Annotation.objects.all()
    serializer_class = AnnotationSerializer
    pagination_class = AnnotationPagination
    # The base filters `<team_field> = project`: through the organization, every annotation of the project's
    # organization; scope_queryset keeps the project's own and the organization-scoped ones.
    team_field: ClassVar[str] = "organization__teams"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.filter(Q(team=self.team) | Q(scope=Annotation.Scope.ORGANIZATION))
        queryset = queryset.exclude(dashboard_item__deleted=True).exclude(dashboard__deleted=True)
        queryset = queryset.select_related("created_by", "dashboard", "dashboard_item")
        if self.action in ("partial_update", "update") and _restoring(self.request):
            return queryset
        return queryset.filter(deleted=False)

    def get_object(self) -> Annotation:
        if not str(self.kwargs.get("pk", "")).isdigit():
            raise exceptions.NotFound()
        return super().get_object()

    @validated_request(
        query=AnnotationListQuerySerializer,
        responses={200: AnnotationSerializer(many=True)},
        summary="List annotations",
        description="The project's annotations and its organization's organization-scoped ones, newest "
        "`date_marker` first (1000 per page by default); `search` (content), `scope`, `date_from`/`date_to`.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        rows = self.get_queryset()
        if query.get("search"):
            rows = rows.filter(content__icontains=query["search"])
        if query.get("scope"):
            rows = rows.filter(scope=query["scope"])
        if query.get("date_from"):
            rows = rows.filter(date_marker__gte=query["date_from"])
        if query.get("date_to"):
            rows = rows.filter(date_marker__lte=query["date_to"])
        rows = rows.order_by(F("date_marker").desc(nulls_last=True), "-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AnnotationSerializer(page, many=True).data)

    @validated_request(
        request=AnnotationInputSerializer, responses={201: AnnotationSerializer}, summary="Create an annotation"
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        annotation = annotation_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(AnnotationSerializer(annotation).data, status=status.HTTP_201_CREATED)

    @validated_request(responses={200: AnnotationSerializer}, summary="Retrieve an annotation")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(AnnotationSerializer(self.get_object()).data)

    def _update(self, request: Request) -> Response:
        annotation = annotation_update(annotation=self.get_object(), team=self.team, data=request.validated_data)
        return Response(AnnotationSerializer(annotation).data)

    @validated_request(
        request=AnnotationInputSerializer, responses={200: AnnotationSerializer}, summary="Update an annotation"
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request)

    @validated_request(
        request=AnnotationInputSerializer,
        responses={200: AnnotationSerializer},
        summary="Partially update an annotation",
        description='`{"deleted": true}` soft-deletes; `{"deleted": false}` restores.',
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request)
