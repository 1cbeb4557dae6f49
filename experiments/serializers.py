"""Request and response shapes of /api/projects/:id/experiments/, experiment_holdouts/ and
experiment_saved_metrics/ (reference §3.1). Field rules live here; rules needing the database in services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cohorts.serializers import CohortSerializer
from experiments.models import Experiment, ExperimentHoldout, ExperimentSavedMetric
from flags.serializers import KEY_PATTERN
from posthog_clone.accounts.serializers import UserBasicSerializer
from query.kinds.funnels_engine import WINDOW_SECONDS
from query.kinds.series import NODE_SERIALIZERS

MAX_VARIANTS = 20
METRIC_TYPES = ("mean", "funnel", "ratio")
LEGACY_METRIC_KINDS = ("ExperimentTrendsQuery", "ExperimentFunnelsQuery")
WINDOW_UNITS = tuple(WINDOW_SECONDS)


class MinimalFeatureFlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team_id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    filters = serializers.JSONField()
    active = serializers.BooleanField()
    deleted = serializers.BooleanField()
    ensure_experience_continuity = serializers.BooleanField()
    version = serializers.IntegerField()


class ExperimentHoldoutSerializer(serializers.ModelSerializer):
    created_by = UserBasicSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ExperimentHoldout
        fields = ["id", "name", "description", "filters", "created_by", "created_at", "updated_at"]
        read_only_fields = fields


class ExperimentHoldoutInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=400, help_text="Name of the holdout group.")
    description = serializers.CharField(
        max_length=400, required=False, allow_blank=True, allow_null=True, help_text="Free text."
    )
    filters = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='Who is held out: `[{"properties": [], "rollout_percentage": 10}]`; the variant '
        "`holdout-<id>` is added on save.",
    )

    def validate_filters(self, value: Any) -> Any:
        if not value or not isinstance(value, list) or not all(isinstance(g, dict) for g in value):
            raise serializers.ValidationError("Filters are required to create an holdout group")
        for group in value:
            pct = group.get("rollout_percentage")
            if pct is not None and (isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct <= 100):
                raise serializers.ValidationError("rollout_percentage must be between 0 and 100")
        return value


class ExperimentHoldoutPatchSerializer(ExperimentHoldoutInputSerializer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class ExperimentSavedMetricSerializer(serializers.ModelSerializer):
    created_by = UserBasicSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ExperimentSavedMetric
        fields = ["id", "name", "description", "query", "tags", "created_by", "created_at", "updated_at"]
        read_only_fields = fields


def _node(value: Any, name: str) -> dict[str, Any]:
    """An EventsNode or ActionsNode, checked as the insight kinds check their series."""
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind not in NODE_SERIALIZERS:
        raise serializers.ValidationError(f"`{name}` must be an EventsNode or an ActionsNode")
    node = NODE_SERIALIZERS[kind](data=value)
    if not node.is_valid():
        field, errors = next(iter(node.errors.items()))
        raise serializers.ValidationError(f"`{name}.{field}`: {errors[0] if isinstance(errors, list) else errors}")
    return {**value, **node.validated_data}


def _check_options(value: dict[str, Any]) -> None:
    window = value.get("conversion_window")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 0):
        raise serializers.ValidationError("conversion_window must be a non-negative integer")
    if value.get("conversion_window_unit") not in (None, *WINDOW_UNITS):
        raise serializers.ValidationError(f"conversion_window_unit must be one of {', '.join(WINDOW_UNITS)}")
    if value.get("goal") not in (None, "increase", "decrease"):
        raise serializers.ValidationError("goal must be increase or decrease")
    if value.get("funnel_order_type") not in (None, "ordered", "unordered", "strict"):
        raise serializers.ValidationError("funnel_order_type must be ordered, unordered or strict")
    for name in ("lower_bound_percentile", "upper_bound_percentile"):
        bound = value.get(name)
        if bound is not None and (
            isinstance(bound, bool) or not isinstance(bound, (int, float)) or not 0 <= bound <= 1
        ):
            raise serializers.ValidationError(f"{name} must be between 0 and 1")


def validate_metric(value: Any) -> dict[str, Any]:
    """An ExperimentMetric (mean, funnel, ratio) or a legacy ExperimentTrendsQuery/ExperimentFunnelsQuery."""
    if not isinstance(value, dict):
        raise serializers.ValidationError("Each metric must be an object.")
    kind = value.get("kind")
    if kind in LEGACY_METRIC_KINDS:
        return value
    if kind != "ExperimentMetric":
        raise serializers.ValidationError(f"Unknown metric kind: {kind}")
    metric_type = value.get("metric_type")
    if metric_type not in METRIC_TYPES:
        raise serializers.ValidationError(f"metric_type must be one of {', '.join(METRIC_TYPES)}")
    _check_options(value)
    metric = dict(value)
    if metric_type == "funnel":
        series = value.get("series")
        if not isinstance(series, list) or not series:
            raise serializers.ValidationError("A funnel metric needs `series`, a list of steps")
        metric["series"] = [_node(step, f"series.{i}") for i, step in enumerate(series)]
        return metric
    for name in ("source",) if metric_type == "mean" else ("numerator", "denominator"):
        if not value.get(name):
            raise serializers.ValidationError(f"A {metric_type} metric needs `{name}`")
        metric[name] = _node(value[name], name)
    return metric


class ExperimentSavedMetricInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=400, help_text="Name of the shared metric.")
    description = serializers.CharField(max_length=400, required=False, allow_blank=True, allow_null=True)
    query = serializers.JSONField(help_text="An ExperimentMetric (mean, funnel or ratio).")
    tags = serializers.ListField(child=serializers.CharField(), required=False, help_text="Tags.")

    def validate_query(self, value: Any) -> dict[str, Any]:
        return validate_metric(value)


class ExperimentSerializer(serializers.ModelSerializer):
    feature_flag_key = serializers.CharField(source="feature_flag.key", read_only=True)
    feature_flag = MinimalFeatureFlagSerializer(read_only=True)
    holdout = ExperimentHoldoutSerializer(read_only=True, allow_null=True)
    holdout_id = serializers.IntegerField(read_only=True, allow_null=True)
    exposure_cohort = serializers.IntegerField(source="exposure_cohort_id", read_only=True, allow_null=True)
    saved_metrics = serializers.SerializerMethodField(help_text="Shared metrics attached, with their role.")
    created_by = UserBasicSerializer(read_only=True, allow_null=True)
    user_access_level = serializers.SerializerMethodField(help_text="Always `editor` here (no access control).")

    class Meta:
        model = Experiment
        fields = [
            "id",
            "name",
            "description",
            "start_date",
            "end_date",
            "feature_flag_key",
            "feature_flag",
            "holdout",
            "holdout_id",
            "exposure_cohort",
            "parameters",
            "secondary_metrics",
            "saved_metrics",
            "filters",
            "archived",
            "deleted",
            "created_by",
            "created_at",
            "updated_at",
            "type",
            "exposure_criteria",
            "metrics",
            "metrics_secondary",
            "stats_config",
            "conclusion",
            "conclusion_comment",
            "primary_metrics_ordered_uuids",
            "secondary_metrics_ordered_uuids",
            "user_access_level",
        ]
        read_only_fields = fields

    def get_saved_metrics(self, experiment: Experiment) -> list[dict[str, Any]]:
        links = experiment.experimenttosavedmetric_set.select_related("saved_metric").order_by("id")
        return [
            {
                "id": link.id,
                "experiment": experiment.pk,
                "saved_metric": link.saved_metric_id,
                "metadata": link.metadata,
                "created_at": link.created_at.isoformat(),
                "query": link.saved_metric.query,
                "name": link.saved_metric.name,
            }
            for link in links
        ]

    def get_user_access_level(self, experiment: Experiment) -> str:
        return "editor"


class SavedMetricLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="A saved metric of the project.")
    metadata = serializers.DictField(required=False, help_text='`{"type": "primary" | "secondary"}`.')

    def validate_metadata(self, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("type", "primary") not in ("primary", "secondary"):
            raise serializers.ValidationError("metadata.type must be primary or secondary")
        return value


def _metrics_field(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=serializers.JSONField(), required=False, allow_null=True, help_text=help_text)


class ExperimentInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=400, help_text="Name of the experiment.")
    description = serializers.CharField(max_length=400, required=False, allow_blank=True, allow_null=True)
    start_date = serializers.DateTimeField(required=False, allow_null=True, help_text="Set to launch (null: draft).")
    end_date = serializers.DateTimeField(required=False, allow_null=True, help_text="Set to stop the experiment.")
    feature_flag_key = serializers.CharField(max_length=400, help_text="Flag key; an existing flag is reused.")
    holdout_id = serializers.IntegerField(required=False, allow_null=True, help_text="A holdout of the project.")
    holdout = serializers.IntegerField(required=False, allow_null=True, help_text="Alias of holdout_id on update.")
    parameters = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="feature_flag_variants, minimum_detectable_effect, recommended_sample_size, "
        "recommended_running_time, aggregation_group_type_index, ensure_experience_continuity.",
    )
    filters = serializers.JSONField(required=False, allow_null=True, help_text="Legacy metric filters.")
    secondary_metrics = serializers.JSONField(required=False, allow_null=True, help_text="Legacy.")
    saved_metrics_ids = SavedMetricLinkSerializer(many=True, required=False, allow_null=True)
    archived = serializers.BooleanField(required=False, help_text="Hide from the default list.")
    deleted = serializers.BooleanField(required=False, help_text="Soft-delete.")
    type = serializers.ChoiceField(choices=Experiment.Type.choices, required=False, allow_null=True)
    exposure_criteria = serializers.JSONField(required=False, allow_null=True, help_text="Who counts as exposed.")
    metrics = _metrics_field("Primary ExperimentMetrics.")
    metrics_secondary = _metrics_field("Secondary ExperimentMetrics.")
    stats_config = serializers.JSONField(
        required=False, allow_null=True, help_text='`{"method": "bayesian" | "frequentist"}`.'
    )
    conclusion = serializers.ChoiceField(choices=Experiment.Conclusion.choices, required=False, allow_null=True)
    conclusion_comment = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    primary_metrics_ordered_uuids = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True
    )
    secondary_metrics_ordered_uuids = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True
    )

    def validate_feature_flag_key(self, value: str) -> str:
        if not KEY_PATTERN.match(value):
            raise serializers.ValidationError(
                "Only letters, numbers, hyphens (-) & underscores (_) are allowed.", code="invalid_key"
            )
        return value

    def validate_parameters(self, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, dict):
            raise serializers.ValidationError("parameters must be an object.")
        variants = value.get("feature_flag_variants")
        if variants is not None:
            if not isinstance(variants, list) or not all(isinstance(v, dict) and v.get("key") for v in variants):
                raise serializers.ValidationError("Feature flag variants must be a list of objects with a key")
            if "control" not in [v["key"] for v in variants]:
                raise serializers.ValidationError("Feature flag variants must contain a control variant")
            if len(variants) > MAX_VARIANTS:
                raise serializers.ValidationError("Feature flag variants must be less than 21")
        return value

    def validate_metrics(self, value: Any) -> Any:
        return [validate_metric(m) for m in value or []]

    def validate_saved_metrics_ids(self, value: Any) -> Any:
        if value and any(not isinstance(link, dict) for link in value):
            raise serializers.ValidationError("Each saved metric must be an object with an id")
        return value

    def validate_metrics_secondary(self, value: Any) -> Any:
        return [validate_metric(m) for m in value or []]

    def validate_stats_config(self, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, dict) or value.get("method", "bayesian") not in ("bayesian", "frequentist"):
            raise serializers.ValidationError('stats_config.method must be "bayesian" or "frequentist"')
        return value

    def validate_exposure_criteria(self, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, dict):
            raise serializers.ValidationError("Invalid exposure criteria")
        if "filterTestAccounts" in value and not isinstance(value["filterTestAccounts"], bool):
            raise serializers.ValidationError("filterTestAccounts must be a boolean")
        config = value.get("exposure_config")
        if config is not None and (
            not isinstance(config, dict)
            or config.get("kind") not in ("ExperimentEventExposureConfig", "ActionsNode")
            or (config.get("kind") == "ExperimentEventExposureConfig" and not config.get("event"))
        ):
            raise serializers.ValidationError("Invalid exposure criteria")
        if value.get("multiple_variant_handling") not in (None, "exclude", "first_seen"):
            raise serializers.ValidationError("Invalid exposure criteria")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": ["End date must be after start date"]})
        if isinstance(attrs.get("filters"), dict) and attrs["filters"].get("properties"):
            raise serializers.ValidationError({"filters": ["Experiments do not support global filter properties"]})
        return attrs


class ExperimentPatchSerializer(ExperimentInputSerializer):
    """Partial: every field optional."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class ExperimentListQuerySerializer(serializers.Serializer):
    archived = serializers.BooleanField(required=False, allow_null=True, default=None, help_text="Filter.")
    search = serializers.CharField(required=False, help_text="Name contains (case-insensitive).")
    limit = serializers.IntegerField(required=False, min_value=1, help_text="Page size.")
    offset = serializers.IntegerField(required=False, min_value=0, help_text="Page start.")


class EmptyBodySerializer(serializers.Serializer):
    """No fields: the action takes no body (anything sent is ignored)."""


class ExposureCohortResponseSerializer(serializers.Serializer):
    cohort = CohortSerializer(help_text="The new cohort.")


class ExperimentSavedMetricPatchSerializer(ExperimentSavedMetricInputSerializer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)
