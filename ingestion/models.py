"""Ingestion warnings and dead letters."""

from __future__ import annotations

from django.db import models


class IngestionWarning(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=100)
    source = models.CharField(max_length=100, default="ingestion")
    details = models.JSONField(default=dict)
    timestamp = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["team", "timestamp"])]


class DeadLetter(models.Model):
    """Events that could never be written; listed and replayed by `manage.py dead_letters`."""

    team_id = models.BigIntegerField(null=True)
    payload = models.JSONField()
    error = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
