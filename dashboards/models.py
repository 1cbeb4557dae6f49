"""Dashboards, their tiles (an insight or a text card with a grid layout, colour and own filters), text
cards, and sharing configurations (an unguessable token giving read-only access without a key).

The tile owns the dashboard↔insight relation (`DashboardTile.insight`, reverse `insight.dashboard_tiles`): the
insights app reads it without importing this one. Nothing is hard-deleted: dashboards and tiles have
`deleted`."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

RESTRICTION_EVERYONE_EDITS = 21
RESTRICTION_COLLABORATORS_EDIT = 37


class Dashboard(models.Model):
    class CreationMode(models.TextChoices):
        DEFAULT = "default"
        TEMPLATE = "template"
        DUPLICATE = "duplicate"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=400, null=True, blank=True)
    description = models.TextField(blank=True, default="")
    pinned = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_accessed_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    creation_mode = models.CharField(max_length=16, choices=CreationMode.choices, default=CreationMode.DEFAULT)
    filters = models.JSONField(default=dict, blank=True)
    variables = models.JSONField(default=dict, blank=True, null=True)
    breakdown_colors = models.JSONField(default=list, blank=True, null=True)
    data_color_theme_id = models.IntegerField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    restriction_level = models.PositiveSmallIntegerField(default=RESTRICTION_EVERYONE_EDITS)

    class Meta:
        indexes = [models.Index(fields=["team", "deleted"], name="dashboard_team_deleted")]

    def __str__(self) -> str:
        return self.name or f"Dashboard {self.pk}"


class Text(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    body = models.CharField(max_length=4000, blank=True, null=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_modified_at = models.DateTimeField(default=timezone.now)
    last_modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class DashboardTile(models.Model):
    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="tiles")
    insight = models.ForeignKey(
        "insights.Insight", null=True, blank=True, on_delete=models.CASCADE, related_name="dashboard_tiles"
    )
    text = models.ForeignKey(Text, null=True, blank=True, on_delete=models.CASCADE, related_name="dashboard_tiles")
    layouts = models.JSONField(default=dict, blank=True)
    color = models.CharField(max_length=400, null=True, blank=True)
    filters_overrides = models.JSONField(default=dict, blank=True, null=True)
    show_description = models.BooleanField(null=True, blank=True)
    transparent_background = models.BooleanField(null=True, blank=True)
    deleted = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["dashboard", "deleted"], name="tile_dashboard_deleted")]


def generate_access_token() -> str:
    return secrets.token_urlsafe(22)


class SharingConfiguration(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    dashboard = models.ForeignKey(Dashboard, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    insight = models.ForeignKey("insights.Insight", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(default=False)
    access_token = models.CharField(max_length=400, unique=True, default=generate_access_token)
    settings = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
