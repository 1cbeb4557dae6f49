"""Persons and their distinct ids: the source of truth, mirrored to ClickHouse by ``persons.ingestion`` (and
tombstoned there by ``persons.services``).

The tables keep the names they had when the models lived in the ingestion app (``ingestion_person``,
``ingestion_persondistinctid``): the move changed only Django's state, not the database.
"""

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
        db_table = "ingestion_person"
        indexes = [models.Index(fields=["team", "created_at"])]


class PersonDistinctId(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="distinct_ids")
    distinct_id = models.CharField(max_length=400)
    version = models.BigIntegerField(default=0)

    class Meta:
        db_table = "ingestion_persondistinctid"
        constraints = [models.UniqueConstraint(fields=["team", "distinct_id"], name="unique_distinct_id_per_team")]
