"""Surveys: questions posthog-js shows on a page (or an API/external survey), with their display conditions and
appearance; up to three feature flags decide who sees one (replay_surveys_experiments.md §2)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Survey(models.Model):
    class Type(models.TextChoices):
        POPOVER = "popover"
        WIDGET = "widget"
        API = "api"
        EXTERNAL_SURVEY = "external_survey"
        WEB = "web"

    class Schedule(models.TextChoices):
        ONCE = "once"
        RECURRING = "recurring"
        ALWAYS = "always"

    class SamplingInterval(models.TextChoices):
        DAY = "day"
        WEEK = "week"
        MONTH = "month"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=400)
    description = models.TextField(blank=True, default="")
    type = models.CharField(max_length=40, choices=Type.choices)
    schedule = models.CharField(max_length=40, choices=Schedule.choices, default=Schedule.ONCE, null=True)
    linked_flag = models.ForeignKey(
        "flags.FeatureFlag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    targeting_flag = models.ForeignKey(
        "flags.FeatureFlag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    internal_targeting_flag = models.ForeignKey(
        "flags.FeatureFlag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    internal_response_sampling_flag = models.ForeignKey(
        "flags.FeatureFlag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    questions = models.JSONField(null=True, blank=True)
    conditions = models.JSONField(null=True, blank=True)
    appearance = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)
    archived = models.BooleanField(default=False)
    responses_limit = models.PositiveIntegerField(null=True, blank=True)
    iteration_count = models.PositiveIntegerField(null=True, blank=True)
    iteration_frequency_days = models.PositiveIntegerField(null=True, blank=True)
    iteration_start_dates = models.JSONField(null=True, blank=True)
    current_iteration = models.PositiveIntegerField(null=True, blank=True)
    current_iteration_start_date = models.DateTimeField(null=True, blank=True)
    response_sampling_start_date = models.DateTimeField(null=True, blank=True)
    response_sampling_interval_type = models.CharField(
        max_length=10, choices=SamplingInterval.choices, default=SamplingInterval.WEEK, null=True, blank=True
    )
    response_sampling_interval = models.PositiveIntegerField(null=True, blank=True)
    response_sampling_limit = models.PositiveIntegerField(null=True, blank=True)
    response_sampling_daily_limits = models.JSONField(null=True, blank=True)
    enable_partial_responses = models.BooleanField(default=False, null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="unique_survey_name_per_team")]
        indexes = [models.Index(fields=["team", "archived"], name="survey_team_archived")]

    def __str__(self) -> str:
        return self.name

    @property
    def running(self) -> bool:
        """PostHog's rule (and posthog-js's): started and not stopped."""
        return self.start_date is not None and self.end_date is None
