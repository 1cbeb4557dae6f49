"""Persons under /api/projects/:id/persons/: list (search, distinct_id, properties), retrieve, delete, values."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from persons.models import Person
from persons.selectors import person_get, person_list, person_property_values
from persons.serializers import (
    PersonListQuerySerializer,
    PersonSerializer,
    PersonValueSerializer,
    PersonValuesQuerySerializer,
)
from persons.services import person_delete
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.throttling import ANALYTICS_THROTTLES
from posthog_clone.api.validation import validated_request
from posthog_clone.clickhouse import ClickHouseError


class ClickHouseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The analytics database is unavailable. Please try again."
    default_code = "clickhouse_unavailable"
    error_type = "server_error"


class PersonViewSet(TeamScopedViewSet):
    scope_object = "person"
    scope_object_read_actions = ("values",)
    openapi_tag = "Persons"
    queryset = Person.objects.all()
    serializer_class = PersonSerializer
    throttle_classes = ANALYTICS_THROTTLES
    lookup_value_regex = r"[0-9]+|[0-9a-fA-F-]{36}"

    def _person(self) -> Person:
        person = person_get(team=self.team, ident=str(self.kwargs["pk"]))
        if person is None:
            raise exceptions.NotFound()
        return person

    @validated_request(
        query=PersonListQuerySerializer,
        responses={200: PersonSerializer(many=True)},
        summary="List persons",
        description="Newest first. `search` matches email, name or a distinct id; `properties` is a JSON list "
        "of person property filters.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        persons = person_list(
            team=self.team,
            search=query.get("search"),
            distinct_id=query.get("distinct_id"),
            properties=query.get("properties", []),
        )
        page = self.paginate_queryset(persons)
        return self.get_paginated_response(PersonSerializer(page, many=True).data)

    @validated_request(responses={200: PersonSerializer}, summary="Retrieve a person by id or uuid")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(PersonSerializer(self._person()).data)

    @validated_request(
        responses={204: None},
        summary="Delete a person",
        description="Deletes the person and its distinct ids (events are kept).",
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            person_delete(person=self._person())
        except ClickHouseError as exc:
            raise ClickHouseUnavailable() from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    @validated_request(
        query=PersonValuesQuerySerializer,
        responses={200: PersonValueSerializer(many=True)},
        summary="Values of a person property",
        description="Distinct values of `key` across the project's persons with their counts (top 100).",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def values(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        return Response(person_property_values(team=self.team, key=query["key"], contains=query.get("value")))
