"""Event definitions under /api/projects/:id/event_definitions/: CRUD, metrics, by_name, codegen, bulk tags."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from definitions.codegen import codegen_generate
from definitions.models import EventDefinition
from definitions.selectors.event_definitions import (
    event_definition_by_name,
    event_definition_list,
    event_definition_metrics,
    event_definition_primary_properties,
    event_definitions_base,
)
from definitions.serializers.common import DetailSerializer
from definitions.serializers.event_definitions import (
    BulkUpdateTagsResultSerializer,
    BulkUpdateTagsSerializer,
    BulkUpdateVerifiedResultSerializer,
    BulkUpdateVerifiedSerializer,
    ByNameQuerySerializer,
    CodegenSerializer,
    EventDefinitionCreateSerializer,
    EventDefinitionListQuerySerializer,
    EventDefinitionSerializer,
    EventDefinitionUpdateSerializer,
    MetricsSerializer,
    PrimaryPropertiesQuerySerializer,
    PrimaryPropertiesSerializer,
)
from definitions.services.event_definitions import (
    event_definition_create,
    event_definition_delete,
    event_definition_update,
    event_definitions_bulk_tags,
    event_definitions_bulk_verified,
)
from definitions.views.common import UUIDLookupMixin
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.validation import validated_request

Out = EventDefinitionSerializer


def _fresh(definition: EventDefinition) -> dict[str, Any]:
    return Out(event_definitions_base(team=definition.team).get(pk=definition.pk)).data


class EventDefinitionViewSet(UUIDLookupMixin, TeamScopedViewSet):
    scope_object = "event_definition"
    scope_object_read_actions = ("by_name", "typescript", "golang", "python", "primary_properties")
    scope_object_write_actions = ("bulk_update_tags", "bulk_update_verified")
    openapi_tag = "Event definitions"
    queryset = EventDefinition.objects.all()
    serializer_class = EventDefinitionSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("owner", "updated_by", "verified_by", "team").prefetch_related(
            "tagged_items__tag"
        )

    @validated_request(
        query=EventDefinitionListQuerySerializer,
        responses={200: Out(many=True)},
        summary="List event definitions",
        description="Filtered by search/event_type/hidden/verified/names/tags; newest seen first, then by name.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = event_definition_list(team=self.team, filters=request.validated_query)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(Out(page, many=True).data)

    @validated_request(
        request=EventDefinitionCreateSerializer,
        responses={201: Out},
        summary="Create an event definition",
        description="`created_at` and `last_seen_at` stay null until a real event arrives.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        definition = event_definition_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(_fresh(definition), status=status.HTTP_201_CREATED)

    @validated_request(responses={200: Out}, summary="Retrieve an event definition")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(Out(self.get_object()).data)

    @validated_request(
        request=EventDefinitionUpdateSerializer,
        responses={200: Out},
        summary="Update an event definition",
        description="`name` is read-only. `verified` stamps who/when and unhides; `hidden` unverifies.",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        definition = event_definition_update(
            definition=self.get_object(), user=request.user, data=request.validated_data
        )
        return Response(_fresh(definition))

    @validated_request(
        request=EventDefinitionUpdateSerializer,
        responses={200: Out},
        summary="Partially update an event definition",
        description="Only the fields sent change.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    @validated_request(responses={204: None}, summary="Delete an event definition", description="Hard delete.")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event_definition_delete(definition=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @validated_request(
        responses={200: MetricsSerializer},
        summary="Usage of an event definition",
        description="Not available to personal API keys (PostHog declares no scope for it).",
    )
    @action(detail=True, methods=["get"], url_path="metrics")
    def metrics(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"query_usage_30_day": event_definition_metrics(definition=self.get_object())})

    @validated_request(
        query=ByNameQuerySerializer,
        responses={200: Out, 400: DetailSerializer, 404: DetailSerializer},
        summary="Retrieve an event definition by exact name",
    )
    @action(detail=False, methods=["get"], url_path="by_name")
    def by_name(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        name = request.validated_query.get("name")
        if not name:
            return Response({"detail": "Query parameter 'name' is required"}, status=400)
        definition = event_definition_by_name(team=self.team, name=name)
        if definition is None:
            return Response({"detail": f"Event definition with name '{name}' not found"}, status=404)
        return Response(Out(definition).data)

    @validated_request(
        query=PrimaryPropertiesQuerySerializer,
        responses={200: PrimaryPropertiesSerializer},
        summary="Primary properties of events",
    )
    @action(detail=False, methods=["get"], url_path="primary_properties")
    def primary_properties(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        names = [n for item in request.validated_query.get("names", []) for n in item.split(",") if n]
        return Response({"primary_properties": event_definition_primary_properties(team=self.team, names=names)})

    @validated_request(
        request=BulkUpdateTagsSerializer,
        responses={200: BulkUpdateTagsResultSerializer},
        summary="Add, remove or set tags on many event definitions",
    )
    @action(detail=False, methods=["post"], url_path="bulk_update_tags")
    def bulk_update_tags(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.validated_data
        result = event_definitions_bulk_tags(
            team=self.team, user=request.user, ids=data["ids"], action=data["action"], tags=data["tags"]
        )
        return Response(BulkUpdateTagsResultSerializer(result).data)

    @validated_request(
        request=BulkUpdateVerifiedSerializer,
        responses={200: BulkUpdateVerifiedResultSerializer},
        summary="Verify or unverify many event definitions",
    )
    @action(detail=False, methods=["post"], url_path="bulk_update_verified")
    def bulk_update_verified(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.validated_data
        result = event_definitions_bulk_verified(
            team=self.team, user=request.user, ids=data["ids"], verified=data["verified"]
        )
        return Response(BulkUpdateVerifiedResultSerializer(result).data)

    def _codegen(self, language: str) -> Response:
        return Response(codegen_generate(team=self.team, language=language))

    @validated_request(responses={200: CodegenSerializer}, summary="TypeScript types over posthog-js")
    @action(detail=False, methods=["get"], url_path="typescript")
    def typescript(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._codegen("typescript")

    @validated_request(responses={200: CodegenSerializer}, summary="Go capture builders over posthog-go")
    @action(detail=False, methods=["get"], url_path="golang")
    def golang(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._codegen("golang")

    @validated_request(responses={200: CodegenSerializer}, summary="Python TypedDicts over the posthog SDK")
    @action(detail=False, methods=["get"], url_path="python")
    def python(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._codegen("python")
