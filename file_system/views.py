"""The project tree under /api/projects/:id/file_system/ (and /api/environments/:id/)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from file_system import selectors, services, sync
from file_system.models import FileSystem
from file_system.serializers import (
    CountByPathQuerySerializer,
    CountSerializer,
    EmptyBodySerializer,
    FileSystemInputSerializer,
    FileSystemListQuerySerializer,
    FileSystemPageSerializer,
    FileSystemPatchSerializer,
    FileSystemSerializer,
    NewPathSerializer,
    UndoDeleteSerializer,
    UndoneSerializer,
    UnfiledQuerySerializer,
    ViewLogInputSerializer,
    ViewLogQuerySerializer,
    ViewLogSerializer,
)
from posthog_clone.accounts.models import PersonalAPIKey
from posthog_clone.accounts.serializers import UserBasicSerializer
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.validation import validated_request

# POSTs that take no body: documented as an empty JSON object (spectacular drops a field-less serializer).
NO_BODY = extend_schema(request={"application/json": {"type": "object", "description": "No body."}})


class FileSystemViewSet(TeamScopedViewSet):
    scope_object = "file_system"
    scope_object_read_actions = ("unfiled", "count", "count_by_path")
    scope_object_write_actions = ("move", "link", "log_view", "log_view_record", "undo_delete")
    openapi_tag = "File system"
    queryset = FileSystem.objects.all()
    serializer_class = FileSystemSerializer
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def _item(self, item: FileSystem, code: int = status.HTTP_200_OK) -> Response:
        return Response(FileSystemSerializer(item).data, status=code)

    @validated_request(
        query=FileSystemListQuerySerializer,
        responses={200: FileSystemPageSerializer},
        summary="List the project tree",
        description="Rows matching every given filter. Use `parent` with `depth` for a folder's direct children.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = request.validated_query
        rows = selectors.filter_rows(self.get_queryset(), params, user=request.user)
        rows = selectors.order_rows(rows, params, team=self.team, user=request.user)
        page = self.paginate_queryset(rows)
        response = self.get_paginated_response(FileSystemSerializer(page, many=True).data)
        response.data["users"] = UserBasicSerializer(selectors.page_users(page, self.team), many=True).data
        return response

    @validated_request(
        request=FileSystemInputSerializer,
        responses={201: FileSystemSerializer},
        summary="Create a row",
        description="Missing ancestor folders are created as `folder` rows. Paths are not unique.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = services.file_system_create(team=self.team, user=request.user, data=request.validated_data)
        return self._item(item, status.HTTP_201_CREATED)

    @validated_request(responses={200: FileSystemSerializer}, summary="Retrieve a row")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._item(self.get_object())

    @validated_request(
        request=FileSystemInputSerializer,
        responses={200: FileSystemSerializer},
        summary="Replace a row",
        description="A new `path` recomputes `depth`; it neither creates ancestors nor moves children (use move).",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._item(services.file_system_update(item=self.get_object(), data=request.validated_data))

    @validated_request(
        request=FileSystemPatchSerializer,
        responses={200: FileSystemSerializer},
        summary="Update a row",
        description="Only the given fields change; a new `path` recomputes `depth` (children do not follow).",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._item(services.file_system_update(item=self.get_object(), data=request.validated_data))

    @validated_request(
        responses={204: None},
        summary="Delete a row",
        description="Deletes the row only (never the object behind it); a folder takes all its descendants.",
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.file_system_delete(item=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @validated_request(
        request=NewPathSerializer,
        responses={200: FileSystemSerializer},
        summary="Move a row or a folder",
        description="`new_path` is the full new path. A folder carries its subtree (one transaction) and merges "
        "into a folder already there; moving it into itself or its own subfolder is refused.",
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        new_path = request.validated_data["new_path"]
        return self._item(services.file_system_move(item=self.get_object(), new_path=new_path, user=request.user))

    @validated_request(
        request=NewPathSerializer,
        responses={200: FileSystemSerializer},
        summary="Link a row or a folder",
        description="Creates shortcut copies at the full `new_path`; a folder is copied with its whole subtree.",
    )
    @action(detail=True, methods=["post"])
    def link(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        new_path = request.validated_data["new_path"]
        return self._item(services.file_system_link(item=self.get_object(), new_path=new_path, user=request.user))

    @NO_BODY
    @validated_request(
        request=EmptyBodySerializer,
        responses={200: CountSerializer},
        summary="Count a folder's descendants",
        description="All rows below the folder at any depth (files, folders, shortcuts); 400 on a non-folder.",
    )
    @action(detail=True, methods=["post"])
    def count(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        folder = self.get_object()
        if not folder.is_folder:
            raise services.TreeError("Count can only be called on folders")
        return Response({"count": selectors.count_descendants(self.team, folder.path)})

    @NO_BODY
    @validated_request(
        request=EmptyBodySerializer,
        query=CountByPathQuerySerializer,
        responses={200: CountSerializer},
        summary="Count the rows below a path",
        description="`path` is a query parameter; the folder need not exist as a row.",
    )
    @action(detail=False, methods=["post"])
    def count_by_path(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"count": selectors.count_descendants(self.team, request.validated_query["path"])})

    @validated_request(
        query=UnfiledQuerySerializer,
        responses={200: CountSerializer},
        summary="File every object that has no row",
        description="Creates rows under `Unfiled/<Type>/` for objects without one, then repairs missing folders "
        "and depths in the whole tree. Idempotent; `count` is the number of rows created.",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def unfiled(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"count": sync.file_unfiled(team=self.team, type=request.validated_query.get("type"))})

    @validated_request(
        query=ViewLogQuerySerializer,
        responses={200: ViewLogSerializer(many=True)},
        summary="The requester's recent views",
        description="Newest first, not paginated.",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def log_view(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        logs = selectors.view_logs(self.team, request.user, type=query.get("type"), limit=query.get("limit"))
        return Response(ViewLogSerializer(logs, many=True).data)

    @validated_request(
        request=ViewLogInputSerializer,
        responses={204: None},
        summary="Record a view",
        description="Upserts the requester's view of (type, ref). Only browser sessions are recorded; "
        "personal API key calls succeed without recording.",
    )
    @log_view.mapping.post
    def log_view_record(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not isinstance(request.auth, PersonalAPIKey):
            services.view_log_record(team=self.team, user=request.user, **request.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @validated_request(
        request=UndoDeleteSerializer,
        responses={200: UndoneSerializer},
        summary="Undo a delete",
        description="Puts each object's row back (at `path` if given, ancestors created).",
    )
    @action(detail=False, methods=["post"])
    def undo_delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"undone": sync.restore_rows(team=self.team, items=request.validated_data["items"])})
