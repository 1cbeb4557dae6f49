"""Insights under /api/projects/:id/insights/ (reference §1). No hard delete: DELETE is 405, `PATCH
{"deleted": true}` soft-deletes (and removes its tiles), `{"deleted": false}` restores. Lookup is by numeric id
only (`?short_id=` on the list finds one by short id). Results are computed through the query service in the
`refresh` mode asked (default `force_cache`: never computes)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from insights import selectors
from insights.models import Insight
from insights.results import RunContext, effective_filters, refresh_mode
from insights.serializers import (
    InsightBasicSerializer,
    InsightInputSerializer,
    InsightListQuerySerializer,
    InsightRetrieveQuerySerializer,
    InsightSerializer,
)
from insights.services import insight_create, insight_update
from posthog_clone.api.base import NoHardDeleteMixin, TeamScopedViewSet
from posthog_clone.api.schema import AutoSchema
from posthog_clone.api.throttling import ClickHouseBurstRateThrottle, ClickHouseSustainedRateThrottle
from posthog_clone.api.validation import check_response_shape, validated_request

LIST_ITEM = "InsightListItem"


class _InsightSchema(AutoSchema):
    def resolve_serializer(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> Any:
        # The basic shape's keys are a subset of the full one's: a full item fits both, so anyOf, not oneOf.
        component = super().resolve_serializer(serializer, direction, bypass_extensions)
        schema = getattr(component, "schema", None)
        if getattr(component, "name", None) == LIST_ITEM and isinstance(schema, dict) and "oneOf" in schema:
            schema["anyOf"] = schema.pop("oneOf")
        return component


def _list_item() -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name=LIST_ITEM,
        serializers=[InsightSerializer, InsightBasicSerializer],
        resource_type_field_name=None,
        many=True,
    )


def _restoring(request: Request) -> bool:
    return isinstance(request.data, dict) and request.data.get("deleted") in (False, "false", "False")


def _refresh(request: Request) -> str:
    if "refresh" in request.query_params:
        return refresh_mode(request.query_params["refresh"])
    body = request.data if isinstance(request.data, dict) else {}
    return refresh_mode(body.get("refresh"))


class InsightViewSet(NoHardDeleteMixin, TeamScopedViewSet):
    schema = _InsightSchema()
    scope_object = "insight"
    openapi_tag = "Insights"
    queryset = Insight.objects.all()
    serializer_class = InsightSerializer
    throttle_classes = [ClickHouseBurstRateThrottle, ClickHouseSustainedRateThrottle]  # PostHog's analytics class
    lookup_value_regex = "[^/]+"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = selectors.with_tiles(queryset.select_related("team", "created_by", "last_modified_by"))
        if self.action in ("partial_update", "update") and _restoring(self.request):
            return queryset  # restoring: the soft-deleted row is reachable
        return queryset.filter(deleted=False)

    def get_object(self) -> Insight:
        if not str(self.kwargs.get("pk", "")).isdigit():
            raise exceptions.NotFound()  # no short-id route: PostHog answers 404 here too
        return super().get_object()

    def _context(self, run: RunContext) -> dict[str, Any]:
        return {**self.get_serializer_context(), "run": run}

    def _dashboard_run(self, insight: Insight, query: dict[str, Any], mode: str) -> RunContext:
        """`from_dashboard`: the dashboard's filters (and the tile's overrides) apply when a tile links them;
        an unrelated dashboard is ignored."""
        tile = None
        if query.get("from_dashboard") is not None:
            tile = (
                insight.dashboard_tiles.filter(dashboard_id=query["from_dashboard"], dashboard__deleted=False)
                .select_related("dashboard")
                .order_by("deleted", "-id")
                .first()
            )
        filters = effective_filters(
            tile.dashboard.filters if tile else None,
            query.get("filters_override"),
            query.get("tile_filters_override") or (tile.filters_overrides if tile else None),
        )
        variables = {**((tile.dashboard.variables or {}) if tile else {}), **(query.get("variables_override") or {})}
        return RunContext(
            mode=mode, dashboard_id=tile.dashboard_id if tile else None, filters=filters, variables=variables
        )

    @extend_schema(responses={200: _list_item()})
    @validated_request(
        query=InsightListQuerySerializer,
        summary="List insights",
        description="Live insights, by `order` (default). Filters: `short_id`, `created_by`, `saved`, `favorited`, "
        "`user`, `search`, `insight` (type), `dashboards` (on all of them), `date_from`/`date_to` (last "
        "modified). `basic=true` gives the light shape without results; `refresh` defaults to `force_cache`.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = request.validated_query
        rows = selectors.insights_list(team_id=self.team.pk, user_id=request.user.pk, params=params)
        page = self.paginate_queryset(rows)
        if params["basic"]:
            serializer = InsightBasicSerializer(page, many=True)
        else:
            mode = refresh_mode(params.get("refresh"))
            serializer = InsightSerializer(page, many=True, context=self._context(RunContext(mode=mode)))
        if settings.STRICT_RESPONSE_VALIDATION:  # the declared shape is either: check the one given
            check_response_shape(type(serializer.child)(many=True), serializer.data)
        return self.get_paginated_response(serializer.data)

    @validated_request(
        request=InsightInputSerializer,
        responses={201: InsightSerializer},
        summary="Create an insight",
        description="`query` holds the node; `dashboards` puts it on those dashboards.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        insight = insight_create(team=self.team, user=request.user, data=request.validated_data)
        insight = selectors.with_tiles(selectors.insights_base(team_id=self.team.pk)).get(pk=insight.pk)
        context = self._context(RunContext(mode=_refresh(request)))
        return Response(InsightSerializer(insight, context=context).data, status=status.HTTP_201_CREATED)

    @validated_request(
        query=InsightRetrieveQuerySerializer,
        responses={200: InsightSerializer},
        summary="Retrieve an insight",
        description="By numeric id. `refresh`: force_cache (default), blocking, force_blocking (or true), async, "
        "lazy_async, force_async. `from_dashboard` applies that dashboard's filters.",
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        insight = self.get_object()
        run = self._dashboard_run(insight, request.validated_query, _refresh(request))
        return Response(InsightSerializer(insight, context=self._context(run)).data)

    def _update(self, request: Request) -> Response:
        insight = insight_update(insight=self.get_object(), user=request.user, data=request.validated_data)
        insight = selectors.with_tiles(selectors.insights_base(team_id=self.team.pk)).get(pk=insight.pk)
        context = self._context(RunContext(mode=_refresh(request)))
        return Response(InsightSerializer(insight, context=context).data)

    @validated_request(request=InsightInputSerializer, responses={200: InsightSerializer}, summary="Update an insight")
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request)

    @validated_request(
        request=InsightInputSerializer,
        responses={200: InsightSerializer},
        summary="Partially update an insight",
        description='`{"deleted": true}` soft-deletes (and takes it off its dashboards); `{"deleted": false}` '
        "restores.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request)
