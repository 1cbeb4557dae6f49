"""Shapes shared by the definitions API: the nested user, the tag list, plain error bodies."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class UserBasicSerializer(serializers.Serializer):
    """PostHog's `UserBasic`."""

    id = serializers.IntegerField(help_text="User id.")
    uuid = serializers.UUIDField(help_text="User uuid.")
    distinct_id = serializers.CharField(allow_null=True, help_text="The user's own distinct id.")
    first_name = serializers.CharField(help_text="First name.")
    last_name = serializers.CharField(help_text="Last name.")
    email = serializers.CharField(help_text="Email address.")
    is_email_verified = serializers.SerializerMethodField(help_text="Whether the email is verified (unknown: null).")
    hedgehog_config = serializers.SerializerMethodField(help_text="Hedgehog settings (not stored: null).")
    role_at_organization = serializers.SerializerMethodField(help_text="Role at the organization (not stored: null).")

    def get_is_email_verified(self, user: Any) -> bool | None:
        return None

    def get_hedgehog_config(self, user: Any) -> dict[str, Any] | None:
        return None

    def get_role_at_organization(self, user: Any) -> str | None:
        return None


class TagListField(serializers.ListField):
    """Tag names: trimmed, lower-cased and de-duplicated on input."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.CharField(max_length=255, allow_blank=True))
        kwargs.setdefault("help_text", "Tag names (trimmed, lower-cased, de-duplicated).")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        values = super().to_internal_value(data)
        return list(dict.fromkeys(tagify(v) for v in values if tagify(v)))


def tagify(name: str) -> str:
    return str(name).strip().lower()


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong.")


class QueryBooleanField(serializers.BooleanField):
    """A query-string boolean whose absence means its default (DRF's form handling would read False)."""

    default_empty_html = serializers.empty
