"""Experiments: a multivariate feature flag plus the metrics measured over the events of its variants.
Draft while `start_date` is null, running once it is set, stopped when `end_date` is set; soft-deleted.
Holdouts hold a share of users out of every experiment that uses them; saved metrics are shared metrics."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ExperimentHoldout(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=400)
    description = models.CharField(max_length=400, blank=True, null=True)
    # [{"properties": [], "rollout_percentage": 10, "variant": "holdout-<id>"}]
    filters = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class ExperimentSavedMetric(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=400)
    description = models.CharField(max_length=400, blank=True, null=True)
    query = models.JSONField()  # an ExperimentMetric (or a legacy ExperimentTrendsQuery/ExperimentFunnelsQuery)
    tags = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Experiment(models.Model):
    class Type(models.TextChoices):
        WEB = "web"
        PRODUCT = "product"

    class Conclusion(models.TextChoices):
        WON = "won"
        LOST = "lost"
        INCONCLUSIVE = "inconclusive"
        STOPPED_EARLY = "stopped_early"
        INVALID = "invalid"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=400)
    description = models.CharField(max_length=400, blank=True, null=True)
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    feature_flag = models.ForeignKey("flags.FeatureFlag", on_delete=models.PROTECT, related_name="+")
    holdout = models.ForeignKey(ExperimentHoldout, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    exposure_cohort = models.ForeignKey(
        "cohorts.Cohort", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    parameters = models.JSONField(default=dict, blank=True, null=True)
    filters = models.JSONField(default=dict, blank=True, null=True)  # legacy
    secondary_metrics = models.JSONField(default=list, blank=True, null=True)  # legacy
    metrics = models.JSONField(default=list, blank=True, null=True)
    metrics_secondary = models.JSONField(default=list, blank=True, null=True)
    primary_metrics_ordered_uuids = models.JSONField(null=True, blank=True)
    secondary_metrics_ordered_uuids = models.JSONField(null=True, blank=True)
    saved_metrics = models.ManyToManyField(ExperimentSavedMetric, through="ExperimentToSavedMetric", blank=True)
    exposure_criteria = models.JSONField(null=True, blank=True)
    stats_config = models.JSONField(null=True, blank=True)
    type = models.CharField(max_length=40, choices=Type.choices, default=Type.PRODUCT, null=True, blank=True)
    conclusion = models.CharField(max_length=30, choices=Conclusion.choices, null=True, blank=True)
    conclusion_comment = models.TextField(null=True, blank=True)
    archived = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["team", "deleted"])]

    def __str__(self) -> str:
        return self.name

    @property
    def stats_method(self) -> str:
        return (self.stats_config or {}).get("method") or "bayesian"

    @property
    def variants(self) -> list[dict]:
        return list(((self.feature_flag.filters or {}).get("multivariate") or {}).get("variants") or [])


class ExperimentToSavedMetric(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE)
    saved_metric = models.ForeignKey(ExperimentSavedMetric, on_delete=models.CASCADE)
    metadata = models.JSONField(default=dict)  # {"type": "primary" | "secondary"}
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "saved_metric"], name="unique_experiment_saved_metric")
        ]
