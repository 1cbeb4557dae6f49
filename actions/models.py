"""Actions: named definitions of behaviour. An event matches an action when it matches any of its steps
(`query.actions_expr` says how); the steps are stored as one JSON list, as PostHog's."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Action(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=400, null=True, blank=True)
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    post_to_slack = models.BooleanField(default=False)
    slack_message_format = models.CharField(max_length=1200, default="", blank=True)
    steps_json = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)
    deleted = models.BooleanField(default=False)
    last_calculated_at = models.DateTimeField(null=True, blank=True)
    pinned_at = models.DateTimeField(null=True, blank=True)
    bytecode_error = models.TextField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["team", "deleted"], name="action_team_deleted")]

    def __str__(self) -> str:
        return self.name or f"Action {self.pk}"
