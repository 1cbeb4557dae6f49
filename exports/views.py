"""`/api/projects/:id/exports/`: list own exports, create one (generated in the background), retrieve, and
download its file from `/content/`. No update or delete (405)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from exports.models import ExportedAsset, live_filter
from exports.selectors import exported_asset_content, exported_asset_list
from exports.serializers import (
    ExportedAssetContentQuerySerializer,
    ExportedAssetCreateSerializer,
    ExportedAssetListQuerySerializer,
    ExportedAssetSerializer,
)
from exports.services import exported_asset_create
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.decorators import required_scopes
from posthog_clone.api.validation import validated_request


class FileRenderer(BaseRenderer):
    """Lets `/content/` answer any Accept header (the body is the file; errors stay JSON)."""

    media_type = "*/*"
    format = "file"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None:  # an error body is JSON whatever the client accepted (e.g. text/csv)
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class ExportedAssetViewSet(TeamScopedViewSet):
    scope_object = "export"
    openapi_tag = "Exports"
    queryset = ExportedAsset.objects_unfiltered.all()  # expiry applied per request in scope_queryset
    serializer_class = ExportedAssetSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(live_filter())

    @validated_request(
        query=ExportedAssetListQuerySerializer,
        responses={200: ExportedAssetSerializer(many=True)},
        summary="List your exports",
        description="Exports you created in this project, newest first; expired ones are gone.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        assets = exported_asset_list(
            assets=self.get_queryset(),
            user=request.user,
            export_format=query.get("export_format"),
            context_path=query.get("context_path"),
        )
        page = self.paginate_queryset(assets)
        return self.get_paginated_response(ExportedAssetSerializer(page, many=True).data)

    @validated_request(
        request=ExportedAssetCreateSerializer,
        responses={201: ExportedAssetSerializer},
        summary="Create an export",
        description=(
            "Inserts the export and builds the file in the background, waiting a few seconds for it. "
            "`has_content=false` means it is still being built: poll the export. Failures land in `exception`."
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        asset = exported_asset_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(ExportedAssetSerializer(asset).data, status=status.HTTP_201_CREATED)

    @validated_request(responses={200: ExportedAssetSerializer}, summary="Retrieve an export")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(ExportedAssetSerializer(self.get_object()).data)

    @required_scopes("export:read")
    @validated_request(
        query=ExportedAssetContentQuerySerializer,
        responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="The file, typed as its export_format.")},
        summary="Download an export's file",
        description="404 until the file exists. `download=true` makes it an attachment named `filename`.",
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, FileRenderer])
    def content(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        asset = self.get_object()
        data = exported_asset_content(asset=asset)
        if data is None:
            raise exceptions.NotFound()
        response = HttpResponse(data, content_type=asset.export_format)
        if request.validated_query["download"]:
            response["Content-Disposition"] = f'attachment; filename="{asset.filename}"'
        if not settings.DEBUG:
            response["Cache-Control"] = "max-age=86400"
        return response
