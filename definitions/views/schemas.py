"""Schema property groups (/schema_property_groups/) and event schemas (/event_schemas/), reference §4."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from definitions.models import EventSchema, SchemaPropertyGroup
from definitions.selectors.schemas import event_schemas_base, schema_property_groups_base
from definitions.serializers.schemas import (
    EventSchemaInputSerializer,
    EventSchemaListQuerySerializer,
    EventSchemaPatchSerializer,
    EventSchemaSerializer,
    PageQuerySerializer,
    SchemaPropertyGroupInputSerializer,
    SchemaPropertyGroupPatchSerializer,
    SchemaPropertyGroupSerializer,
)
from definitions.services.schemas import (
    event_schema_create,
    event_schema_delete,
    event_schema_update,
    schema_property_group_create,
    schema_property_group_delete,
    schema_property_group_update,
)
from definitions.views.common import UUIDLookupMixin
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.validation import validated_request

Group = SchemaPropertyGroupSerializer
Schema = EventSchemaSerializer


class SchemaPropertyGroupViewSet(UUIDLookupMixin, TeamScopedViewSet):
    scope_object = "event_definition"
    openapi_tag = "Schema property groups"
    queryset = SchemaPropertyGroup.objects.all()
    serializer_class = SchemaPropertyGroupSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return schema_property_groups_base(queryset)

    def _fresh(self, group: SchemaPropertyGroup) -> dict[str, Any]:
        return Group(schema_property_groups_base(SchemaPropertyGroup.objects.filter(pk=group.pk)).get()).data

    @validated_request(
        query=PageQuerySerializer,
        responses={200: Group(many=True)},
        summary="List schema property groups",
        description="The project's groups with their properties and attached events, by name.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(Group(page, many=True).data)

    @validated_request(
        request=SchemaPropertyGroupInputSerializer,
        responses={201: Group},
        summary="Create a schema property group",
        description="Group names are unique in the project; property names unique in the group.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        group = schema_property_group_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(self._fresh(group), status=status.HTTP_201_CREATED)

    @validated_request(responses={200: Group}, summary="Retrieve a schema property group")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(Group(self.get_object()).data)

    @validated_request(
        request=SchemaPropertyGroupInputSerializer,
        responses={200: Group},
        summary="Update a schema property group",
        description="`properties` is the whole list: missing ids are deleted, known ids updated, others created.",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        group = schema_property_group_update(group=self.get_object(), user=request.user, data=request.validated_data)
        return Response(self._fresh(group))

    @validated_request(
        request=SchemaPropertyGroupPatchSerializer,
        responses={200: Group},
        summary="Partially update a schema property group",
        description="Only the fields sent change; `properties`, when sent, replaces the whole list.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        group = schema_property_group_update(group=self.get_object(), user=request.user, data=request.validated_data)
        return Response(self._fresh(group))

    @validated_request(responses={204: None}, summary="Delete a schema property group", description="Detaches it.")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        schema_property_group_delete(group=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EventSchemaViewSet(UUIDLookupMixin, TeamScopedViewSet):
    scope_object = "event_definition"
    openapi_tag = "Event schemas"
    queryset = EventSchema.objects.all()
    serializer_class = EventSchemaSerializer
    team_field = "event_definition__team"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return event_schemas_base(queryset)

    def _fresh(self, schema: EventSchema) -> dict[str, Any]:
        return Schema(event_schemas_base(EventSchema.objects.filter(pk=schema.pk)).get()).data

    @validated_request(
        query=EventSchemaListQuerySerializer,
        responses={200: Schema(many=True)},
        summary="List event schemas",
        description="Links between event definitions and property groups, newest first.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = self.get_queryset()
        if request.validated_query.get("event_definition"):
            rows = rows.filter(event_definition_id=request.validated_query["event_definition"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(Schema(page, many=True).data)

    @validated_request(
        request=EventSchemaInputSerializer,
        responses={201: Schema},
        summary="Attach a property group to an event definition",
        description="Both must belong to the project; a pair can be attached once.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        schema = event_schema_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(self._fresh(schema), status=status.HTTP_201_CREATED)

    @validated_request(
        request=EventSchemaPatchSerializer,
        responses={200: Schema},
        summary="Update an event schema",
        description="Point the link at another event definition or property group of the project.",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        schema = event_schema_update(schema=self.get_object(), user=request.user, data=request.validated_data)
        return Response(self._fresh(schema))

    @validated_request(
        request=EventSchemaPatchSerializer,
        responses={200: Schema},
        summary="Partially update an event schema",
        description="Only the fields sent change.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    @validated_request(responses={204: None}, summary="Detach a property group from an event definition")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event_schema_delete(schema=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
