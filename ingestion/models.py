"""Persons and their distinct ids (the source of truth, mirrored to ClickHouse), ingestion warnings and
dead letters."""

from __future__ import annotations

from django.db import models

from posthog_clone.utils import uuid7


class Person(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="persons")
    uuid = models.UUIDField(default=uuid7, unique=True, editable=False)
    properties = models.JSONField(default=dict)
    is_identified = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    version = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["team", "created_at"])]


class PersonDistinctId(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="distinct_ids")
    distinct_id = models.CharField(max_length=400)
    version = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "distinct_id"], name="unique_distinct_id_per_team")]


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
