"""The legacy experiment kinds (reference §3.5, stats_version 2): `ExperimentFunnelsQuery {experiment_id,
funnels_query}` and `ExperimentTrendsQuery {experiment_id, count_query, exposure_query?}`. The insight query is run
by its own kind (FunnelsQuery/TrendsQuery, HogQL through the query app) broken down by `$feature/<key>` over the
experiment's dates; the variants' counts feed `experiments.stats.legacy`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from experiments.models import Experiment
from experiments.selectors import experiment_get
from experiments.stats.legacy import funnel_result, trends_continuous_result, trends_count_result
from posthog_clone.accounts.models import Team
from query.hogql.errors import HogQLQueryError
from query.kinds.base import KINDS, CachedResponseSerializer, QueryKind, StrictSerializer, no_overrides
from query.references import resolve_actions

CONTINUOUS_MATHS = ("sum", "avg")


class _LegacySerializer(StrictSerializer):
    experiment_id = serializers.IntegerField(help_text="The experiment: its flag and dates.")
    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="A label.")
    modifiers = serializers.DictField(required=False, help_text="Accepted, ignored.")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")


class ExperimentFunnelsQuerySerializer(_LegacySerializer):
    kind = serializers.ChoiceField(choices=["ExperimentFunnelsQuery"], help_text='"ExperimentFunnelsQuery".')
    funnels_query = serializers.DictField(help_text="A FunnelsQuery; it is broken down by `$feature/<flag key>`.")


class ExperimentTrendsQuerySerializer(_LegacySerializer):
    kind = serializers.ChoiceField(choices=["ExperimentTrendsQuery"], help_text='"ExperimentTrendsQuery".')
    count_query = serializers.DictField(help_text="A TrendsQuery: the metric (count, or sum/avg of a property).")
    exposure_query = serializers.DictField(
        required=False, allow_null=True, help_text="A TrendsQuery of exposures; default: `$feature_flag_called` users."
    )


class _LegacyResponseSerializer(CachedResponseSerializer):
    kind = serializers.CharField(help_text="The kind asked.")
    insight = serializers.JSONField(help_text="The insight's results (per variant).")
    variants = serializers.ListField(child=serializers.DictField(), help_text="Per-variant counts.")
    probability = serializers.DictField(child=serializers.FloatField(), help_text="P(variant is best).")
    significant = serializers.BooleanField(help_text="significance_code is significant.")
    significance_code = serializers.CharField(
        help_text="significant, not_enough_exposure, low_win_probability, high_loss."
    )
    credible_intervals = serializers.DictField(help_text="95% interval per variant.")
    stats_version = serializers.IntegerField(help_text="2.")
    modifiers = serializers.DictField(help_text="Echoed.")


class ExperimentFunnelsResponseSerializer(_LegacyResponseSerializer):
    funnels_query = serializers.DictField(help_text="The FunnelsQuery that ran.")
    expected_loss = serializers.FloatField(help_text="0 when significant, else 1.")


class ExperimentTrendsResponseSerializer(_LegacyResponseSerializer):
    count_query = serializers.DictField(help_text="The TrendsQuery that ran.")
    exposure_query = serializers.DictField(help_text="The exposure TrendsQuery that ran.")
    p_value = serializers.FloatField(help_text="The expected loss when significant, else 1.")


def _experiment(team: Team, experiment_id: int) -> Experiment:
    experiment = experiment_get(team_id=team.pk, experiment_id=experiment_id)
    if experiment is None:
        raise HogQLQueryError(f"Experiment with id {experiment_id} does not exist")
    if experiment.start_date is None:
        raise HogQLQueryError("The experiment has not started (no start_date)")
    return experiment


def _run_insight(team: Team, kind: str, node: dict[str, Any], experiment: Experiment, breakdown: str, ctx: str) -> Any:
    node = {
        **node,
        "kind": kind,
        "breakdownFilter": {"breakdown": breakdown, "breakdown_type": "event"},
        "dateRange": {
            "date_from": experiment.start_date.isoformat(),
            "date_to": experiment.end_date.isoformat() if experiment.end_date else None,
            "explicitDate": True,
        },
    }
    checked = KINDS[kind].request(data=node)
    if not checked.is_valid():
        raise serializers.ValidationError(checked.errors)
    validated = dict(checked.validated_data)
    return KINDS[kind].run(team, resolve_actions(team.pk, validated), ctx)["results"], validated


def _value(item: dict[str, Any]) -> str:
    value = item.get("breakdown_value")
    return str(value[0] if isinstance(value, list) and value else value)


def run_funnels(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    experiment = _experiment(team, query["experiment_id"])
    key = experiment.feature_flag.key
    results, node = _run_insight(
        team, "FunnelsQuery", query["funnels_query"], experiment, f"$feature/{key}", limit_context
    )
    by_variant = {_value(steps[0]): steps for steps in results if steps}
    variants = []
    for variant in experiment.variants:
        steps = by_variant.get(str(variant["key"]))
        entered, converted = (steps[0]["count"], steps[-1]["count"]) if steps else (0, 0)
        variants.append({"key": str(variant["key"]), "success_count": converted, "failure_count": entered - converted})
    return {"kind": "ExperimentFunnelsQuery", "funnels_query": node, "insight": results, **funnel_result(variants)}


def _default_exposure(key: str) -> dict[str, Any]:
    flag = {"key": "$feature_flag", "value": key, "operator": "exact", "type": "event"}
    return {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "$feature_flag_called", "math": "dau", "properties": [flag]}],
        "trendsFilter": {"display": "BoldNumber"},
    }


def _totals(results: list[dict[str, Any]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for item in results:
        value = item.get("aggregated_value") if item.get("aggregated_value") is not None else item.get("count")
        totals[_value(item)] = totals.get(_value(item), 0) + float(value or 0)
    return totals


def run_trends(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    experiment = _experiment(team, query["experiment_id"])
    key = experiment.feature_flag.key
    count_results, count_node = _run_insight(
        team, "TrendsQuery", query["count_query"], experiment, f"$feature/{key}", limit_context
    )
    custom = query.get("exposure_query")
    exposure_results, exposure_node = _run_insight(
        team,
        "TrendsQuery",
        custom or _default_exposure(key),
        experiment,
        f"$feature/{key}" if custom else "$feature_flag_response",
        limit_context,
    )
    counts, exposures = _totals(count_results), _totals(exposure_results)
    control = exposures.get("control") or 1
    math = (count_node["series"][0].get("math") or "total") if count_node.get("series") else "total"
    continuous = math in CONTINUOUS_MATHS
    variants = []
    for variant in experiment.variants:
        name = str(variant["key"])
        absolute = exposures.get(name, 0)
        count = counts.get(name, 0)
        if continuous and math == "sum":
            count = count / absolute if absolute else 0.0
        variants.append({"key": name, "count": count, "exposure": absolute / control, "absolute_exposure": absolute})
    stats = trends_continuous_result(variants) if continuous else trends_count_result(variants)
    return {
        "kind": "ExperimentTrendsQuery",
        "count_query": count_node,
        "exposure_query": exposure_node,
        "insight": count_results,
        **stats,
    }


EXPERIMENT_FUNNELS_QUERY = QueryKind(
    name="ExperimentFunnelsQuery",
    request=ExperimentFunnelsQuerySerializer,
    response=ExperimentFunnelsResponseSerializer,
    run=run_funnels,
    apply_overrides=no_overrides,
)
EXPERIMENT_TRENDS_QUERY = QueryKind(
    name="ExperimentTrendsQuery",
    request=ExperimentTrendsQuerySerializer,
    response=ExperimentTrendsResponseSerializer,
    run=run_trends,
    apply_overrides=no_overrides,
)
