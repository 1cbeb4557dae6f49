"""Writes on feature flags: create, update (version bump), soft delete."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework import serializers

from flags.models import FeatureFlag
from posthog_clone.accounts.models import Team, User

DUPLICATE_KEY = "There is already a feature flag with this key."


def _filters_from(data: dict[str, Any]) -> dict[str, Any] | None:
    """`filters` as given, else a single condition built from the legacy top-level `rollout_percentage`."""
    if data.get("filters") is not None:
        return data["filters"]
    if "rollout_percentage" in data:
        return {"groups": [{"properties": [], "rollout_percentage": data["rollout_percentage"]}]}
    return None


def _check_key_free(*, team: Team, key: str, exclude_id: int | None = None) -> None:
    clash = FeatureFlag.objects.filter(team=team, key=key, deleted=False)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise serializers.ValidationError({"key": [serializers.ErrorDetail(DUPLICATE_KEY, code="unique")]})


def feature_flag_create(*, team: Team, user: User | None, data: dict[str, Any]) -> FeatureFlag:
    filters = _filters_from(data) or {"groups": []}
    with transaction.atomic():
        _check_key_free(team=team, key=data["key"])
        try:
            flag = FeatureFlag(
                team=team,
                key=data["key"],
                name=data.get("name", ""),
                active=data.get("active", True),
                filters=filters,
                ensure_experience_continuity=data.get("ensure_experience_continuity", False),
                deleted=data.get("deleted", False),
                created_by=user,
                version=1,
            )
            if data.get("_create_in_folder"):
                flag._create_in_folder = data["_create_in_folder"]  # read by the file-system sync on save
            flag.save()
            return flag
        except IntegrityError:  # a concurrent create won the race for the key
            raise serializers.ValidationError(
                {"key": [serializers.ErrorDetail(DUPLICATE_KEY, code="unique")]}
            ) from None


def feature_flag_update(*, flag: FeatureFlag, data: dict[str, Any]) -> FeatureFlag:
    changes: dict[str, Any] = {
        name: data[name]
        for name in ("key", "name", "active", "ensure_experience_continuity", "deleted")
        if name in data
    }
    filters = _filters_from(data)
    if filters is not None:
        changes["filters"] = filters
    with transaction.atomic():
        if "key" in changes and not changes.get("deleted", flag.deleted):
            _check_key_free(team=flag.team, key=changes["key"], exclude_id=flag.pk)
        for name, value in changes.items():
            setattr(flag, name, value)
        flag.version = F("version") + 1
        try:
            flag.save()
        except IntegrityError:
            raise serializers.ValidationError(
                {"key": [serializers.ErrorDetail(DUPLICATE_KEY, code="unique")]}
            ) from None
    flag.refresh_from_db()
    return flag


def feature_flag_delete(*, flag: FeatureFlag) -> None:
    """Soft delete: the row stays (deleted=true) and its key becomes free again."""
    feature_flag_update(flag=flag, data={"deleted": True})
