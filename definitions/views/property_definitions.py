"""Property definitions under /api/projects/:id/property_definitions/: list, retrieve, update, delete,
seen_together (reference §3). Definitions are created by ingestion only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from definitions.models import PropertyDefinition
from definitions.selectors.property_definitions import (
    property_definition_list,
    property_definitions_base,
    property_seen_together,
)
from definitions.serializers.property_definitions import (
    PropertyDefinitionListQuerySerializer,
    PropertyDefinitionSerializer,
    PropertyDefinitionUpdateSerializer,
    SeenTogetherQuerySerializer,
)
from definitions.services.property_definitions import property_definition_delete, property_definition_update
from definitions.views.common import UUIDLookupMixin
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.validation import validated_request

Out = PropertyDefinitionSerializer
SEEN_TOGETHER_SCHEMA = {"type": "object", "additionalProperties": {"type": "boolean"}}


class PropertyDefinitionViewSet(UUIDLookupMixin, TeamScopedViewSet):
    scope_object = "property_definition"
    scope_object_read_actions = ("seen_together",)
    openapi_tag = "Property definitions"
    queryset = PropertyDefinition.objects.all()
    serializer_class = PropertyDefinitionSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return property_definitions_base(queryset)

    def _fresh(self, definition: PropertyDefinition) -> dict[str, Any]:
        return Out(property_definitions_base(PropertyDefinition.objects.filter(pk=definition.pk)).get()).data

    @validated_request(
        query=PropertyDefinitionListQuerySerializer,
        responses={200: Out(many=True)},
        summary="List property definitions",
        description="Event, person, group or session properties; seen-with-`event_names` first, verified, by name.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = property_definition_list(team=self.team, filters=request.validated_query)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(Out(page, many=True).data)

    @validated_request(responses={200: Out}, summary="Retrieve a property definition")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(Out(self.get_object()).data)

    @validated_request(
        request=PropertyDefinitionUpdateSerializer,
        responses={200: Out},
        summary="Update a property definition",
        description="`property_type` also sets `is_numerical`; `verified` stamps who/when; `hidden` unverifies.",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        definition = property_definition_update(
            definition=self.get_object(), user=request.user, data=request.validated_data
        )
        return Response(self._fresh(definition))

    @validated_request(
        request=PropertyDefinitionUpdateSerializer,
        responses={200: Out},
        summary="Partially update a property definition",
        description="Only the fields sent change.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    @validated_request(responses={204: None}, summary="Delete a property definition", description="Hard delete.")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        property_definition_delete(definition=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @validated_request(
        query=SeenTogetherQuerySerializer,
        responses={200: SEEN_TOGETHER_SCHEMA},
        summary="Whether a property was seen with each event",
        description="`{event_name: bool}` for every `event_names` value.",
    )
    @action(detail=False, methods=["get"], url_path="seen_together")
    def seen_together(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        return Response(
            property_seen_together(
                team=self.team, event_names=query["event_names"], property_name=query["property_name"]
            )
        )
