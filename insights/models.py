"""Saved insights: a named query node (`InsightVizNode`, `DataTableNode`, `DataVisualizationNode` or a bare
`HogQLQuery`) whose results come from the query service's cache. Never hard-deleted (`deleted`).

`short_id` is the 8-character public id of app URLs. `last_modified_at/by` move only when a material field
(name, derived_name, description, query, filters) changes; `updated_at` moves on every save. Insights sit on
dashboards through the dashboards app's tiles (`dashboard_tiles`, the reverse relation), which this app reads
but never imports."""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models
from django.utils import timezone

SHORT_ID_ALPHABET = string.ascii_letters + string.digits
MATERIAL_FIELDS = ("name", "derived_name", "description", "query", "filters")


def generate_short_id() -> str:
    return "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(8))


class Insight(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    short_id = models.CharField(max_length=12, default=generate_short_id, blank=True)
    name = models.CharField(max_length=400, null=True, blank=True)
    derived_name = models.CharField(max_length=400, null=True, blank=True)
    description = models.CharField(max_length=400, null=True, blank=True)
    query = models.JSONField(null=True, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    order = models.IntegerField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    saved = models.BooleanField(default=False)
    favorited = models.BooleanField(default=False)
    tags = models.JSONField(default=list, blank=True)
    is_sample = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    last_modified_at = models.DateTimeField(default=timezone.now)
    last_modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "short_id"], name="insight_unique_short_id")]
        indexes = [models.Index(fields=["team", "deleted"], name="insight_team_deleted")]

    def __str__(self) -> str:
        return self.name or self.derived_name or self.short_id
