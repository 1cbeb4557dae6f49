"""`/api/projects/:id/query/`: run HogQL (blocking or async), poll and cancel async runs."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from openapi.validation import validated_request
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.decorators import required_scopes
from posthog_clone.api.throttling import BurstRateThrottle, QueryRateThrottle
from posthog_clone.clickhouse import ClickHouseError
from query import services
from query.exceptions import as_api_exception
from query.hogql.errors import ExposedHogQLError
from query.serializers import (
    QueryAsyncStartedSerializer,
    QueryRequestSerializer,
    QueryResponseSerializer,
    QueryStatusQuerySerializer,
    QueryStatusResponseSerializer,
)


class QueryViewSet(TeamScopedViewSet):
    scope_object = "query"
    scope_object_read_actions = ("retrieve", "list")  # create and destroy declare query:read below
    throttle_classes = [BurstRateThrottle, QueryRateThrottle]
    openapi_tag = "Query"
    lookup_value_regex = "[^/]+"

    @required_scopes("query:read")
    @validated_request(
        request=QueryRequestSerializer,
        responses={200: QueryResponseSerializer, 202: QueryAsyncStartedSerializer},
        summary="Run a query",
        description="Compile a HogQL query for this project and run it; async refresh modes answer 202.",
    )
    def create(self, request: Request, **kwargs: Any) -> Response:
        try:
            code, body = services.run_query_request(team=self.team, user=request.user, body=request.validated_data)
        except (ExposedHogQLError, ClickHouseError) as error:
            raise as_api_exception(error) from error
        return Response(body, status=code)

    @validated_request(
        query=QueryStatusQuerySerializer,
        responses={200: QueryStatusResponseSerializer, 202: QueryStatusResponseSerializer},
        summary="Get async query status",
        description="Status of an async query; 202 while running, 200 when done, 400 when it failed.",
    )
    def retrieve(self, request: Request, pk: str, **kwargs: Any) -> Response:
        query_status = services.query_status_get(team=self.team, query_id=pk)
        if query_status is None:
            raise exceptions.NotFound(f"Query {pk} not found for team {self.team.pk}")
        if query_status["error"]:
            if query_status["error_message"]:
                raise exceptions.ValidationError(query_status["error_message"], code="hogql_query_error")
            raise exceptions.APIException("Query failed.")
        code = status.HTTP_200_OK if query_status["complete"] else status.HTTP_202_ACCEPTED
        return Response({"query_status": query_status}, status=code)

    @required_scopes("query:read")
    @validated_request(responses={204: None}, summary="Cancel an async query", description="Forget an async run.")
    def destroy(self, request: Request, pk: str, **kwargs: Any) -> Response:
        if not services.query_status_cancel(team=self.team, query_id=pk):
            raise exceptions.NotFound(f"Query {pk} not found for team {self.team.pk}")
        return Response(status=status.HTTP_204_NO_CONTENT)
