"""Shapes shared by the definitions API: the nested user, the tag list, plain error bodies."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from posthog_clone.accounts.serializers import UserBasicSerializer as UserBasicSerializer  # re-exported


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
