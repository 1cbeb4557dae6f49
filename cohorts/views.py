"""Cohorts under /api/projects/:id/cohorts/. No hard delete: DELETE is 405, `PATCH {"deleted": true}`
soft-deletes (refused while an active feature flag uses the cohort) and `{"deleted": false}` restores."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from cohorts import selectors, services
from cohorts.models import Cohort
from cohorts.serializers import (
    AddPersonsSerializer,
    CohortCalculationSerializer,
    CohortInputSerializer,
    CohortListQuerySerializer,
    CohortPersonSerializer,
    CohortPersonsResponseSerializer,
    CohortSerializer,
    PageQuerySerializer,
    RemovePersonSerializer,
    SuccessSerializer,
)
from posthog_clone.api.base import NoHardDeleteMixin, TeamScopedViewSet
from posthog_clone.api.decorators import required_scopes
from posthog_clone.api.renderers import CSVRenderer, json_errors
from posthog_clone.api.validation import validated_request
from query.runner import EXPORT_ROW_LIMIT

PERSONS_PAGE = 100
CSV_KEYS = ("id", "email", "name", "created_at", "properties", "distinct_ids")  # PostHog's CSV column order
CSV_DROPPED = ("value_at_data_point", "uuid", "type", "is_identified", "matched_recordings", "last_seen_at")


def _restoring(request: Request) -> bool:
    return request.data.get("deleted") in (False, "false", "False")


def _csv_row(person: dict[str, Any]) -> dict[str, Any]:
    person = {**person, "properties": dict(person["properties"])}
    # every row has the column (PostHog's CSV renderer takes the union of the rows' keys; ours the first row's)
    person["email"] = person["properties"].pop("email", None) if person["properties"].get("email") else None
    order = {key: i for i, key in enumerate(CSV_KEYS)}
    keys = sorted((k for k in person if k not in CSV_DROPPED), key=lambda k: order.get(k, len(order)))
    return {key: person[key] for key in keys}


class PersonsCSVRenderer(CSVRenderer):
    """PostHog's persons CSV: `email` pulled out of the properties, its column order, internal keys dropped."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            data = {**data, "results": [_csv_row(person) for person in data["results"]]}
        return super().render(data, accepted_media_type, renderer_context)


def _page_links(request: Request, *, limit: int, offset: int, full: bool) -> dict[str, str | None]:
    url = request.build_absolute_uri()
    previous = None
    if offset - limit >= 0:
        previous = replace_query_param(replace_query_param(url, "offset", offset - limit), "limit", limit)
    following = replace_query_param(replace_query_param(url, "offset", offset + limit), "limit", limit)
    return {"next": following if full else None, "previous": previous}


class CohortViewSet(NoHardDeleteMixin, TeamScopedViewSet):
    scope_object = "cohort"
    openapi_tag = "Cohorts"
    queryset = Cohort.objects.all()
    serializer_class = CohortSerializer

    def get_renderers(self) -> list[BaseRenderer]:
        renderers = super().get_renderers()
        return [*renderers, PersonsCSVRenderer()] if self.action == "persons" else renderers

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        return super().finalize_response(request, json_errors(request, response), *args, **kwargs)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action == "partial_update" and _restoring(self.request):
            return queryset  # restoring: the soft-deleted row is reachable
        return queryset.filter(deleted=False).select_related("created_by", "team")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.action in ("update", "partial_update") and str(self.kwargs.get("pk", "")).isdigit():
            # what the body is checked against (static or not); a missing cohort is the view's 404, after
            # the body's own 400s, as DRF orders them
            context["instance"] = Cohort.objects.filter(team=self.team, pk=int(self.kwargs["pk"])).first()
        return context

    @validated_request(
        query=CohortListQuerySerializer,
        responses={200: CohortSerializer(many=True)},
        summary="List cohorts",
        description="Live cohorts, newest first; `type`, `created_by_id`, `search` (part of the name) and "
        "`hide_behavioral_cohorts` narrow the list.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        cohorts = selectors.live_cohorts(
            team_id=self.team.pk,
            kind=query.get("type"),
            created_by_id=query.get("created_by_id"),
            search=query.get("search"),
            hide_behavioral=query["hide_behavioral_cohorts"],
        )
        page = self.paginate_queryset(cohorts)
        return self.get_paginated_response(CohortSerializer(page, many=True).data)

    @validated_request(
        request=CohortInputSerializer,
        responses={201: CohortSerializer},
        summary="Create a cohort",
        description="Dynamic cohorts (`filters`) are calculated in the background (`is_calculating`). Static "
        "ones list their people: `_create_static_person_ids`, a `csv` file (multipart) or a `query`.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        cohort = services.cohort_create(
            team=self.team, user=request.user, data=request.validated_data, csv_file=request.FILES.get("csv")
        )
        return Response(CohortSerializer(cohort).data, status=status.HTTP_201_CREATED)

    @validated_request(responses={200: CohortSerializer}, summary="Retrieve a cohort")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(CohortSerializer(self.get_object()).data)

    @validated_request(
        request=CohortInputSerializer,
        responses={200: CohortSerializer},
        summary="Update a cohort",
        description="Recalculates a dynamic cohort.",
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request)

    @validated_request(
        request=CohortInputSerializer,
        responses={200: CohortSerializer},
        summary="Partially update a cohort",
        description='Recalculates a dynamic cohort. `{"deleted": true}` soft-deletes (400 while an active '
        'feature flag uses it); `{"deleted": false}` restores.',
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request)

    def _update(self, request: Request) -> Response:
        cohort = services.cohort_update(
            cohort=self.get_object(), data=request.validated_data, csv_file=request.FILES.get("csv")
        )
        return Response(CohortSerializer(cohort).data)

    @validated_request(
        query=PageQuerySerializer,
        responses={200: CohortPersonsResponseSerializer},
        summary="List a cohort's persons",
        description="Members as person objects (a dynamic cohort's at its latest calculation), 100 a page, no "
        "count; `?format=csv` answers CSV (every member up to 300,000 unless `limit` says otherwise).",
    )
    @required_scopes("cohort:read", "person:read")
    @action(detail=True, methods=["get"])
    def persons(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        cohort = self.get_object()
        query = request.validated_query
        as_csv = getattr(request.accepted_renderer, "format", None) == "csv"
        limit = query.get("limit") or (EXPORT_ROW_LIMIT if as_csv else PERSONS_PAGE)
        offset = query.get("offset") or 0
        people = CohortPersonSerializer(selectors.member_persons(cohort, limit=limit, offset=offset), many=True).data
        links = _page_links(request, limit=limit, offset=offset, full=len(people) >= limit)
        return Response({"results": people, **links})

    @validated_request(
        request=AddPersonsSerializer,
        responses={200: SuccessSerializer},
        summary="Add persons to a static cohort",
        description="At most 1000 person UUIDs a call; ids of no person of the project are ignored.",
    )
    @required_scopes("cohort:write")
    @action(detail=True, methods=["patch"])
    def add_persons_to_static_cohort(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.add_persons(cohort=self.get_object(), person_ids=request.data.get("person_ids"))
        return Response({"success": True})

    @validated_request(
        request=RemovePersonSerializer,
        responses={200: SuccessSerializer},
        summary="Remove a person from a static cohort",
    )
    @required_scopes("cohort:write")
    @action(detail=True, methods=["patch"])
    def remove_person_from_static_cohort(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.remove_person(cohort=self.get_object(), person_id=request.data.get("person_id"))
        return Response({"success": True})

    @validated_request(
        responses={200: CohortSerializer},
        summary="Duplicate a dynamic cohort as a static one",
        description="A GET that writes (as PostHog's): a new static cohort `<name> (static copy)` holding the "
        "members of the latest calculation.",
    )
    @required_scopes("cohort:write")
    @action(detail=True, methods=["get"])
    def duplicate_as_static_cohort(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        copy = services.duplicate_as_static(cohort=self.get_object(), user=request.user)
        return Response(CohortSerializer(copy).data)

    @validated_request(
        query=PageQuerySerializer,
        responses={200: CohortCalculationSerializer(many=True)},
        summary="A cohort's calculation history",
        description="Its calculations, newest first, with their timings, counts and errors.",
    )
    @required_scopes("cohort:read")
    @action(detail=True, methods=["get"])
    def calculation_history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        runs = selectors.calculation_history(self.get_object())
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(CohortCalculationSerializer(page, many=True).data)
