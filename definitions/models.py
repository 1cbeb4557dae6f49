"""The project's data catalogue: event and property definitions, which events carry which properties,
schema property groups and the event schemas attaching them to events.

The enterprise field set (owner, description, verified, hidden, …) lives on the same rows (PostHog uses
a multi-table child; one table is simpler and returns the same JSON).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from posthog_clone.utils import uuid7


class EventDefinition(models.Model):
    class EnforcementMode(models.TextChoices):
        ALLOW = "allow"
        REJECT = "reject"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="event_definitions")
    name = models.CharField(max_length=400)
    created_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    enforcement_mode = models.CharField(max_length=10, choices=EnforcementMode.choices, default=EnforcementMode.ALLOW)
    primary_property = models.CharField(max_length=400, null=True, blank=True)
    schema_version = models.PositiveIntegerField(default=1)
    # Enterprise fields
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden = models.BooleanField(null=True, blank=True, default=False)
    default_columns = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="unique_event_definition_team_name")]
        indexes = [models.Index(fields=["team", "last_seen_at"])]

    def __str__(self) -> str:
        return self.name


class PropertyDefinition(models.Model):
    class Type(models.IntegerChoices):
        EVENT = 1, "event"
        PERSON = 2, "person"
        GROUP = 3, "group"
        SESSION = 4, "session"

    class PropertyType(models.TextChoices):
        DATETIME = "DateTime"
        STRING = "String"
        NUMERIC = "Numeric"
        BOOLEAN = "Boolean"
        DURATION = "Duration"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="property_definitions")
    name = models.CharField(max_length=400)
    is_numerical = models.BooleanField(default=False)
    property_type = models.CharField(max_length=50, choices=PropertyType.choices, null=True, blank=True)
    type = models.PositiveSmallIntegerField(choices=Type.choices, default=Type.EVENT)
    group_type_index = models.PositiveSmallIntegerField(null=True, blank=True)
    # Enterprise fields
    description = models.TextField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden = models.BooleanField(null=True, blank=True, default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "name", "type", "group_type_index"],
                name="unique_property_definition",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return self.name


class EventProperty(models.Model):
    """Which property names were seen with which event names."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=400)
    property = models.CharField(max_length=400)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "event", "property"], name="unique_event_property")]
