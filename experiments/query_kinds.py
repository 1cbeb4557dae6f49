"""`ExperimentQuery` and `ExperimentExposureQuery` (reference §3.2–3.3; the legacy ExperimentFunnelsQuery and
ExperimentTrendsQuery are in `experiments.query_kinds_legacy`), query kinds of `POST /query/` that the
experiments app adds to `query.kinds.KINDS` from its AppConfig (the query app knows no experiment). Each builds
HogQL (`experiments.query_builder`) and runs it through `query.runner.hogql_execute`; the statistics are
`experiments.stats`'s current engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers
from scipy import stats as scipy_stats

from experiments.models import Experiment
from experiments.query_builder import (
    MULTIPLE,
    ExperimentScope,
    MetricError,
    exposure_timeseries_query,
    funnel_query,
    mean_quantiles_query,
    mean_query,
    ratio_query,
)
from experiments.query_kinds_legacy import EXPERIMENT_FUNNELS_QUERY, EXPERIMENT_TRENDS_QUERY
from experiments.selectors import experiment_get
from experiments.serializers import LEGACY_METRIC_KINDS, validate_metric
from experiments.stats.results import NoControlVariant, experiment_result
from posthog_clone.accounts.models import Team
from query import clock
from query.hogql.errors import HogQLQueryError
from query.kinds.base import KINDS, CachedResponseSerializer, QueryKind, StrictSerializer, no_overrides
from query.references import resolve_actions
from query.runner import hogql_execute
from query.selectors import property_types_for_team

SRM_MIN_SAMPLE = 100


class ExperimentQuerySerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=["ExperimentQuery"], help_text='"ExperimentQuery".')
    experiment_id = serializers.IntegerField(help_text="The experiment: its flag, dates, exposure and method.")
    metric = serializers.JSONField(help_text="An ExperimentMetric (mean, funnel or ratio).")
    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="A label.")
    modifiers = serializers.DictField(required=False, help_text="Accepted, ignored.")
    version = serializers.FloatField(required=False, allow_null=True, help_text="Schema version (accepted).")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")

    def validate_metric(self, value: Any) -> Any:
        metric = validate_metric(value)
        if metric.get("kind") in LEGACY_METRIC_KINDS:
            raise serializers.ValidationError("Legacy metrics are answered by ExperimentTrendsQuery/FunnelsQuery")
        return metric


VARIANT_HELP = (
    "`{key, number_of_samples, sum, sum_squares, validation_failures}` plus `step_counts` (funnels) or "
    "`denominator_sum`, `denominator_sum_squares`, `numerator_denominator_sum_product` (ratios). "
    "validation_failures: not-enough-exposures (n < 50), not-enough-metric-data (funnel sum < 5), "
    "baseline-mean-is-zero."
)
STATS_HELP = (
    " When neither it nor the baseline fails validation: bayesian `method`, `chance_to_win` (P(effect > 0)), "
    "`credible_interval` (95%, relative effect), `significant` (chance > 0.95 or < 0.05); or frequentist `method`, "
    "`p_value` (two-sided Welch t), `confidence_interval`, `significant` (p < 0.05)."
)


class ExperimentQueryResponseSerializer(CachedResponseSerializer):
    kind = serializers.CharField(help_text='"ExperimentQuery".')
    metric = serializers.JSONField(help_text="The metric evaluated.")
    baseline = serializers.JSONField(help_text="The control variant: " + VARIANT_HELP)
    variant_results = serializers.ListField(
        child=serializers.JSONField(), help_text="Every other variant: " + VARIANT_HELP + STATS_HELP
    )
    hogql = serializers.CharField(help_text="The HogQL that ran.")
    modifiers = serializers.DictField(help_text="Echoed.")


class ExperimentExposureQuerySerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=["ExperimentExposureQuery"], help_text='"ExperimentExposureQuery".')
    experiment_id = serializers.IntegerField(required=False, allow_null=True, help_text="The experiment.")
    experiment_name = serializers.CharField(required=False, allow_blank=True, help_text="Accepted.")
    feature_flag = serializers.DictField(required=False, help_text="The flag (its key and filters.multivariate).")
    start_date = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: the experiment's.")
    end_date = serializers.DateTimeField(required=False, allow_null=True, help_text="Default: the experiment's.")
    exposure_criteria = serializers.DictField(required=False, allow_null=True, help_text="Default: the experiment's.")
    holdout = serializers.DictField(required=False, allow_null=True, help_text="Its id adds `holdout-<id>`.")
    modifiers = serializers.DictField(required=False, help_text="Accepted, ignored.")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")

    def validate_feature_flag(self, value: dict[str, Any]) -> dict[str, Any]:
        filters = value.get("filters", {})
        multivariate = filters.get("multivariate") if isinstance(filters, dict) else None
        variants = (multivariate or {}).get("variants", []) if isinstance(multivariate or {}, dict) else None
        if (
            not isinstance(value.get("key", ""), str)
            or not isinstance(filters, dict)
            or not isinstance(variants, list)
            or not all(isinstance(v, dict) and isinstance(v.get("key"), str) for v in variants)
            or not isinstance(filters.get("aggregation_group_type_index"), (int, type(None)))
        ):
            raise serializers.ValidationError("feature_flag must be a flag: {key, filters: {multivariate: {variants}}}")
        return value

    def validate_holdout(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value and not isinstance(value.get("id"), (int, type(None))):
            raise serializers.ValidationError("holdout.id must be an integer")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("experiment_id") is None and not (attrs.get("feature_flag") or {}).get("key"):
            raise serializers.ValidationError({"experiment_id": ["Give experiment_id or feature_flag"]})
        return attrs


class ExposureTimeseriesSerializer(serializers.Serializer):
    variant = serializers.CharField()
    days = serializers.ListField(child=serializers.CharField())
    exposure_counts = serializers.ListField(child=serializers.IntegerField(), help_text="Cumulative.")


class ExperimentExposureResponseSerializer(CachedResponseSerializer):
    kind = serializers.CharField(help_text='"ExperimentExposureQuery".')
    timeseries = ExposureTimeseriesSerializer(many=True)
    total_exposures = serializers.DictField(child=serializers.IntegerField(), help_text="Entities per variant.")
    date_range = serializers.DictField(help_text="date_from, date_to.")
    sample_ratio_mismatch = serializers.JSONField(
        allow_null=True, help_text="{expected, p_value}: chi-square against the rollout (null below 100 entities)."
    )
    modifiers = serializers.DictField(help_text="Echoed.")


def _experiment(team: Team, experiment_id: int) -> Experiment:
    experiment = experiment_get(team_id=team.pk, experiment_id=experiment_id)
    if experiment is None:
        raise HogQLQueryError(f"Experiment with id {experiment_id} does not exist")
    return experiment


def _variant_keys(variants: list[dict[str, Any]], holdout_id: int | None) -> list[str]:
    keys = [str(v["key"]) for v in variants]
    return [*keys, f"holdout-{holdout_id}"] if holdout_id else keys


def _scope(
    team: Team,
    *,
    flag_key: str,
    variants: list[str],
    start: dt.datetime | None,
    end: dt.datetime | None,
    exposure_criteria: dict[str, Any] | None,
    group_index: int | None,
) -> ExperimentScope:
    now = clock.now()
    if start is None:
        raise HogQLQueryError("The experiment has not started (no start_date)")
    criteria = resolve_actions(team.pk, dict(exposure_criteria or {}))
    return ExperimentScope(
        flag_key=flag_key,
        variants=variants,
        start=start,
        end=min(end, now) if end else now,
        exposure_criteria=criteria,
        test_account_filters=team.test_account_filters,
        aggregation_group_type_index=group_index,
        property_types=property_types_for_team(team=team),
        timezone=team.timezone or "UTC",
        now=now,
    )


def experiment_scope(team: Team, experiment: Experiment) -> ExperimentScope:
    return _scope(
        team,
        flag_key=experiment.feature_flag.key,
        variants=_variant_keys(experiment.variants, experiment.holdout_id),
        start=experiment.start_date,
        end=experiment.end_date,
        exposure_criteria=experiment.exposure_criteria,
        group_index=(experiment.parameters or {}).get("aggregation_group_type_index"),
    )


def _rows(team: Team, query: str, limit_context: str) -> tuple[list[dict[str, Any]], str]:
    result = hogql_execute(team=team, query=query, limit_context=limit_context)
    return [dict(zip(result.columns, row, strict=True)) for row in result.results], result.hogql


def _metric_rows(team: Team, scope: ExperimentScope, metric: dict[str, Any], limit_context: str) -> tuple[list, str]:
    metric_type = metric["metric_type"]
    if metric_type == "funnel":
        rows, hogql = _rows(team, funnel_query(scope, metric), limit_context)
        return [{**row, "sum_squares": row["sum"]} for row in rows], hogql
    if metric_type == "ratio":
        return _rows(team, ratio_query(scope, metric), limit_context)
    bounds = None
    quantiles = mean_quantiles_query(scope, metric)
    if quantiles is not None:
        found = hogql_execute(team=team, query=quantiles, limit_context=limit_context).results
        if found and found[0][0] is not None and found[0][1] is not None:
            bounds = (float(found[0][0]), float(found[0][1]))
    return _rows(team, mean_query(scope, metric, bounds), limit_context)


def _empty(key: str, metric: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"key": key, "number_of_samples": 0, "sum": 0, "sum_squares": 0}
    if metric["metric_type"] == "funnel":
        row["step_counts"] = [0] * len(metric["series"])
    if metric["metric_type"] == "ratio":
        row.update(denominator_sum=0, denominator_sum_squares=0, numerator_denominator_sum_product=0)
    return row


def run_experiment_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    experiment = _experiment(team, query["experiment_id"])
    metric = query["metric"]
    scope = experiment_scope(team, experiment)
    try:
        rows, hogql = _metric_rows(team, scope, metric, limit_context)
    except MetricError as error:
        raise HogQLQueryError(str(error)) from None
    by_key = {str(row.pop("variant")): row for row in rows}
    ordered = [{**_empty(key, metric), **by_key.get(key, {}), "key": key} for key in scope.variants]
    try:
        result = experiment_result(ordered, metric["metric_type"], experiment.stats_method)
    except NoControlVariant as error:
        raise HogQLQueryError(str(error)) from None
    return {"kind": "ExperimentQuery", "metric": metric, **result, "hogql": hogql}


def _cumulative(days: list[dt.date], counts: dict[dt.date, int]) -> list[int]:
    total, out = 0, []
    for day in days:
        total += counts.get(day, 0)
        out.append(total)
    return out


def _srm(totals: dict[str, int], rollout: dict[str, float]) -> dict[str, Any] | None:
    keys = [key for key in rollout if rollout[key] > 0]
    total = sum(totals.get(key, 0) for key in keys)
    if total < SRM_MIN_SAMPLE or len(keys) < 2:
        return None
    share = sum(rollout[key] for key in keys)
    expected = {key: total * rollout[key] / share for key in keys}
    found = scipy_stats.chisquare([totals.get(key, 0) for key in keys], [expected[key] for key in keys])
    return {"expected": expected, "p_value": float(found.pvalue)}


def run_exposure_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    experiment = _experiment(team, query["experiment_id"]) if query.get("experiment_id") is not None else None
    flag = query.get("feature_flag") or {}
    variants = ((flag.get("filters") or {}).get("multivariate") or {}).get("variants")
    if variants is None:
        variants = experiment.variants if experiment else []
    holdout_id = (query.get("holdout") or {}).get("id") or (experiment.holdout_id if experiment else None)
    start = query.get("start_date") or (experiment.start_date if experiment else None)
    end = query.get("end_date", experiment.end_date if experiment else None)
    criteria = query.get("exposure_criteria")
    scope = _scope(
        team,
        flag_key=flag.get("key") or (experiment.feature_flag.key if experiment else ""),
        variants=_variant_keys(variants, holdout_id),
        start=start,
        end=end,
        exposure_criteria=criteria if criteria is not None else (experiment.exposure_criteria if experiment else None),
        group_index=(flag.get("filters") or {}).get("aggregation_group_type_index"),
    )
    rows, _ = _rows(team, exposure_timeseries_query(scope), limit_context)
    first = scope.start.astimezone(dt.UTC).date()
    last = max([first, *(dt.date.fromisoformat(str(r["day"])) for r in rows)], default=first)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    per_variant: dict[str, dict[dt.date, int]] = {}
    for row in rows:
        per_variant.setdefault(str(row["variant"]), {})[dt.date.fromisoformat(str(row["day"]))] = int(row["entities"])
    order = [*scope.variants, *([MULTIPLE] if MULTIPLE in per_variant else [])]
    timeseries = [
        {"variant": key, "days": [d.isoformat() for d in days], "exposure_counts": _cumulative(days, per_variant[key])}
        for key in order
        if key in per_variant
    ]
    totals = {key: sum(per_variant[key].values()) for key in order if key in per_variant}
    rollout = {str(v["key"]): float(v.get("rollout_percentage") or 0) for v in variants}
    return {
        "kind": "ExperimentExposureQuery",
        "timeseries": timeseries,
        "total_exposures": totals,
        "date_range": {"date_from": scope.start.isoformat(), "date_to": end.isoformat() if end else None},
        "sample_ratio_mismatch": _srm(totals, rollout),
    }


EXPERIMENT_QUERY = QueryKind(
    name="ExperimentQuery",
    request=ExperimentQuerySerializer,
    response=ExperimentQueryResponseSerializer,
    run=run_experiment_query,
    apply_overrides=no_overrides,
)
EXPERIMENT_EXPOSURE_QUERY = QueryKind(
    name="ExperimentExposureQuery",
    request=ExperimentExposureQuerySerializer,
    response=ExperimentExposureResponseSerializer,
    run=run_exposure_query,
    apply_overrides=no_overrides,
)


def register() -> None:
    """Called from ExperimentsConfig.ready(): the /query/ endpoint answers these kinds from then on."""
    for kind in (EXPERIMENT_QUERY, EXPERIMENT_EXPOSURE_QUERY, EXPERIMENT_FUNNELS_QUERY, EXPERIMENT_TRENDS_QUERY):
        KINDS.setdefault(kind.name, kind)
