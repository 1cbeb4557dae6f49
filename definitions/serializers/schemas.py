"""Request and response shapes of schema property groups and event schemas (reference §4)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from definitions.models import SchemaPropertyGroup, SchemaPropertyGroupProperty
from definitions.serializers.common import UserBasicSerializer

MAX_PROPERTY_NAME_LENGTH = 200
MAX_ENUM_VALUES = 1000
LOWER_BOUNDS = ("minimum", "exclusiveMinimum")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum")


def _rules_error(message: str) -> serializers.ValidationError:
    return serializers.ValidationError({"validation_rules": message})


def _check_enum(values: Any) -> None:
    if not isinstance(values, list):
        raise _rules_error("'enum' must be a list")
    if not values:
        raise _rules_error("'enum' list must not be empty")
    if len(values) > MAX_ENUM_VALUES:
        raise _rules_error(f"'enum' list must not exceed {MAX_ENUM_VALUES} items")
    if not all(isinstance(v, str) for v in values):
        raise _rules_error("All 'enum' values must be strings")


def _check_string_rules(rules: dict[str, Any]) -> None:
    extra = set(rules) - {"enum", "not"}
    if extra:
        raise _rules_error(f"Unrecognized keys for String validation: {', '.join(sorted(extra))}")
    if "enum" in rules and "not" in rules:
        raise _rules_error("Cannot specify both 'enum' and 'not' — use one or the other")
    if "enum" not in rules and "not" not in rules:
        raise _rules_error("String validation requires either 'enum' or 'not' key")
    if "enum" in rules:
        _check_enum(rules["enum"])
        return
    negated = rules["not"]
    if not isinstance(negated, dict) or set(negated) != {"enum"}:
        raise _rules_error("'not' must contain exactly one key: 'enum'")
    _check_enum(negated["enum"])


def _check_numeric_rules(rules: dict[str, Any]) -> None:
    extra = set(rules) - {*LOWER_BOUNDS, *UPPER_BOUNDS}
    if extra:
        raise _rules_error(f"Unrecognized keys for Numeric validation: {', '.join(sorted(extra))}")
    if all(k in rules for k in LOWER_BOUNDS):
        raise _rules_error("Cannot specify both 'minimum' and 'exclusiveMinimum'")
    if all(k in rules for k in UPPER_BOUNDS):
        raise _rules_error("Cannot specify both 'maximum' and 'exclusiveMaximum'")
    for key, value in rules.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _rules_error(f"'{key}' must be a number")
    lower = next((k for k in LOWER_BOUNDS if k in rules), None)
    upper = next((k for k in UPPER_BOUNDS if k in rules), None)
    if lower and upper and rules[lower] >= rules[upper]:
        raise _rules_error(
            f"Lower bound ({lower}={rules[lower]}) must be less than upper bound ({upper}={rules[upper]})"
        )


def validate_validation_rules(property_type: str, rules: Any) -> None:
    """§4.3: rules only for String (enum / not-enum) and Numeric (JSON-Schema bounds); null or {} = none."""
    if rules is None or rules == {}:
        return
    if property_type == "String":
        if not isinstance(rules, dict):
            raise _rules_error("String validation requires either 'enum' or 'not' key")
        _check_string_rules(rules)
    elif property_type == "Numeric":
        if not isinstance(rules, dict):
            raise _rules_error("Unrecognized keys for Numeric validation: " + str(rules))
        _check_numeric_rules(rules)
    else:
        raise _rules_error(f"Validation rules are not supported for {property_type} properties")


class SchemaPropertySerializer(serializers.ModelSerializer):
    """One property of a group. On update, an `id` of an existing property updates it in place."""

    id = serializers.UUIDField(required=False, help_text="Existing property id (update in place); omit to create.")
    name = serializers.CharField(max_length=400, allow_blank=True, trim_whitespace=False, help_text="Property name.")
    property_type = serializers.ChoiceField(
        choices=SchemaPropertyGroupProperty.PropertyType.choices,
        help_text="DateTime, String, Numeric, Boolean, Object.",
    )
    is_required = serializers.BooleanField(required=False, default=False, help_text="Must be present (enforced).")
    is_optional_in_types = serializers.BooleanField(
        required=False, default=False, help_text="Optional in generated TypeScript even when required."
    )
    validation_rules = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text="String enum/not-enum or Numeric bounds."
    )
    description = serializers.CharField(required=False, allow_blank=True, default="", help_text="Description.")

    class Meta:
        model = SchemaPropertyGroupProperty
        fields = [
            "id",
            "name",
            "property_type",
            "is_required",
            "is_optional_in_types",
            "validation_rules",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_name(self, value: str) -> str:
        if not value or not value.strip():
            raise serializers.ValidationError("Property name is required")
        value = value.strip()
        if len(value) > MAX_PROPERTY_NAME_LENGTH:
            raise serializers.ValidationError(f"Property name must be {MAX_PROPERTY_NAME_LENGTH} characters or less")
        return value


class EventBasicSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Event definition id.")
    name = serializers.CharField(help_text="Event name.")


class SchemaPropertyGroupSerializer(serializers.ModelSerializer):
    properties = SchemaPropertySerializer(many=True, help_text="The group's properties, by name.")
    events = serializers.SerializerMethodField(help_text="Event definitions the group is attached to.")
    created_by = UserBasicSerializer(read_only=True, allow_null=True, help_text="Who created the group.")

    class Meta:
        model = SchemaPropertyGroup
        fields = ["id", "name", "description", "properties", "events", "created_at", "updated_at", "created_by"]
        read_only_fields = fields

    def get_events(self, group: SchemaPropertyGroup) -> list[dict[str, Any]]:
        definitions = sorted((s.event_definition for s in group.event_schemas.all()), key=lambda d: d.name.lower())
        return [{"id": str(d.pk), "name": d.name} for d in definitions]


class SchemaPropertyGroupInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=400, help_text="Group name, unique in the project.")
    description = serializers.CharField(required=False, allow_blank=True, help_text="Description.")
    properties = SchemaPropertySerializer(
        many=True, required=False, help_text="Whole list: properties missing from it are deleted on update."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        seen: set[str] = set()
        for prop in attrs.get("properties") or []:
            validate_validation_rules(prop["property_type"], prop.get("validation_rules"))
            if prop["name"] in seen:
                raise serializers.ValidationError(
                    {"properties": f"A property named '{prop['name']}' already exists in this group"}
                )
            seen.add(prop["name"])
        return attrs


class SchemaPropertyGroupPatchSerializer(SchemaPropertyGroupInputSerializer):
    name = serializers.CharField(max_length=400, required=False, help_text="Group name, unique in the project.")


class EventSchemaSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True, help_text="Event schema id.")
    event_definition = serializers.UUIDField(source="event_definition_id", help_text="Event definition id.")
    property_group = SchemaPropertyGroupSerializer(read_only=True, help_text="The attached group with its properties.")
    created_at = serializers.DateTimeField(read_only=True, help_text="When attached.")
    updated_at = serializers.DateTimeField(read_only=True, help_text="Last change.")


class EventSchemaInputSerializer(serializers.Serializer):
    event_definition = serializers.UUIDField(help_text="Event definition id (same project).")
    property_group_id = serializers.UUIDField(help_text="Schema property group id (same project).")


class EventSchemaPatchSerializer(serializers.Serializer):
    event_definition = serializers.UUIDField(required=False, help_text="Event definition id (same project).")
    property_group_id = serializers.UUIDField(required=False, help_text="Schema property group id (same project).")


class EventSchemaListQuerySerializer(serializers.Serializer):
    event_definition = serializers.UUIDField(required=False, help_text="Only schemas of this event definition.")
    limit = serializers.IntegerField(required=False, min_value=1, help_text="Page size (default 100).")
    offset = serializers.IntegerField(required=False, min_value=0, help_text="Rows to skip.")


class PageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, help_text="Page size (default 100).")
    offset = serializers.IntegerField(required=False, min_value=0, help_text="Rows to skip.")
