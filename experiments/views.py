"""Experiments under /api/projects/:id/experiments/ (reference §3.1), with holdouts (experiment_holdouts/) and shared
metrics (experiment_saved_metrics/). All need `experiment:read|write`. DELETE soft-deletes an experiment (as
`PATCH {"deleted": true}`); holdouts and saved metrics are deleted for good. `.../:id/results/` runs the
experiment's metric as an `ExperimentQuery` through the query service (cache included)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cohorts.serializers import CohortSerializer
from experiments import selectors, services
from experiments.models import Experiment, ExperimentHoldout, ExperimentSavedMetric
from experiments.query_kinds import ExperimentQueryResponseSerializer
from experiments.serializers import (
    EmptyBodySerializer,
    ExperimentHoldoutInputSerializer,
    ExperimentHoldoutPatchSerializer,
    ExperimentHoldoutSerializer,
    ExperimentInputSerializer,
    ExperimentListQuerySerializer,
    ExperimentPatchSerializer,
    ExperimentSavedMetricInputSerializer,
    ExperimentSavedMetricPatchSerializer,
    ExperimentSavedMetricSerializer,
    ExperimentSerializer,
    ExposureCohortResponseSerializer,
)
from posthog_clone.api.base import TeamScopedViewSet
from posthog_clone.api.pagination import DefaultPagination
from posthog_clone.api.validation import validated_request
from query.exceptions import ExposedHogQLError, QueryValidationError
from query.services import run_query


class _DigitLookup:
    def get_object(self) -> Any:
        if not str(self.kwargs.get("pk", "")).isdigit():  # type: ignore[attr-defined]
            raise exceptions.NotFound()
        return super().get_object()  # type: ignore[misc]


class ResultsQuerySerializer(serializers.Serializer):
    metric_uuid = serializers.CharField(required=False, help_text="Which metric (default: the first primary one).")
    secondary = serializers.BooleanField(required=False, default=False, help_text="Index into metrics_secondary.")
    index = serializers.IntegerField(required=False, min_value=0, default=0, help_text="Metric position.")
    refresh = serializers.BooleanField(required=False, default=False, help_text="Recompute (skip the cache).")


def _metric_of(experiment: Experiment, query: dict[str, Any]) -> dict[str, Any]:
    metrics = [*(experiment.metrics or []), *(experiment.metrics_secondary or [])]
    if query.get("metric_uuid"):
        found = next((m for m in metrics if m.get("uuid") == query["metric_uuid"]), None)
    else:
        pool = experiment.metrics_secondary if query["secondary"] else experiment.metrics
        found = (pool or [])[query["index"]] if query["index"] < len(pool or []) else None
    if found is None:
        raise exceptions.ValidationError({"metric_uuid": ["The experiment has no such metric"]})
    return found


class ExperimentViewSet(_DigitLookup, TeamScopedViewSet):
    scope_object = "experiment"
    scope_object_read_actions = ("results",)
    scope_object_write_actions = ("create_exposure_cohort_for_experiment",)
    openapi_tag = "Experiments"
    queryset = Experiment.objects.all()
    serializer_class = ExperimentSerializer
    pagination_class = DefaultPagination

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(deleted=False).select_related("feature_flag", "holdout", "created_by")

    @validated_request(
        query=ExperimentListQuerySerializer,
        responses={200: ExperimentSerializer(many=True)},
        summary="List experiments",
        description="Newest first; `archived` and `search` (name) filter.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = request.validated_query
        rows = selectors.experiment_list(team=self.team, archived=query.get("archived"), search=query.get("search"))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ExperimentSerializer(page, many=True).data)

    @validated_request(
        request=ExperimentInputSerializer,
        responses={201: ExperimentSerializer},
        summary="Create an experiment",
        description="Creates its multivariate feature flag (control/test 50/50 unless "
        "`parameters.feature_flag_variants`), or reuses a live flag with that key whose first variant is control.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        experiment = services.experiment_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(ExperimentSerializer(experiment).data, status=status.HTTP_201_CREATED)

    @validated_request(responses={200: ExperimentSerializer}, summary="Retrieve an experiment")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(ExperimentSerializer(self.get_object()).data)

    def _update(self, request: Request) -> Response:
        raw = list(request.data) if isinstance(request.data, dict) else []
        experiment = services.experiment_update(experiment=self.get_object(), data=request.validated_data, raw_keys=raw)
        return Response(ExperimentSerializer(experiment).data)

    @validated_request(
        request=ExperimentPatchSerializer,
        responses={200: ExperimentSerializer},
        summary="Update an experiment",
        description="Set `start_date` to launch (activates the flag), `end_date` to stop; `archived`, `deleted`.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request)

    @validated_request(request=ExperimentPatchSerializer, responses={200: ExperimentSerializer}, summary="Update")
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request)

    @validated_request(responses={204: None}, summary="Delete an experiment (soft delete)")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.experiment_update(experiment=self.get_object(), data={"deleted": True}, raw_keys=["deleted"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @validated_request(
        query=ResultsQuerySerializer,
        responses={200: ExperimentQueryResponseSerializer},
        summary="Results of one metric",
        description="The metric (by `metric_uuid`, or `index` into the primary/secondary list) run as an "
        "ExperimentQuery: counts per variant and the statistics of the experiment's method.",
    )
    @action(detail=True, methods=["get"])
    def results(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        experiment = self.get_object()
        metric = _metric_of(experiment, request.validated_query)
        node = {"kind": "ExperimentQuery", "experiment_id": experiment.pk, "metric": metric}
        mode = "force_blocking" if request.validated_query["refresh"] else "blocking"
        try:
            outcome = run_query(self.team, node, mode)
        except ExposedHogQLError as error:
            raise QueryValidationError(error) from None
        return Response(outcome.response)

    @extend_schema(request={"application/json": {"type": "object", "description": "No body."}})
    @validated_request(
        request=EmptyBodySerializer,
        responses={201: ExposureCohortResponseSerializer},
        summary="Create the exposure cohort",
        description="A behavioral cohort: people with a `$feature_flag_called` of the experiment's flag (one of "
        "its variants) since the start date (until the end date); stored as the experiment's `exposure_cohort`.",
    )
    @action(detail=True, methods=["post"])
    def create_exposure_cohort_for_experiment(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        cohort = services.experiment_exposure_cohort_create(experiment=self.get_object(), user=request.user)
        return Response({"cohort": CohortSerializer(cohort).data}, status=status.HTTP_201_CREATED)


class ExperimentHoldoutViewSet(_DigitLookup, TeamScopedViewSet):
    scope_object = "experiment"
    openapi_tag = "Experiments"
    queryset = ExperimentHoldout.objects.all()
    serializer_class = ExperimentHoldoutSerializer
    pagination_class = DefaultPagination

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("created_by").order_by("-created_at", "-id")

    @validated_request(responses={200: ExperimentHoldoutSerializer(many=True)}, summary="List holdouts")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ExperimentHoldoutSerializer(page, many=True).data)

    @validated_request(
        request=ExperimentHoldoutInputSerializer,
        responses={201: ExperimentHoldoutSerializer},
        summary="Create a holdout",
        description="Each filter group gets `variant: holdout-<id>`.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        holdout = services.holdout_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(ExperimentHoldoutSerializer(holdout).data, status=status.HTTP_201_CREATED)

    @validated_request(responses={200: ExperimentHoldoutSerializer}, summary="Retrieve a holdout")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(ExperimentHoldoutSerializer(self.get_object()).data)

    @validated_request(
        request=ExperimentHoldoutPatchSerializer,
        responses={200: ExperimentHoldoutSerializer},
        summary="Update a holdout",
        description="New filters are copied to the flags of the experiments using the holdout.",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        holdout = services.holdout_update(holdout=self.get_object(), data=request.validated_data)
        return Response(ExperimentHoldoutSerializer(holdout).data)

    @validated_request(responses={204: None}, summary="Delete a holdout (not while an experiment uses it)")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.holdout_delete(holdout=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExperimentSavedMetricViewSet(_DigitLookup, TeamScopedViewSet):
    scope_object = "experiment"
    openapi_tag = "Experiments"
    queryset = ExperimentSavedMetric.objects.all()
    serializer_class = ExperimentSavedMetricSerializer
    pagination_class = DefaultPagination

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("created_by").order_by("-created_at", "-id")

    @validated_request(responses={200: ExperimentSavedMetricSerializer(many=True)}, summary="List shared metrics")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ExperimentSavedMetricSerializer(page, many=True).data)

    @validated_request(
        request=ExperimentSavedMetricInputSerializer,
        responses={201: ExperimentSavedMetricSerializer},
        summary="Create a shared metric",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        metric = services.saved_metric_create(team=self.team, user=request.user, data=request.validated_data)
        return Response(ExperimentSavedMetricSerializer(metric).data, status=status.HTTP_201_CREATED)

    @validated_request(responses={200: ExperimentSavedMetricSerializer}, summary="Retrieve a shared metric")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(ExperimentSavedMetricSerializer(self.get_object()).data)

    @validated_request(
        request=ExperimentSavedMetricPatchSerializer,
        responses={200: ExperimentSavedMetricSerializer},
        summary="Update a shared metric",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        metric = services.saved_metric_update(metric=self.get_object(), data=request.validated_data)
        return Response(ExperimentSavedMetricSerializer(metric).data)

    @validated_request(responses={204: None}, summary="Delete a shared metric")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
