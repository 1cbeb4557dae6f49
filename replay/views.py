"""The session recordings API under /api/projects/:id/ and /api/environments/:id/ (replay reference §1.7):
list, retrieve, delete, viewed state (PATCH), snapshots. Recordings are ClickHouse's; the lookup is the
session id."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from posthog_clone.accounts.models import PersonalAPIKey
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.decorators import required_scopes
from posthog_clone.api.validation import validated_request
from replay import records, snapshots
from replay.models import SessionRecordingViewed
from replay.selectors import recording_get, recordings_existing, recordings_list
from replay.serializers import (
    BatchCheckExistsResultSerializer,
    BatchCheckExistsSerializer,
    BulkDeleteResultSerializer,
    BulkIdsSerializer,
    BulkViewedResultSerializer,
    BulkViewedSerializer,
    RecordingSuccessSerializer,
    SessionRecordingListQuerySerializer,
    SessionRecordingListSerializer,
    SessionRecordingSerializer,
    SnapshotSourcesSerializer,
    SnapshotsQuerySerializer,
    ViewedSerializer,
)
from replay.services import recordings_delete, viewed_set

SOURCES = ("blob_v2", "blob_v2_ts")


class JsonLinesRenderer(BaseRenderer):
    """Lets `snapshots` answer `application/jsonl` whatever the client accepts (errors stay JSON)."""

    media_type = "*/*"
    format = "jsonl"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class SessionRecordingViewSet(TeamScopedViewSet):
    scope_object = "session_recording"
    scope_object_read_actions = ("snapshots", "batch_check_exists")
    scope_object_write_actions = ("bulk_delete", "bulk_viewed", "bulk_not_viewed")
    openapi_tag = "Session recordings"
    queryset = SessionRecordingViewed.objects.all()  # the team check's; recordings themselves are ClickHouse's
    lookup_value_regex = "[^/]+"
    pagination_class = None  # the list answers PostHog's {results, has_next, version}

    def _recording(self) -> dict[str, Any]:
        row = recording_get(self.team.pk, str(self.kwargs["pk"]))
        if row is None:
            raise exceptions.NotFound("Recording not found")
        return row

    @validated_request(
        query=SessionRecordingListQuerySerializer,
        responses={200: SessionRecordingListSerializer},
        summary="List session recordings",
        description="The project's recordings that started in the date range (default the last 3 days), newest "
        "first; filters and ordering as PostHog's RecordingsQuery (each parameter may be JSON).",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = records.list_filters(self.team, request.query_params)
        rows, has_next = recordings_list(self.team.pk, filters)
        results = records.recordings_payload(self.team, request.user, rows)
        return Response({"results": results, "has_next": has_next, "version": 4})

    @validated_request(responses={200: SessionRecordingSerializer}, summary="Retrieve a session recording")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(records.recordings_payload(self.team, request.user, [self._recording()])[0])

    @validated_request(
        request=ViewedSerializer, responses={200: RecordingSuccessSerializer}, summary="Mark a recording viewed or not"
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self._recording()
        if "viewed" in request.validated_data:
            viewed_set(
                team=self.team, user=request.user, session_ids=[row["id"]], viewed=request.validated_data["viewed"]
            )
        return Response({"success": True})

    @validated_request(responses={204: None}, summary="Delete a session recording")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self._recording()
        recordings_delete(self.team.pk, [row["id"]])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @required_scopes("session_recording:read")
    @validated_request(
        query=SnapshotsQuerySerializer,
        responses={
            200: OpenApiResponse(
                OpenApiTypes.ANY,
                description='Without `source`: `{"sources": [...]}` (JSON). With `source=blob_v2`, '
                "`start_blob_key` and `end_blob_key`: the blocks' lines, `application/jsonl`, each "
                "`[window_id, rrweb_event]`.",
            )
        },
        summary="A recording's snapshot sources, or the lines of a range of its blocks",
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, JsonLinesRenderer])
    def snapshots(self, request: Request, *args: Any, **kwargs: Any) -> Response | HttpResponse:
        session_id = str(self.kwargs["pk"])
        source = request.validated_query.get("source")
        if source in (None, ""):
            return Response(
                SnapshotSourcesSerializer({"sources": []}).data
                | {"sources": snapshots.sources(self.team.pk, session_id)}
            )
        if source not in SOURCES:
            raise exceptions.ValidationError("Invalid source must be one of [blob_v2, blob_v2_ts, None]")
        personal = isinstance(request.auth, PersonalAPIKey)
        first, last = snapshots.blob_range(
            request.validated_query,
            max_keys=snapshots.MAX_BLOB_KEYS_PERSONAL_API_KEY if personal else snapshots.MAX_BLOB_KEYS,
        )
        body = snapshots.lines(self.team.pk, session_id, first, last)
        response = HttpResponse(body, content_type="application/jsonl")
        response["Cache-Control"] = "max-age=3600"
        return response

    @validated_request(
        request=BulkIdsSerializer,
        responses={200: BulkDeleteResultSerializer},
        summary="Delete up to 100 recordings",
    )
    @action(detail=False, methods=["post"])
    def bulk_delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ids = list(dict.fromkeys(request.validated_data["session_recording_ids"]))
        found = recordings_existing(self.team.pk, ids)
        recordings_delete(self.team.pk, sorted(found))
        failed = [i for i in ids if i not in found]
        return Response(
            {"success": True, "deleted_count": len(found), "total_requested": len(ids), "failed_ids": failed}
        )

    @validated_request(
        request=BulkViewedSerializer, responses={200: BulkViewedResultSerializer}, summary="Mark up to 20 viewed"
    )
    @action(detail=False, methods=["post"])
    def bulk_viewed(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._bulk_viewed(request, viewed=True)

    @validated_request(
        request=BulkViewedSerializer, responses={200: BulkViewedResultSerializer}, summary="Mark up to 20 not viewed"
    )
    @action(detail=False, methods=["post"])
    def bulk_not_viewed(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._bulk_viewed(request, viewed=False)

    def _bulk_viewed(self, request: Request, *, viewed: bool) -> Response:
        ids = list(dict.fromkeys(request.validated_data["session_recording_ids"]))
        viewed_set(team=self.team, user=request.user, session_ids=ids, viewed=viewed)
        return Response({"success": True, "total_requested": len(ids)})

    @validated_request(
        request=BatchCheckExistsSerializer,
        responses={200: BatchCheckExistsResultSerializer},
        summary="Which of up to 100 session ids have a recording",
    )
    @action(detail=False, methods=["post"])
    def batch_check_exists(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ids = request.validated_data["session_ids"]
        found = recordings_existing(self.team.pk, ids) if ids else set()
        return Response({"results": {i: i in found for i in ids}})
