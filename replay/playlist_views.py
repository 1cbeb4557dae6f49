"""Session recording playlists under /api/projects/:id/ and /api/environments/:id/ (replay reference §1.7):
lookup `short_id`, limit/offset pages, no hard delete (`PATCH {"deleted": true}`), a collection's recordings."""

from __future__ import annotations

from typing import Any

import orjson
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from posthog_clone.api.base import NoHardDeleteMixin, TeamScopedViewSet
from posthog_clone.api.pagination import DefaultPagination
from posthog_clone.api.validation import validated_request
from replay import playlists, records
from replay.models import SessionRecordingPlaylist
from replay.selectors import recordings_list
from replay.serializers import (
    PlaylistBulkAddResultSerializer,
    PlaylistBulkDeleteResultSerializer,
    PlaylistRecordingsSerializer,
    PlaylistSerializer,
    RecordingSuccessSerializer,
    SessionRecordingListSerializer,
)


class SessionRecordingPlaylistViewSet(NoHardDeleteMixin, TeamScopedViewSet):
    scope_object = "session_recording_playlist"
    scope_object_read_actions = ("recordings",)
    scope_object_write_actions = ("recording", "bulk_add", "bulk_delete")
    openapi_tag = "Session recording playlists"
    queryset = SessionRecordingPlaylist.objects.all()
    serializer_class = PlaylistSerializer
    pagination_class = DefaultPagination
    lookup_field = "short_id"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.select_related("created_by", "last_modified_by").order_by("-last_modified_at", "-id")
        if self.action in ("partial_update", "update"):
            return queryset
        return queryset.filter(deleted=False)

    @validated_request(responses={200: PlaylistSerializer(many=True)}, summary="List playlists")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @validated_request(request=PlaylistSerializer, responses={201: PlaylistSerializer}, summary="Create a playlist")
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        playlist = playlists.playlist_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(self.get_serializer(playlist).data, status=status.HTTP_201_CREATED)

    @validated_request(responses={200: PlaylistSerializer}, summary="Retrieve a playlist")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @validated_request(
        request=PlaylistSerializer,
        responses={200: PlaylistSerializer},
        summary="Update a playlist (`deleted: true` soft-deletes it)",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        playlist = playlists.playlist_update(playlist=self.get_object(), user=request.user, data=request.validated_data)
        return Response(self.get_serializer(playlist).data)

    @validated_request(
        request=PlaylistSerializer, responses={200: PlaylistSerializer}, summary="Replace a playlist's fields"
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @validated_request(responses={200: SessionRecordingListSerializer}, summary="A playlist's recordings")
    @action(detail=True, methods=["get"])
    def recordings(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        playlist = self.get_object()
        if playlist.type == SessionRecordingPlaylist.Type.FILTERS:
            query = {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in playlist.filters.items()}
            filters = records.list_filters(self.team, query)
        else:
            ids = list(playlist.items.values_list("session_id", flat=True))
            filters = records.RecordingFilters(session_ids=ids, limit=records.MAX_LIMIT)
        rows, has_next = recordings_list(self.team.pk, filters)
        results = records.recordings_payload(self.team, request.user, rows)
        return Response({"results": results, "has_next": has_next, "version": 4})

    @extend_schema(request=OpenApiTypes.OBJECT)  # no body (the session id is in the path); `{}` is fine
    @validated_request(responses={200: RecordingSuccessSerializer}, summary="Add or remove one recording")
    # (routes are made in the order of the actions' names: recordings/bulk_add and bulk_delete match first)
    @action(detail=True, methods=["post", "delete"], url_path=r"recordings/(?P<session_id>[^/]+)")
    def recording(self, request: Request, *args: Any, session_id: str, **kwargs: Any) -> Response:
        request.data  # noqa: B018  (parsed before the lookup: a malformed body is its documented 400 whatever the id)
        playlist = self.get_object()
        if request.method == "POST":
            playlists.items_add(playlist, [session_id])
        else:
            playlists.items_remove(playlist, [session_id])
        return Response({"success": True})

    @validated_request(
        request=PlaylistRecordingsSerializer, responses={200: PlaylistBulkAddResultSerializer}, summary="Add recordings"
    )
    @action(detail=True, methods=["post"], url_path="recordings/bulk_add")
    def bulk_add(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ids = request.validated_data["session_recording_ids"]
        added = playlists.items_add(self.get_object(), ids)
        return Response({"success": True, "added_count": added, "total_requested": len(ids)})

    @validated_request(
        request=PlaylistRecordingsSerializer,
        responses={200: PlaylistBulkDeleteResultSerializer},
        summary="Remove recordings",
    )
    @action(detail=True, methods=["post"], url_path="recordings/bulk_delete")
    def bulk_delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ids = request.validated_data["session_recording_ids"]
        deleted = playlists.items_remove(self.get_object(), ids)
        return Response({"success": True, "deleted_count": deleted, "total_requested": len(ids)})
