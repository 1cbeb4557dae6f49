"""Writes on experiments, holdouts and saved metrics (reference §3.1). Creating an experiment creates (or reuses)
its multivariate feature flag through the flags app's services; a draft's variants and holdout rewrite the
flag's filters; launching (setting `start_date`) activates the flag."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django.db import transaction
from rest_framework import serializers

from cohorts.models import Cohort
from cohorts.serializers import CohortInputSerializer
from cohorts.services import cohort_create
from experiments.models import Experiment, ExperimentHoldout, ExperimentSavedMetric, ExperimentToSavedMetric
from flags.models import FeatureFlag
from flags.serializers import validate_flag_filters
from flags.services import feature_flag_create, feature_flag_update
from posthog_clone.accounts.models import Team, User

DEFAULT_VARIANTS = [
    {"key": "control", "name": "Control Group", "rollout_percentage": 50},
    {"key": "test", "name": "Test Variant", "rollout_percentage": 50},
]
UPDATABLE = frozenset(
    {
        "name", "description", "start_date", "end_date", "filters", "parameters", "archived", "deleted",
        "secondary_metrics", "holdout", "holdout_id", "exposure_criteria", "metrics", "metrics_secondary",
        "stats_config", "conclusion", "conclusion_comment", "primary_metrics_ordered_uuids",
        "secondary_metrics_ordered_uuids", "saved_metrics_ids",
    }
)  # fmt: skip
_COPIED = (
    "description", "start_date", "end_date", "filters", "secondary_metrics", "archived", "deleted", "type",
    "exposure_criteria", "conclusion", "conclusion_comment",
)  # fmt: skip


def _error(detail: str, attr: str | None = None) -> serializers.ValidationError:
    return serializers.ValidationError({attr: [detail]} if attr else detail)


def _holdout_get(*, team: Team, holdout_id: int | None) -> ExperimentHoldout | None:
    if holdout_id is None:
        return None
    holdout = ExperimentHoldout.objects.filter(team=team, pk=holdout_id).first()
    if holdout is None:
        raise _error("Holdout does not exist or does not belong to this project", "holdout_id")
    return holdout


def holdout_flag_filters(holdout: ExperimentHoldout | None) -> dict[str, Any]:
    """What a holdout puts into its experiments' flag filters: `holdout_groups` (the reference's shape) and the
    newer `holdout: {id, exclusion_percentage}` the SDKs' local evaluation reads (posthog-python 7)."""
    if holdout is None:
        return {"holdout_groups": None, "holdout": None}
    percentage = next(
        (g.get("rollout_percentage") for g in holdout.filters if g.get("rollout_percentage") is not None), 0
    )
    return {"holdout_groups": holdout.filters, "holdout": {"id": holdout.pk, "exclusion_percentage": percentage}}


def _flag_filters(*, variants: list[dict[str, Any]], parameters: dict[str, Any], holdout: Any) -> dict[str, Any]:
    return {
        "groups": [{"properties": [], "rollout_percentage": 100}],
        "multivariate": {"variants": variants},
        "aggregation_group_type_index": parameters.get("aggregation_group_type_index"),
        **holdout_flag_filters(holdout),
    }


def _check_flag_eligible(flag: FeatureFlag) -> None:
    variants = ((flag.filters or {}).get("multivariate") or {}).get("variants") or []
    if len(variants) < 2:
        raise _error("Feature flag is not eligible for experiments.", "feature_flag_key")
    if variants[0].get("key") != "control":
        raise _error("Feature flag must have control as the first variant.", "feature_flag_key")


def metric_fingerprint(metric: dict[str, Any], *, experiment: Experiment) -> str:
    """SHA-256 of the metric (without its own fingerprint), the start date, the method and the exposure
    criteria (PostHog's), plus the end date and the flag's variants: a cached result (the query cache keys on
    the metric) is reused only while none of them changed."""
    payload = {k: v for k, v in metric.items() if k != "fingerprint"}
    dates = [d.isoformat() if d else None for d in (experiment.start_date, experiment.end_date)]
    blob = json.dumps(
        [
            payload,
            dates,
            experiment.stats_config,
            experiment.exposure_criteria,
            experiment.variants,
            experiment.holdout_id,
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _prepare_metrics(experiment: Experiment) -> None:
    """Give every metric a uuid and a fingerprint; keep the ordering lists in step with the metrics."""
    for field, order_field in (
        ("metrics", "primary_metrics_ordered_uuids"),
        ("metrics_secondary", "secondary_metrics_ordered_uuids"),
    ):
        metrics = []
        order = list(getattr(experiment, order_field) or [])
        for metric in getattr(experiment, field) or []:
            metric = dict(metric)
            metric.setdefault("uuid", str(uuid.uuid4()))
            if metric.get("kind") == "ExperimentMetric":
                metric["fingerprint"] = metric_fingerprint(metric, experiment=experiment)
            if metric["uuid"] not in order:
                order.append(metric["uuid"])
            metrics.append(metric)
        setattr(experiment, field, metrics)
        setattr(experiment, order_field, order or None)


def _link_saved_metrics(*, experiment: Experiment, links: list[dict[str, Any]] | None) -> None:
    if links is None:
        return
    ids = [link["id"] for link in links]
    found = set(ExperimentSavedMetric.objects.filter(team=experiment.team, pk__in=ids).values_list("pk", flat=True))
    if set(ids) - found:
        raise _error("Saved metric does not exist or does not belong to this project", "saved_metrics_ids")
    ExperimentToSavedMetric.objects.filter(experiment=experiment).delete()
    for link in links:
        ExperimentToSavedMetric.objects.create(
            experiment=experiment, saved_metric_id=link["id"], metadata=link.get("metadata") or {"type": "primary"}
        )


def experiment_create(*, team: Team, user: User | None, data: dict[str, Any]) -> Experiment:
    parameters = dict(data.get("parameters") or {})
    stats_config = dict(data.get("stats_config") or {})
    stats_config.setdefault("method", "bayesian")  # the organization default of PostHog; no org setting here
    with transaction.atomic():
        holdout = _holdout_get(team=team, holdout_id=data.get("holdout_id"))
        flag = FeatureFlag.objects.filter(team=team, key=data["feature_flag_key"], deleted=False).first()
        if flag is not None:
            _check_flag_eligible(flag)
        else:
            filters = _flag_filters(
                variants=parameters.get("feature_flag_variants") or DEFAULT_VARIANTS,
                parameters=parameters,
                holdout=holdout,
            )
            try:
                validate_flag_filters(filters)
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"parameters": error.detail}) from None
            flag = feature_flag_create(
                team=team,
                user=user,
                data={
                    "key": data["feature_flag_key"],
                    "name": f"Feature Flag for Experiment {data['name']}",
                    "active": bool(data.get("start_date")),
                    "filters": filters,
                    "ensure_experience_continuity": bool(parameters.get("ensure_experience_continuity")),
                },
            )
        experiment = Experiment(
            team=team,
            name=data["name"],
            feature_flag=flag,
            holdout=holdout,
            parameters=parameters,
            stats_config=stats_config,
            metrics=data.get("metrics") or [],
            metrics_secondary=data.get("metrics_secondary") or [],
            primary_metrics_ordered_uuids=data.get("primary_metrics_ordered_uuids"),
            secondary_metrics_ordered_uuids=data.get("secondary_metrics_ordered_uuids"),
            created_by=user,
            **{name: data[name] for name in _COPIED if name in data and data[name] is not None},
        )
        _prepare_metrics(experiment)
        experiment.save()
        _link_saved_metrics(experiment=experiment, links=data.get("saved_metrics_ids"))
    return experiment


def _update_flag(*, experiment: Experiment, data: dict[str, Any], holdout_changed: bool) -> None:
    """A draft's variants/holdout rewrite the flag filters; launching activates the flag."""
    flag = experiment.feature_flag
    launched = experiment.start_date is not None
    variants = (data.get("parameters") or {}).get("feature_flag_variants")
    current = ((flag.filters or {}).get("multivariate") or {}).get("variants")
    if variants is not None and variants != current and launched:
        raise _error("Can't update feature_flag_variants on Experiment")
    if holdout_changed and launched and experiment.end_date is None:
        raise _error("Can't update holdout on running Experiment")
    changes: dict[str, Any] = {}
    if not launched and (variants is not None or holdout_changed):
        filters = dict(flag.filters or {})
        if variants is not None:
            filters["multivariate"] = {**(filters.get("multivariate") or {}), "variants": variants}
        if holdout_changed:
            filters.update(holdout_flag_filters(experiment.holdout))
        changes["filters"] = filters
    if not launched and data.get("start_date"):
        changes["active"] = True
    if changes:
        feature_flag_update(flag=flag, data=changes)


def experiment_update(*, experiment: Experiment, data: dict[str, Any], raw_keys: list[str]) -> Experiment:
    refused = sorted(key for key in raw_keys if key not in UPDATABLE and key in _WRITABLE)
    if refused:
        raise _error(f"Can't update keys: {', '.join(refused)} on Experiment")
    start = data.get("start_date", experiment.start_date)
    end = data.get("end_date", experiment.end_date)
    if start and end and end < start:
        raise _error("End date must be after start date", "end_date")
    with transaction.atomic():
        holdout_changed = False
        holdout_key = "holdout_id" if "holdout_id" in data else "holdout" if "holdout" in data else None
        if holdout_key is not None:
            holdout = _holdout_get(team=experiment.team, holdout_id=data[holdout_key])
            holdout_changed = holdout != experiment.holdout
            if holdout_changed and experiment.start_date is not None and experiment.end_date is None:
                raise _error("Can't update holdout on running Experiment")
            experiment.holdout = holdout
        _update_flag(experiment=experiment, data=data, holdout_changed=holdout_changed)
        if "parameters" in data:
            experiment.parameters = data["parameters"] or {}
        for name in (*_COPIED, "name", "metrics", "metrics_secondary", "stats_config"):
            if name in data and name != "type":
                setattr(experiment, name, data[name])
        for name in ("primary_metrics_ordered_uuids", "secondary_metrics_ordered_uuids"):
            if name in data:
                setattr(experiment, name, data[name])
        _prepare_metrics(experiment)
        experiment.save()
        if "saved_metrics_ids" in data:
            _link_saved_metrics(experiment=experiment, links=data["saved_metrics_ids"])
    return experiment


_WRITABLE = frozenset(
    {
        "name", "description", "start_date", "end_date", "feature_flag_key", "holdout_id", "holdout", "parameters",
        "filters", "secondary_metrics", "saved_metrics_ids", "archived", "deleted", "type", "exposure_criteria",
        "metrics", "metrics_secondary", "stats_config", "conclusion", "conclusion_comment",
        "primary_metrics_ordered_uuids", "secondary_metrics_ordered_uuids",
    }
)  # fmt: skip


def holdout_create(*, team: Team, user: User | None, data: dict[str, Any]) -> ExperimentHoldout:
    if not data.get("filters"):
        raise _error("Filters are required to create an holdout group", "filters")
    with transaction.atomic():
        holdout = ExperimentHoldout.objects.create(
            team=team, name=data["name"], description=data.get("description"), filters=[], created_by=user
        )
        holdout.filters = [{**group, "variant": f"holdout-{holdout.pk}"} for group in data["filters"]]
        holdout.save(update_fields=["filters"])
    return holdout


def holdout_update(*, holdout: ExperimentHoldout, data: dict[str, Any]) -> ExperimentHoldout:
    with transaction.atomic():
        for name in ("name", "description"):
            if name in data:
                setattr(holdout, name, data[name])
        if data.get("filters"):
            holdout.filters = [{**group, "variant": f"holdout-{holdout.pk}"} for group in data["filters"]]
            for experiment in Experiment.objects.filter(holdout=holdout, deleted=False).select_related("feature_flag"):
                flag = experiment.feature_flag
                feature_flag_update(flag=flag, data={"filters": {**flag.filters, **holdout_flag_filters(holdout)}})
        holdout.save()
    return holdout


def holdout_delete(*, holdout: ExperimentHoldout) -> None:
    if Experiment.objects.filter(holdout=holdout, deleted=False).exists():
        raise _error("Holdout is used by an experiment; remove it from the experiment first")
    holdout.delete()


def saved_metric_create(*, team: Team, user: User | None, data: dict[str, Any]) -> ExperimentSavedMetric:
    return ExperimentSavedMetric.objects.create(
        team=team,
        name=data["name"],
        description=data.get("description"),
        query=data["query"],
        tags=data.get("tags") or [],
        created_by=user,
    )


def saved_metric_update(*, metric: ExperimentSavedMetric, data: dict[str, Any]) -> ExperimentSavedMetric:
    for name in ("name", "description", "query", "tags"):
        if name in data:
            setattr(metric, name, data[name])
    metric.save()
    return metric


def experiment_exposure_cohort_create(*, experiment: Experiment, user: User | None) -> Cohort:
    """A behavioral cohort of the people who called the experiment's flag (any of its variants) since the start
    date, kept as the experiment's `exposure_cohort`."""
    if experiment.start_date is None:
        raise _error("Experiment does not have a start date")
    if experiment.exposure_cohort_id is not None:
        raise _error("Experiment already has an exposure cohort")
    key = experiment.feature_flag.key
    event_filters = [
        {"key": "$feature_flag", "value": key, "operator": "exact", "type": "event"},
        {"key": "$feature_flag_response", "value": [str(v["key"]) for v in experiment.variants], "operator": "exact",
         "type": "event"},
    ]  # fmt: skip
    behavioral = {
        "type": "behavioral", "key": "$feature_flag_called", "value": "performed_event", "event_type": "events",
        "explicit_datetime": experiment.start_date.isoformat(), "event_filters": event_filters, "negation": False,
    }  # fmt: skip
    if experiment.end_date is not None:
        behavioral["explicit_datetime_to"] = experiment.end_date.isoformat()
    payload = CohortInputSerializer(
        data={
            "name": f'Users exposed to experiment "{experiment.name}"',
            "is_static": False,
            "filters": {"properties": {"type": "OR", "values": [{"type": "AND", "values": [behavioral]}]}},
        },
        context={"team": experiment.team},
    )
    payload.is_valid(raise_exception=True)
    with transaction.atomic():
        cohort = cohort_create(team=experiment.team, user=user, data=payload.validated_data)
        experiment.exposure_cohort = cohort
        experiment.save(update_fields=["exposure_cohort", "updated_at"])
    return cohort
