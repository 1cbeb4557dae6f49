"""Annotations: a note pinned to a moment (`date_marker`) on charts. `scope` says where it shows: one insight
(`dashboard_item`), one dashboard, the project, or every project of the organization."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Annotation(models.Model):
    class Scope(models.TextChoices):
        INSIGHT = "dashboard_item"
        DASHBOARD = "dashboard"
        PROJECT = "project"
        ORGANIZATION = "organization"
        RECORDING = "recording"

    class CreationType(models.TextChoices):
        USER = "USR"
        GITHUB = "GIT"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    content = models.CharField(max_length=400, null=True, blank=True)
    date_marker = models.DateTimeField(null=True, blank=True)
    creation_type = models.CharField(max_length=3, choices=CreationType.choices, default=CreationType.USER)
    scope = models.CharField(max_length=24, choices=Scope.choices, default=Scope.INSIGHT)
    dashboard_item = models.ForeignKey(
        "insights.Insight", null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    dashboard = models.ForeignKey(
        "dashboards.Dashboard", null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    deleted = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["team", "deleted"], name="annotation_team_deleted"),
            models.Index(fields=["organization", "scope"], name="annotation_org_scope"),
        ]
