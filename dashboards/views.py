"""Dashboards under /api/projects/:id/dashboards/ (reference §2), their sharing configuration, and the
public read of a shared dashboard at /shared/<token> (no key; a disabled or rotated token is a 404).

No hard delete: DELETE is 405, `PATCH {"deleted": true}` soft-deletes (with `delete_insights`, also the
insights shown only here), `{"deleted": false}` restores. The detail runs every tile's insight in the
dashboard's context in the `refresh` mode asked (default `force_cache`: never computes); `?refresh=blocking`
refreshes all tiles."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import selectors, services
from dashboards.models import Dashboard
from dashboards.serializers import (
    DashboardBasicSerializer,
    DashboardInputSerializer,
    DashboardListQuerySerializer,
    DashboardRetrieveQuerySerializer,
    DashboardSerializer,
    EmptyBodySerializer,
    SharedDashboardSerializer,
    SharingConfigurationSerializer,
)
from dashboards.tiles import tiles_body
from insights.results import refresh_mode, shared_mode
from posthog_clone.api.base import NoHardDeleteMixin, TeamScopedViewSet
from posthog_clone.api.decorators import required_scopes
from posthog_clone.api.validation import validated_request


def _restoring(request: Request) -> bool:
    return isinstance(request.data, dict) and request.data.get("deleted") in (False, "false", "False")


def _sharing_body(config: Any) -> dict[str, Any]:
    return {
        "created_at": config.created_at.isoformat() if config.created_at else None,
        "enabled": config.enabled,
        "access_token": config.access_token,
        "settings": config.settings,
        "password_required": False,
        "share_passwords": [],
    }


def dashboard_body(
    dashboard: Dashboard,
    *,
    mode: str,
    context: dict[str, Any],
    filters_override: dict[str, Any] | None = None,
    variables_override: dict[str, Any] | None = None,
) -> dict[str, Any]:
    filters = {**(dashboard.filters or {}), **(filters_override or {})}
    variables = {**(dashboard.variables or {}), **(variables_override or {})}
    tiles = tiles_body(dashboard, mode=mode, filters=filters, variables=variables, context=context)
    full = {
        **context,
        "tiles": tiles,
        "filters_override": filters_override,
        "variables_override": variables_override,
        "shared_dashboard_ids": selectors.shared_ids(dashboard.team_id),
    }
    return DashboardSerializer(dashboard, context=full).data


class DashboardViewSet(NoHardDeleteMixin, TeamScopedViewSet):
    scope_object = "dashboard"
    openapi_tag = "Dashboards"
    queryset = Dashboard.objects.all()
    serializer_class = DashboardSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.select_related("team", "created_by")
        if self.action in ("partial_update", "update") and _restoring(self.request):
            return queryset  # restoring: the soft-deleted row is reachable
        return queryset.filter(deleted=False)

    def get_object(self) -> Dashboard:
        if not str(self.kwargs.get("pk", "")).isdigit():
            raise exceptions.NotFound()
        return super().get_object()

    def _detail(self, request: Request, dashboard: Dashboard, **overrides: Any) -> dict[str, Any]:
        mode = refresh_mode(request.query_params.get("refresh"))
        return dashboard_body(dashboard, mode=mode, context=self.get_serializer_context(), **overrides)

    @validated_request(
        query=DashboardListQuerySerializer,
        responses={200: DashboardBasicSerializer(many=True)},
        summary="List dashboards",
        description="Live dashboards, pinned first, then by name; no tiles.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = selectors.dashboards_list(team_id=self.team.pk, params=request.validated_query)
        page = self.paginate_queryset(rows)
        context = {**self.get_serializer_context(), "shared_dashboard_ids": selectors.shared_ids(self.team.pk)}
        return self.get_paginated_response(DashboardBasicSerializer(page, many=True, context=context).data)

    @validated_request(
        request=DashboardInputSerializer,
        responses={201: DashboardSerializer},
        summary="Create a dashboard",
        description="Blank, or a duplicate of `use_dashboard` (tiles linked to the same insights, or copied with "
        "`duplicate_tiles`).",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        dashboard = services.dashboard_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(self._detail(request, dashboard), status=status.HTTP_201_CREATED)

    @validated_request(
        query=DashboardRetrieveQuerySerializer,
        responses={200: DashboardSerializer},
        summary="Retrieve a dashboard",
        description="With its tiles; each insight runs with the dashboard's filters (`filters_override` merged "
        "over them; a tile's own `filters_overrides` replace them). `refresh` as on insights (default "
        "force_cache; blocking refreshes every tile).",
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        body = self._detail(
            request,
            self.get_object(),
            filters_override=query.get("filters_override"),
            variables_override=query.get("variables_override"),
        )
        return Response(body)

    def _update(self, request: Request) -> Response:
        dashboard = services.dashboard_update(
            dashboard=self.get_object(), user=request.user, data=request.validated_data
        )
        return Response(self._detail(request, dashboard))

    @validated_request(
        request=DashboardInputSerializer, responses={200: DashboardSerializer}, summary="Update a dashboard"
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request)

    @validated_request(
        request=DashboardInputSerializer,
        responses={200: DashboardSerializer},
        summary="Partially update a dashboard",
        description='`tiles` upserts tiles by id (`{"id": 5, "deleted": true}` removes one, its insight stays); '
        '`{"deleted": true}` soft-deletes (`delete_insights` also deletes insights only shown here).',
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request)

    @required_scopes("sharing_configuration:read")
    @validated_request(
        responses={200: SharingConfigurationSerializer},
        summary="Get a dashboard's sharing configuration",
        description="The stored configuration, or a disabled one (not stored) with a fresh token.",
    )
    @action(detail=True, methods=["get"], url_path="sharing")
    def sharing(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_sharing_body(services.sharing_get(dashboard=self.get_object())))

    @required_scopes("sharing_configuration:write")
    @validated_request(
        request=SharingConfigurationSerializer,
        responses={200: SharingConfigurationSerializer},
        summary="Enable or disable sharing of a dashboard",
        description='`{"enabled": true}` makes /shared/<access_token> answer without a key.',
    )
    @sharing.mapping.patch
    def sharing_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        config = services.sharing_update(dashboard=self.get_object(), data=request.validated_data)
        return Response(_sharing_body(config))

    @required_scopes("sharing_configuration:write")
    @extend_schema(request={"application/json": {"type": "object", "description": "No body."}})
    @validated_request(
        request=EmptyBodySerializer,
        responses={200: SharingConfigurationSerializer},
        summary="Rotate a dashboard's sharing token",
        description="A new access token; links with the old one stop working.",
    )
    @action(detail=True, methods=["post"], url_path="sharing/refresh")
    def sharing_refresh(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_sharing_body(services.sharing_refresh(dashboard=self.get_object())))


class SharedDashboardView(APIView):
    """GET /shared/<token>: the shared dashboard with its tiles and results, read-only, without a key.
    `refresh` is remapped as for sharing tokens (default lazy_async: the cache, recalculated in the
    background past the lazy thresholds)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    openapi_tag = "Dashboards"

    @extend_schema(auth=[], extensions={"x-public": True}, operation_id="shared_dashboard_retrieve")
    @validated_request(
        responses={200: SharedDashboardSerializer},
        summary="Read a shared dashboard",
        description="Public: the token is the credential. A disabled or rotated token is a 404.",
    )
    def get(self, request: Request, token: str) -> Response:
        dashboard = selectors.shared_dashboard(token)
        if dashboard is None:
            raise exceptions.NotFound()
        mode = shared_mode(refresh_mode(request.query_params.get("refresh")))
        context = {"request": request, "team": dashboard.team}
        return Response({"dashboard": dashboard_body(dashboard, mode=mode, context=context)})
