"""Cohorts: named groups of people. Static ones list their members (Postgres `CohortPeople` for flags,
ClickHouse `person_static_cohort` for queries); dynamic ones are `filters` (person properties, behaviour,
other cohorts) whose members a calculation writes to ClickHouse `cohortpeople` at a new `version`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Cohort(models.Model):
    class Type(models.TextChoices):
        STATIC = "static"
        PERSON_PROPERTY = "person_property"
        BEHAVIORAL = "behavioral"
        REALTIME = "realtime"
        ANALYTICAL = "analytical"

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=400, null=True, blank=True)
    description = models.CharField(max_length=1000, blank=True, default="")
    deleted = models.BooleanField(default=False)
    filters = models.JSONField(null=True, blank=True)  # {"properties": <property group>}
    query = models.JSONField(null=True, blank=True)  # static cohorts made from an ActorsQuery / HogQLQuery
    groups = models.JSONField(default=list, blank=True)  # legacy shape, converted to filters on read
    is_static = models.BooleanField(default=False)
    cohort_type = models.CharField(max_length=20, choices=Type.choices, null=True, blank=True)

    # calculation state
    is_calculating = models.BooleanField(default=False)
    last_calculation = models.DateTimeField(null=True, blank=True)
    errors_calculating = models.IntegerField(default=0)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(null=True, blank=True)
    count = models.IntegerField(null=True, blank=True)
    version = models.IntegerField(null=True, blank=True)  # the calculation readers use
    pending_version = models.IntegerField(null=True, blank=True)  # the newest calculation started

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["team", "deleted"], name="cohort_team_deleted")]

    def __str__(self) -> str:
        return self.name or f"Cohort {self.pk}"


class CohortPeople(models.Model):
    """Members of static cohorts, for feature flags (which read Postgres, not ClickHouse)."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="people")
    person = models.ForeignKey("persons.Person", on_delete=models.CASCADE, related_name="+")
    version = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "person"], name="cohortpeople_unique")]


class CohortCalculation(models.Model):
    """One calculation run (`calculation_history`): when, how long, how many members, or the error."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="calculations")
    version = models.IntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    count = models.IntegerField(null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    trigger = models.CharField(max_length=20, default="edit")  # edit | schedule | manual
    filters = models.JSONField(null=True, blank=True)  # the definition this run calculated
    query = models.TextField(null=True, blank=True)  # the HogQL that chose the members

    class Meta:
        indexes = [models.Index(fields=["cohort", "-started_at"], name="cohortcalc_cohort_started")]

    @property
    def duration_seconds(self) -> float | None:
        return None if self.finished_at is None else (self.finished_at - self.started_at).total_seconds()
