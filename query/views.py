"""`/api/projects/:id/query/`: run HogQL (blocking or async), poll and cancel async runs."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.decorators import required_scopes
from posthog_clone.api.schema import AutoSchema
from posthog_clone.api.throttling import (
    BurstRateThrottle,
    ClickHouseBurstRateThrottle,
    ClickHouseSustainedRateThrottle,
    QueryRateThrottle,
)
from posthog_clone.api.validation import (
    ResponseSchemaError,
    check_response_shape,
    shape_check_due,
    validated_request,
)
from posthog_clone.clickhouse import ClickHouseError
from query import services
from query.exceptions import as_api_exception
from query.hogql.errors import ExposedHogQLError
from query.kinds import KINDS
from query.serializers import (
    RESPONSE_COMPONENT,
    QueryAsyncStartedSerializer,
    QueryRequestSerializer,
    QueryStatusQuerySerializer,
    QueryStatusResponseSerializer,
    response_schema,
)

logger = logging.getLogger(__name__)

# The 200 body depends on the kind: documented as any of the kinds' responses, checked against the
# node's own (validated_request checks the 202 only).
RUN_RESPONSES = {200: response_schema(), 202: QueryAsyncStartedSerializer}


class _QuerySchema(AutoSchema):
    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        if getattr(self.view, "action", None) == "create_with_kind":  # `query/{kind}/` would collide
            return operation_id.replace("query_create", "query_kind_create")
        return operation_id

    def resolve_serializer(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> Any:
        # A HogQL response with an empty `types` also fits the EventsQuery shape: anyOf, not oneOf.
        component = super().resolve_serializer(serializer, direction, bypass_extensions)
        schema = getattr(component, "schema", None)
        if getattr(component, "name", None) == RESPONSE_COMPONENT and isinstance(schema, dict) and "oneOf" in schema:
            schema["anyOf"] = schema.pop("oneOf")
        return component


class QueryViewSet(TeamScopedViewSet):
    schema = _QuerySchema()
    scope_object = "query"
    scope_object_read_actions = ("retrieve", "list")  # create and destroy declare query:read below
    throttle_classes = [BurstRateThrottle, QueryRateThrottle]
    openapi_tag = "Query"
    lookup_value_regex = "[^/]+"

    def get_throttles(self) -> list[Any]:
        """As PostHog: the `query` rate is HogQL's; the other kinds count against the analytics (ClickHouse)
        rates."""
        if self.action in {"create", "create_with_kind"}:
            data = self.request.data
            node = data.get("query") if isinstance(data, dict) else None
            if isinstance(node, dict) and node.get("kind") not in (None, "HogQLQuery"):
                return [BurstRateThrottle(), ClickHouseBurstRateThrottle(), ClickHouseSustainedRateThrottle()]
        return super().get_throttles()

    @extend_schema(responses=RUN_RESPONSES)
    @required_scopes("query:read")
    @validated_request(
        request=QueryRequestSerializer,
        responses={202: QueryAsyncStartedSerializer},
        summary="Run a query",
        description=f"Run a query node ({', '.join(KINDS)}) for this project; async refresh modes answer 202.",
    )
    def create(self, request: Request, **kwargs: Any) -> Response:
        return self._run(request)

    def _run(self, request: Request) -> Response:
        try:
            code, body = services.run_query_request(team=self.team, user=request.user, body=request.validated_data)
        except (ExposedHogQLError, ClickHouseError) as error:
            raise as_api_exception(error) from error
        kind = request.validated_data["query"]["kind"]
        if code == status.HTTP_200_OK and shape_check_due(f"query {kind}"):
            try:
                check_response_shape(KINDS[kind].response, body)
            except ResponseSchemaError:
                if settings.STRICT_RESPONSE_VALIDATION:
                    raise
                logger.warning("query response does not match its kind's schema", exc_info=True)
        return Response(body, status=code)

    @extend_schema(responses=RUN_RESPONSES)
    @required_scopes("query:read")
    @validated_request(
        request=QueryRequestSerializer,
        responses={202: QueryAsyncStartedSerializer},
        summary="Run a query of a given kind",
        description="Like POST /query/, with the kind in the path; it must equal the body's `query.kind`.",
    )
    @action(detail=False, methods=["post"], url_path=r"(?P<kind>[A-Z][A-Za-z]*Query)")
    def create_with_kind(self, request: Request, kind: str, **kwargs: Any) -> Response:
        body_kind = request.validated_data["query"]["kind"]
        if kind != body_kind:
            raise exceptions.ValidationError(
                f'Query kind mismatch: path kind "{kind}" does not match body kind "{body_kind}".'
            )
        return self._run(request)

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
