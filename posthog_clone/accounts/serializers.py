"""Response shapes for whoami, projects and organizations (PostHog's field names)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from posthog_clone.accounts.models import Organization, OrganizationMembership, Team, User
from posthog_clone.accounts.replay_settings import REPLAY_FIELDS, ReplaySettingsFields
from posthog_clone.properties import QUERY_PROPERTY_OPERATORS


class TeamBasicSerializer(serializers.ModelSerializer):
    organization = serializers.UUIDField(source="organization_id", read_only=True, help_text="Organization id.")
    project_id = serializers.IntegerField(read_only=True, help_text="Project id (equal to the team id).")
    api_token = serializers.CharField(read_only=True, help_text="Project API key (phc_…) used by SDKs to send events.")
    is_demo = serializers.SerializerMethodField(help_text="Always false.")

    class Meta:
        model = Team
        fields = [
            "id",
            "uuid",
            "organization",
            "project_id",
            "api_token",
            "name",
            "ingested_event",
            "is_demo",
            "timezone",
        ]
        read_only_fields = fields

    def get_is_demo(self, obj: Team) -> bool:
        return False


class TeamSerializer(ReplaySettingsFields, TeamBasicSerializer):
    created_at = serializers.DateTimeField(read_only=True)

    class Meta(TeamBasicSerializer.Meta):
        fields = [
            *TeamBasicSerializer.Meta.fields,
            "created_at",
            "anonymize_ips",
            "week_start_day",
            "test_account_filters",
            *REPLAY_FIELDS,
        ]
        read_only_fields = fields


_TEST_ACCOUNT_FILTER_TYPES = ("event", "person", "element", "hogql", "session", "cohort", "group")


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise serializers.ValidationError(f'"{value}" is not a valid choice.') from None
    return value


class TeamUpdateSerializer(ReplaySettingsFields, serializers.ModelSerializer):
    """The project settings `PATCH /api/projects/:id/` changes; the rest of the project is read-only here."""

    timezone = serializers.CharField(required=False, max_length=240, help_text="IANA timezone, e.g. Europe/Paris.")
    week_start_day = serializers.ChoiceField(
        choices=[0, 1], required=False, allow_null=True, help_text="0 or null: weeks start Sunday; 1: Monday."
    )
    test_account_filters = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Property filters `filterTestAccounts: true` ANDs onto insights (e.g. person email "
        "not_icontains @yourco.com).",
    )

    class Meta:
        model = Team
        fields = ["name", "timezone", "week_start_day", "test_account_filters", "anonymize_ips", *REPLAY_FIELDS]
        extra_kwargs = {"name": {"required": False}, "anonymize_ips": {"required": False}}

    def validate_timezone(self, value: str) -> str:
        return _zone_name(value)

    def validate_test_account_filters(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in value:
            kind = item.get("type") or "event"
            if kind not in _TEST_ACCOUNT_FILTER_TYPES:
                raise serializers.ValidationError(f"Unknown property filter type: {kind}")
            if kind not in ("hogql", "cohort") and not isinstance(item.get("key"), str):
                raise serializers.ValidationError("Each filter needs a key")
            operator = item.get("operator")
            if operator is not None and operator not in QUERY_PROPERTY_OPERATORS:
                raise serializers.ValidationError(f"Unknown operator: {operator}")
        return value


class OrganizationBasicSerializer(serializers.ModelSerializer):
    membership_level = serializers.SerializerMethodField(help_text="1 member, 8 admin, 15 owner.")

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "membership_level", "members_can_use_personal_api_keys"]
        read_only_fields = fields

    def get_membership_level(self, obj: Organization) -> int | None:
        user = self.context.get("user")
        membership = OrganizationMembership.objects.filter(organization=obj, user=user).first() if user else None
        return membership.level if membership else None


class OrganizationSerializer(OrganizationBasicSerializer):
    teams = TeamBasicSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    class Meta(OrganizationBasicSerializer.Meta):
        fields = [*OrganizationBasicSerializer.Meta.fields, "created_at", "teams"]
        read_only_fields = fields


class UserBasicSerializer(serializers.Serializer):
    """PostHog's `UserBasic`: the nested user of `created_by`, `owner`, `updated_by`…"""

    id = serializers.IntegerField(read_only=True, help_text="User id.")
    uuid = serializers.UUIDField(read_only=True, help_text="User uuid.")
    distinct_id = serializers.CharField(read_only=True, allow_null=True, help_text="The user's own distinct id.")
    first_name = serializers.CharField(read_only=True, help_text="First name.")
    last_name = serializers.CharField(read_only=True, help_text="Last name.")
    email = serializers.CharField(read_only=True, help_text="Email address.")
    is_email_verified = serializers.SerializerMethodField(help_text="Whether the email is verified (unknown: null).")
    hedgehog_config = serializers.SerializerMethodField(help_text="Hedgehog settings (not stored: null).")
    role_at_organization = serializers.SerializerMethodField(help_text="Role at the organization (not stored: null).")

    def get_is_email_verified(self, user: Any) -> bool | None:
        return None

    def get_hedgehog_config(self, user: Any) -> dict[str, Any] | None:
        return None

    def get_role_at_organization(self, user: Any) -> str | None:
        return None


class MeSerializer(serializers.ModelSerializer):
    team = TeamBasicSerializer(source="current_team", read_only=True, allow_null=True)
    organization = OrganizationSerializer(source="current_organization", read_only=True, allow_null=True)
    organizations = serializers.SerializerMethodField(help_text="Organizations the user belongs to.")
    scopes = serializers.SerializerMethodField(help_text="Scopes of the personal API key used, or ['*'] for sessions.")
    is_email_verified = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "uuid",
            "distinct_id",
            "first_name",
            "last_name",
            "email",
            "is_email_verified",
            "is_staff",
            "date_joined",
            "team",
            "organization",
            "organizations",
            "scopes",
        ]
        read_only_fields = fields

    @extend_schema_field(OrganizationBasicSerializer(many=True))
    def get_organizations(self, obj: User) -> list[dict]:
        orgs = Organization.objects.filter(memberships__user=obj).order_by("created_at")
        return OrganizationBasicSerializer(orgs, many=True, context=self.context).data

    def get_scopes(self, obj: User) -> list[str]:
        key = self.context.get("key")
        if key is None:
            return ["*"]
        return list(key.scopes or ["*"])

    def get_is_email_verified(self, obj: User) -> bool:
        return True
