"""Surveys under /api/projects/:id/surveys/ (replay_surveys_experiments.md §2.1, §2.5): CRUD (hard delete,
which also deletes the survey's own flags), `?search=`, per-survey and project-wide stats, responses counts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.pagination import DefaultPagination
from posthog_clone.api.schema import AutoSchema
from posthog_clone.api.validation import validated_request
from surveys.models import Survey
from surveys.selectors import survey_list, with_current_actions
from surveys.serializers import (
    ProjectStatsSerializer,
    StatsQuerySerializer,
    SurveyInputSerializer,
    SurveyListQuerySerializer,
    SurveySerializer,
    SurveyStatsSerializer,
)
from surveys.services import survey_create, survey_delete, survey_update
from surveys.stats import survey_responses_count, survey_stats


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


class SurveySchema(AutoSchema):
    def get_operation_id(self) -> str:
        """`surveys/stats/` (all surveys) beside `surveys/{id}/stats/`: one more word, no numeral suffix."""
        operation_id = super().get_operation_id()
        if getattr(self.view, "action", None) == "all_stats":
            return operation_id.replace("surveys_stats_", "surveys_all_stats_")
        return operation_id


class SurveyViewSet(TeamScopedViewSet):
    schema = SurveySchema()
    scope_object = "survey"
    scope_object_read_actions = ("stats", "all_stats", "responses_count")
    openapi_tag = "Surveys"
    queryset = Survey.objects.all()
    serializer_class = SurveySerializer
    pagination_class = DefaultPagination

    def get_object(self) -> Survey:
        try:
            return with_current_actions([survey_list(team=self.team).get(pk=self.kwargs.get("pk"))])[0]
        except (Survey.DoesNotExist, DjangoValidationError, ValueError):
            raise exceptions.NotFound() from None

    @validated_request(
        query=SurveyListQuerySerializer,
        responses={200: SurveySerializer(many=True)},
        summary="List surveys",
        description="Newest first; `search` matches the name or description.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        rows = survey_list(team=self.team, search=query.get("search"), archived=query.get("archived"))
        page = with_current_actions(list(self.paginate_queryset(rows) or []))
        return self.get_paginated_response(SurveySerializer(page, many=True).data)

    @validated_request(request=SurveyInputSerializer, responses={201: SurveySerializer}, summary="Create a survey")
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        survey = survey_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(SurveySerializer(with_current_actions([survey])[0]).data, status=status.HTTP_201_CREATED)

    @validated_request(responses={200: SurveySerializer}, summary="Retrieve a survey")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(SurveySerializer(self.get_object()).data)

    def _update(self, request: Request, partial: bool) -> Response:
        payload = request.data  # parsed first: a malformed body is a 400 whatever the id
        survey = self.get_object()
        data = SurveyInputSerializer(instance=survey, data=payload, partial=partial)
        data.is_valid(raise_exception=True)
        survey = survey_update(survey=survey, user=request.user, data=data.validated_data)
        return Response(SurveySerializer(with_current_actions([survey])[0]).data)

    @extend_schema(request=SurveyInputSerializer)
    @validated_request(responses={200: SurveySerializer}, summary="Update a survey")
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=SurveyInputSerializer)
    @validated_request(
        responses={200: SurveySerializer},
        summary="Partially update a survey",
        description="Launch: set `start_date`; stop: set `end_date`; resume: clear it; `archived`.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request, partial=True)

    @validated_request(responses={204: None}, summary="Delete a survey (and its targeting flags)")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        survey_delete(survey=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @validated_request(query=StatsQuerySerializer, responses={200: SurveyStatsSerializer}, summary="Survey stats")
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        survey = self.get_object()
        query = request.validated_query
        body = survey_stats(
            team=self.team, survey_ids=[str(survey.pk)], date_from=query.get("date_from"), date_to=query.get("date_to")
        )
        extra = {"survey_id": str(survey.pk), "start_date": _iso(survey.start_date), "end_date": _iso(survey.end_date)}
        return Response({**body, **extra})

    @validated_request(
        query=StatsQuerySerializer,
        responses={200: ProjectStatsSerializer},
        summary="Stats of all the project's surveys",
        description="Over the project's non-archived surveys; empty stats and zero rates when there are none.",
    )
    @action(detail=False, methods=["get"], url_path="stats")
    def all_stats(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        ids = [str(pk) for pk in survey_list(team=self.team, archived=False).values_list("pk", flat=True)]
        body = survey_stats(
            team=self.team, survey_ids=ids, date_from=query.get("date_from"), date_to=query.get("date_to")
        )
        return Response(body)

    @validated_request(
        responses={200: {"type": "object", "additionalProperties": {"type": "integer"}}},
        summary="Responses per survey",
        description='`{"<survey id>": count}`: deduplicated `survey sent` events of each survey.',
    )
    @action(detail=False, methods=["get"])
    def responses_count(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ids = [str(pk) for pk in survey_list(team=self.team).values_list("pk", flat=True)]
        return Response(survey_responses_count(team=self.team, survey_ids=ids))
