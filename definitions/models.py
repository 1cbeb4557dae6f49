"""The project's data catalogue: event and property definitions, which events carry which properties,
schema property groups and the event schemas attaching them to events.

The enterprise field set (owner, description, verified, hidden, …) lives on the same rows (PostHog uses
a multi-table child; one table is simpler and returns the same JSON).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce

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

    @property
    def tag_names(self) -> list[str]:
        """Tag names, from the `tagged_items__tag` prefetch when present."""
        return sorted(item.tag.name for item in self.tagged_items.all())


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
            # one definition per (team, name, type, group type), a missing group type counting as one value:
            # the index is on COALESCE(group_type_index, -1) rather than NULLS NOT DISTINCT, which SQLite lacks
            models.UniqueConstraint(
                "team",
                "name",
                "type",
                Coalesce("group_type_index", models.Value(-1), output_field=models.IntegerField()),
                name="unique_property_definition",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tag_names(self) -> list[str]:
        """Tag names, from the `tagged_items__tag` prefetch when present."""
        return sorted(item.tag.name for item in self.tagged_items.all())


class EventProperty(models.Model):
    """Which property names were seen with which event names."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=400)
    property = models.CharField(max_length=400)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "event", "property"], name="unique_event_property")]


class Tag(models.Model):
    """A project's tag name (lower-cased, trimmed); garbage-collected when nothing carries it."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="unique_tag_team_name")]

    def __str__(self) -> str:
        return self.name


class TaggedItem(models.Model):
    """Joins a tag to exactly one event or property definition."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="tagged_items")
    event_definition = models.ForeignKey(
        EventDefinition, null=True, blank=True, on_delete=models.CASCADE, related_name="tagged_items"
    )
    property_definition = models.ForeignKey(
        PropertyDefinition, null=True, blank=True, on_delete=models.CASCADE, related_name="tagged_items"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tag", "event_definition"], name="unique_tagged_event_definition"),
            models.UniqueConstraint(fields=["tag", "property_definition"], name="unique_tagged_property_definition"),
        ]


class SchemaPropertyGroup(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="schema_property_groups")
    name = models.CharField(max_length=400)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="unique_schema_property_group_team_name")]

    def __str__(self) -> str:
        return self.name


class SchemaPropertyGroupProperty(models.Model):
    class PropertyType(models.TextChoices):
        DATETIME = "DateTime"
        STRING = "String"
        NUMERIC = "Numeric"
        BOOLEAN = "Boolean"
        OBJECT = "Object"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    property_group = models.ForeignKey(SchemaPropertyGroup, on_delete=models.CASCADE, related_name="properties")
    name = models.CharField(max_length=400)
    property_type = models.CharField(max_length=50, choices=PropertyType.choices)
    is_required = models.BooleanField(default=False)
    is_optional_in_types = models.BooleanField(default=False)
    validation_rules = models.JSONField(null=True, blank=True)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["property_group", "name"], name="unique_property_group_property_name")
        ]

    def __str__(self) -> str:
        return self.name


class EventSchema(models.Model):
    """Attaches a property group to an event definition (many-to-many, unique per pair)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    event_definition = models.ForeignKey(EventDefinition, on_delete=models.CASCADE, related_name="schemas")
    property_group = models.ForeignKey(SchemaPropertyGroup, on_delete=models.CASCADE, related_name="event_schemas")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_definition", "property_group"], name="unique_event_schema")
        ]


class ActivityLog(models.Model):
    """Who changed which definition, group or schema, when, with per-field before/after."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    organization_id = models.UUIDField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    was_impersonated = models.BooleanField(default=False)
    is_system = models.BooleanField(default=False)
    activity = models.CharField(max_length=79)
    item_id = models.CharField(max_length=72, null=True, blank=True)
    scope = models.CharField(max_length=79)
    detail = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["team", "scope", "item_id"]), models.Index(fields=["team", "-created_at"])]
