"""Feature flags: a key per project, release conditions in `filters` (PostHog's JSON shape), soft-deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class FeatureFlag(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="feature_flags")
    key = models.CharField(max_length=400)
    name = models.TextField(blank=True, default="")
    active = models.BooleanField(default=True)
    # {"groups": [{"properties": [...], "rollout_percentage": n, "variant": k}], "multivariate": {...},
    #  "payloads": {...}, "aggregation_group_type_index": n}
    filters = models.JSONField(default=dict)
    rollout_percentage = models.IntegerField(null=True, blank=True)  # legacy, folded into filters on write
    ensure_experience_continuity = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.IntegerField(default=1)
    deleted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "key"], condition=Q(deleted=False), name="unique_live_feature_flag_key_per_team"
            )
        ]
        indexes = [models.Index(fields=["team", "deleted"])]

    def __str__(self) -> str:
        return self.key


class GroupTypeMapping(models.Model):
    """Which group type (e.g. "company") sits at which index (0–4) in a project; group flags aggregate by index."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="group_type_mappings")
    group_type = models.CharField(max_length=400)
    group_type_index = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "group_type"], name="unique_group_type_per_team"),
            models.UniqueConstraint(fields=["team", "group_type_index"], name="unique_group_type_index_per_team"),
        ]

    def __str__(self) -> str:
        return f"{self.group_type_index}: {self.group_type}"
